"""Pure functions of a :class:`CountTable`: rates, disparities, intervals and tests.

This package imports no other fairslm package and does no I/O.
"""

from fairslm.metrics._adverse_impact import (
    below_threshold,
    fisher_exact_tests,
    impact_ratios,
    one_person_sensitivity,
    shortfall_to_threshold,
    two_proportion_z,
)
from fairslm.metrics._bootstrap import (
    BOOTSTRAP_METHODS,
    bootstrap_method,
    bootstrap_tables,
    percentile_interval,
)
from fairslm.metrics._disparity import (
    CRITERIA,
    FOUR_FIFTHS,
    MIN_GROUP_SIZE,
    REFERENCE_MODES,
    DisparityArrays,
    DisparityBatch,
    disparity,
    disparity_batch,
    fold_ratio,
)
from fairslm.metrics._intervals import (
    mover_ratio_interval,
    newcombe_difference_interval,
    proportion_counts,
    wilson_interval,
)
from fairslm.metrics._multiclass import class_tpr, rms_tpr_gap
from fairslm.metrics._rates import (
    BINARY_METRICS,
    LOWER_IS_BETTER,
    compute_rates,
    undefined_reason,
)
from fairslm.metrics._score_stats import (
    coarse_histogram,
    score_moments,
    standardized_mean_difference,
    threshold_confusion,
    threshold_indices,
)
from fairslm.metrics._scores import SCORE_METRICS, expected_calibration_error, roc_auc_from_bins
from fairslm.metrics._seeds import SeedInterval, seed_interval
from fairslm.metrics._significance import (
    PROPORTIONS,
    fisher_exact_p,
    holm,
    proportion_parts,
    two_proportion_test,
    two_proportion_tests,
)
from fairslm.metrics._table import CountTable

__all__ = [
    "BINARY_METRICS",
    "LOWER_IS_BETTER",
    "BOOTSTRAP_METHODS",
    "CRITERIA",
    "CountTable",
    "DisparityArrays",
    "DisparityBatch",
    "FOUR_FIFTHS",
    "MIN_GROUP_SIZE",
    "PROPORTIONS",
    "REFERENCE_MODES",
    "SCORE_METRICS",
    "below_threshold",
    "SeedInterval",
    "bootstrap_method",
    "bootstrap_tables",
    "class_tpr",
    "coarse_histogram",
    "compute_rates",
    "disparity",
    "disparity_batch",
    "expected_calibration_error",
    "fisher_exact_p",
    "fisher_exact_tests",
    "fold_ratio",
    "holm",
    "impact_ratios",
    "one_person_sensitivity",
    "mover_ratio_interval",
    "newcombe_difference_interval",
    "percentile_interval",
    "proportion_counts",
    "proportion_parts",
    "rms_tpr_gap",
    "roc_auc_from_bins",
    "score_moments",
    "seed_interval",
    "shortfall_to_threshold",
    "standardized_mean_difference",
    "threshold_confusion",
    "threshold_indices",
    "two_proportion_test",
    "two_proportion_tests",
    "two_proportion_z",
    "undefined_reason",
    "wilson_interval",
]
