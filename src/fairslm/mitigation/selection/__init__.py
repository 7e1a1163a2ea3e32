"""Model selection under a fairness target, Pareto fronts and model comparison."""

from fairslm.mitigation.selection._compare import (
    COMPARISON_KIND,
    COMPARISON_SCHEMA_VERSION,
    ComparisonResult,
    ComparisonRow,
    compare,
)
from fairslm.mitigation.selection._files import compare_files, load_for_comparison
from fairslm.mitigation.selection._paired import PairedDifference, paired_differences
from fairslm.mitigation.selection._pareto import Selection, pareto_front, select_most_accurate

__all__ = [
    "COMPARISON_KIND",
    "COMPARISON_SCHEMA_VERSION",
    "ComparisonResult",
    "ComparisonRow",
    "PairedDifference",
    "Selection",
    "compare",
    "compare_files",
    "load_for_comparison",
    "paired_differences",
    "pareto_front",
    "select_most_accurate",
]
