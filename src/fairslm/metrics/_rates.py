"""Per-group rates from a binary confusion table.

Every function here is a pure function of an array ``conf`` of shape ``(n_groups, 2, 2)`` indexed
``[group, y_true, y_pred]`` where index 1 is the positive class. Entries are counts or sums of
sample weights. Rates that divide by zero are NaN; :func:`undefined_reason` says why.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BINARY_METRICS",
    "LOWER_IS_BETTER",
    "compute_rates",
    "undefined_reason",
]

Array = NDArray[np.float64]


def _div(num: Array, den: Array) -> Array:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _parts(conf: Array) -> tuple[Array, Array, Array, Array]:
    tn = conf[..., 0, 0]
    fp = conf[..., 0, 1]
    fn = conf[..., 1, 0]
    tp = conf[..., 1, 1]
    return tp, fp, fn, tn


def _selection_rate(c: Array) -> Array:
    tp, fp, fn, tn = _parts(c)
    return _div(tp + fp, tp + fp + fn + tn)


def _base_rate(c: Array) -> Array:
    tp, fp, fn, tn = _parts(c)
    return _div(tp + fn, tp + fp + fn + tn)


def _tpr(c: Array) -> Array:
    tp, fp, fn, tn = _parts(c)
    return _div(tp, tp + fn)


def _fpr(c: Array) -> Array:
    tp, fp, fn, tn = _parts(c)
    return _div(fp, fp + tn)


def _tnr(c: Array) -> Array:
    tp, fp, fn, tn = _parts(c)
    return _div(tn, fp + tn)


def _fnr(c: Array) -> Array:
    tp, fp, fn, tn = _parts(c)
    return _div(fn, tp + fn)


def _precision(c: Array) -> Array:
    tp, fp, fn, tn = _parts(c)
    return _div(tp, tp + fp)


def _npv(c: Array) -> Array:
    tp, fp, fn, tn = _parts(c)
    return _div(tn, tn + fn)


def _accuracy(c: Array) -> Array:
    tp, fp, fn, tn = _parts(c)
    return _div(tp + tn, tp + fp + fn + tn)


def _error_rate(c: Array) -> Array:
    tp, fp, fn, tn = _parts(c)
    return _div(fp + fn, tp + fp + fn + tn)


def _balanced_accuracy(c: Array) -> Array:
    return (_tpr(c) + _tnr(c)) / 2.0


# name -> (function, what its denominator needs, reason when undefined)
BINARY_METRICS: dict[str, tuple[Callable[[Array], Array], str]] = {
    "selection_rate": (_selection_rate, "the group has no rows"),
    "base_rate": (_base_rate, "the group has no rows"),
    "true_positive_rate": (_tpr, "no actual positives (y_true = positive) in the group"),
    "false_positive_rate": (_fpr, "no actual negatives (y_true = negative) in the group"),
    "true_negative_rate": (_tnr, "no actual negatives (y_true = negative) in the group"),
    "false_negative_rate": (_fnr, "no actual positives (y_true = positive) in the group"),
    "precision": (_precision, "no positive predictions (y_pred = positive) in the group"),
    "negative_predictive_value": (_npv, "no negative predictions (y_pred = negative) in the group"),
    "accuracy": (_accuracy, "the group has no rows"),
    "error_rate": (_error_rate, "the group has no rows"),
    "balanced_accuracy": (
        _balanced_accuracy,
        "the group lacks actual positives or actual negatives",
    ),
}


# Rates of mistakes: the group with the HIGHER value is the one worse off. (For every other
# metric, selection rate and true positive rate included, the lower value is worse off.)
LOWER_IS_BETTER = frozenset({
    "false_positive_rate", "false_negative_rate", "error_rate", "calibration_error",
})


def compute_rates(conf: Array, metrics: list[str] | tuple[str, ...] | None = None) -> dict[str, Array]:
    """Return ``{metric: values}`` for a confusion array of shape ``(..., 2, 2)``.

    Examples
    --------
    >>> import numpy as np
    >>> conf = np.array([[[3.0, 1.0], [1.0, 5.0]]])  # TN=3, FP=1, FN=1, TP=5
    >>> round(float(compute_rates(conf, ["true_positive_rate"])["true_positive_rate"][0]), 4)
    0.8333
    """
    names = tuple(BINARY_METRICS) if metrics is None else tuple(metrics)
    out: dict[str, Array] = {}
    for name in names:
        if name not in BINARY_METRICS:
            raise KeyError(f"unknown metric {name!r}; known metrics: {', '.join(BINARY_METRICS)}")
        out[name] = BINARY_METRICS[name][0](np.asarray(conf, dtype=np.float64))
    return out


def undefined_reason(metric: str) -> str:
    """Why ``metric`` is undefined (NaN) for a group."""
    return BINARY_METRICS[metric][1]
