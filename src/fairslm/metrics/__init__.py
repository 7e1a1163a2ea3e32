"""Pure functions of a :class:`CountTable`: rates, disparities, intervals and tests.

This package imports no other fairslm package and does no I/O.
"""

from fairslm.metrics._bootstrap import (
    BOOTSTRAP_METHODS,
    bootstrap_method,
    bootstrap_tables,
    percentile_interval,
)
from fairslm.metrics._disparity import (
    CRITERIA,
    REFERENCE_MODES,
    DisparityArrays,
    DisparityBatch,
    disparity,
    disparity_batch,
    fold_ratio,
)
from fairslm.metrics._multiclass import class_tpr, rms_tpr_gap
from fairslm.metrics._rates import BINARY_METRICS, compute_rates, undefined_reason
from fairslm.metrics._scores import SCORE_METRICS, expected_calibration_error, roc_auc_from_bins
from fairslm.metrics._significance import (
    PROPORTIONS,
    holm,
    proportion_parts,
    two_proportion_test,
    two_proportion_tests,
)
from fairslm.metrics._table import CountTable

__all__ = [
    "BINARY_METRICS",
    "BOOTSTRAP_METHODS",
    "CRITERIA",
    "CountTable",
    "DisparityArrays",
    "DisparityBatch",
    "PROPORTIONS",
    "REFERENCE_MODES",
    "SCORE_METRICS",
    "bootstrap_method",
    "bootstrap_tables",
    "class_tpr",
    "compute_rates",
    "disparity",
    "disparity_batch",
    "expected_calibration_error",
    "fold_ratio",
    "holm",
    "percentile_interval",
    "proportion_parts",
    "rms_tpr_gap",
    "roc_auc_from_bins",
    "two_proportion_test",
    "two_proportion_tests",
    "undefined_reason",
]
