"""Score metrics per group from the binned ``(group, y_true, score bin)`` table.

Scores (probabilities of the positive class in [0, 1]) are binned into ``n_bins`` equal-width
bins ``[k/n, (k+1)/n)`` (the last bin includes 1.0). Scores in one bin count as tied.

* ROC AUC is the probability that a random positive scores above a random negative, ties
  counting one half (Hanley & McNeil 1982), computed bin by bin. It equals scikit-learn's
  ``roc_auc_score`` whenever no two distinct scores share a bin (e.g. scores on bin centres);
  otherwise it differs by at most the share of positive-negative pairs tied by the binning.
* Expected calibration error (Naeini et al. 2015; Guo et al. 2017) over ``n_ece_bins``
  equal-width bins: ``sum_b (n_b / n) |mean score_b - share of positives_b|``. The mean score
  of a bin comes from the exact score sums carried in the table, so the ECE is exact for any
  ``n_ece_bins`` that divides the table's number of bins.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["SCORE_METRICS", "expected_calibration_error", "roc_auc_from_bins"]

Array = NDArray[np.float64]

SCORE_METRICS: dict[str, str] = {
    "roc_auc": "the group lacks actual positives or actual negatives",
    "calibration_error": "the group has no rows",
}


def roc_auc_from_bins(pos: Array, neg: Array) -> Array:
    """ROC AUC per row from histograms of positives' and negatives' scores over ordered bins.

    Examples
    --------
    >>> import numpy as np
    >>> # 9 positive-negative pairs: 8 won, 1 tied (the shared middle bin)
    >>> roc_auc_from_bins(np.array([[0.0, 1.0, 2.0]]), np.array([[2.0, 1.0, 0.0]])).tolist()
    [0.9444444444444444]
    """
    pos = np.asarray(pos, dtype=np.float64)
    neg = np.asarray(neg, dtype=np.float64)
    neg_below = np.cumsum(neg, axis=-1) - neg
    wins = (pos * (neg_below + 0.5 * neg)).sum(axis=-1)
    denom = pos.sum(axis=-1) * neg.sum(axis=-1)
    out = np.full(denom.shape, np.nan)
    np.divide(wins, denom, out=out, where=denom > 0)
    return out


def expected_calibration_error(
    weights: Array, positives: Array, score_sums: Array, n_ece_bins: int = 10
) -> Array:
    """ECE per row from per-bin weights, weights of positives and weighted score sums.

    Examples
    --------
    >>> import numpy as np
    >>> # 4 fine bins merged into 2: left half mean score 0.2 with 0/2 positive, right 0.8 with 2/2
    >>> w = np.array([[1.0, 1.0, 1.0, 1.0]]); s = np.array([[0.1, 0.3, 0.7, 0.9]])
    >>> expected_calibration_error(w, np.array([[0.0, 0.0, 1.0, 1.0]]), s, n_ece_bins=2).round(6)
    array([0.2])
    """
    weights = np.asarray(weights, dtype=np.float64)
    nb = weights.shape[-1]
    if nb % n_ece_bins:
        raise ValueError(f"n_ece_bins={n_ece_bins} must divide the table's {nb} score bins")
    shape = (*weights.shape[:-1], n_ece_bins, nb // n_ece_bins)
    w = weights.reshape(shape).sum(axis=-1)
    p = np.asarray(positives, dtype=np.float64).reshape(shape).sum(axis=-1)
    s = np.asarray(score_sums, dtype=np.float64).reshape(shape).sum(axis=-1)
    total = w.sum(axis=-1)
    out = np.full(total.shape, np.nan)
    np.divide(np.abs(s - p).sum(axis=-1), total, out=out, where=total > 0)
    return out
