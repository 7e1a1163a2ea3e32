"""Model comparison: several models audited on the same data, paired differences, the
accuracy-fairness Pareto front and the most accurate model meeting a fairness target."""

from fairslm.mitigation.comparison._compare import (
    COMPARISON_KIND,
    COMPARISON_SCHEMA_VERSION,
    ComparisonResult,
    ComparisonRow,
    compare,
)
from fairslm.mitigation.comparison._files import compare_files, load_for_comparison
from fairslm.mitigation.comparison._paired import PairedDifference, paired_differences
from fairslm.mitigation.comparison._pareto import ModelSelection, pareto_front, select_most_accurate

__all__ = [
    "COMPARISON_KIND",
    "COMPARISON_SCHEMA_VERSION",
    "ComparisonResult",
    "ComparisonRow",
    "ModelSelection",
    "PairedDifference",
    "compare",
    "compare_files",
    "load_for_comparison",
    "paired_differences",
    "pareto_front",
    "select_most_accurate",
]
