"""Pure functions of a :class:`CountTable`: rates, disparities, intervals and tests.

This package imports no other fairslm package and does no I/O.
"""

from fairslm.metrics._disparity import (
    CRITERIA,
    REFERENCE_MODES,
    DisparityArrays,
    disparity,
    fold_ratio,
)
from fairslm.metrics._rates import BINARY_METRICS, compute_rates, undefined_reason
from fairslm.metrics._table import CountTable

__all__ = [
    "BINARY_METRICS",
    "CRITERIA",
    "CountTable",
    "DisparityArrays",
    "REFERENCE_MODES",
    "compute_rates",
    "disparity",
    "fold_ratio",
    "undefined_reason",
]
