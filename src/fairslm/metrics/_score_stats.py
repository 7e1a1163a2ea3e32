"""Audits of scores from the binned ``(group, y_true, score bin)`` table.

* Decisions at many thresholds in one pass: a right-to-left cumulative sum over the bins gives,
  for every bin edge ``t``, the weight of rows with ``score >= t`` (the project's decision rule)
  per group and true class; the confusion at each threshold follows without touching rows.
* Score moments per group: exact from the table's ``sum(w * score)`` and ``sum(w * score^2)``
  per bin; a table without them falls back to bin midpoints with Sheppard's correction
  (``- h^2 / 12``), close for scores spread within the bins but off by up to about
  ``h * sd`` for scores on a grid coarser than the bins.
* Standardized mean difference (Cohen's d with the pooled standard deviation) of a group
  against a reference group, with the large-sample normal interval of Hedges & Olkin (1985,
  *Statistical Methods for Meta-Analysis*, eq. 5.14): ``var(d) = (n1 + n2) / (n1 n2) +
  d^2 / (2 (n1 + n2))``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "coarse_histogram",
    "score_moments",
    "standardized_mean_difference",
    "threshold_confusion",
    "threshold_indices",
]

Array = NDArray[np.float64]


def threshold_indices(edges: Array, thresholds: Array) -> NDArray[np.int64]:
    """The bin edge index of each threshold; thresholds must lie on the table's bin edges.

    Raises ``ValueError`` naming a threshold that is not an edge (e.g. 0.1234 with 1,000 bins)
    or lies outside [0, 1].
    """
    edges = np.asarray(edges, dtype=np.float64)
    thr = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    idx = np.searchsorted(edges, thr)
    # tolerate float noise such as 0.30000000000000004
    near = np.clip(idx, 0, len(edges) - 1)
    left = np.clip(idx - 1, 0, len(edges) - 1)
    pick = np.where(np.abs(edges[left] - thr) < np.abs(edges[near] - thr), left, near)
    bad = np.abs(edges[pick] - thr) > 1e-9
    if bad.any():
        t = float(thr[np.flatnonzero(bad)[0]])
        step = float(edges[1] - edges[0]) if len(edges) > 1 else float("nan")
        raise ValueError(
            f"threshold {t:g} is not on the score table's bin edges (multiples of {step:g} "
            f"in [{edges[0]:g}, {edges[-1]:g}]); use such a threshold or more score bins"
        )
    return pick.astype(np.int64)


def threshold_confusion(score_weights: Array, pos_index: int, edge_index: NDArray[np.int64]) -> Array:
    """Binary confusion ``(n_thresholds, n_groups, 2, 2)`` of ``score >= edges[k]`` per group.

    ``score_weights`` is the table's ``(n_groups, n_classes, n_bins)`` weight (or count) array,
    ``pos_index`` the index of the positive class. Index ``[..., y_true, y_pred]`` with 1 the
    positive class, as :func:`~fairslm.metrics.compute_rates` expects.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([[[2.0, 1.0, 0.0, 1.0], [0.0, 1.0, 1.0, 2.0]]])  # one group, 4 bins
    >>> c = threshold_confusion(w, 1, np.array([2]))  # threshold at edge 2 (score >= 0.5)
    >>> c[0, 0].tolist()  # TN=3 FP=1 / FN=1 TP=3
    [[3.0, 1.0], [1.0, 3.0]]
    """
    w = np.asarray(score_weights, dtype=np.float64)
    pos = w[:, pos_index, :]
    neg = w.sum(axis=1) - pos
    # above[:, k] = weight in bins k .. n_bins - 1; k = n_bins: nothing is selected
    zero = np.zeros((len(w), 1))
    pos_above = np.concatenate([np.cumsum(pos[:, ::-1], axis=-1)[:, ::-1], zero], axis=-1)
    neg_above = np.concatenate([np.cumsum(neg[:, ::-1], axis=-1)[:, ::-1], zero], axis=-1)
    idx = np.asarray(edge_index, dtype=np.int64)
    tp = pos_above[:, idx].T
    fp = neg_above[:, idx].T
    fn = pos.sum(axis=-1)[None, :] - tp
    tn = neg.sum(axis=-1)[None, :] - fp
    out = np.empty((len(idx), len(w), 2, 2))
    out[..., 0, 0] = tn
    out[..., 0, 1] = fp
    out[..., 1, 0] = fn
    out[..., 1, 1] = tp
    return out


def score_moments(
    weights: Array, score_sums: Array | None, edges: Array, score_sq_sums: Array | None = None
) -> tuple[Array, Array, Array]:
    """Total weight, mean score and score variance per row of a ``(..., n_bins)`` histogram.

    The mean is exact when ``score_sums`` (``sum(w * score)`` per bin) is given, the variance
    when ``score_sq_sums`` (``sum(w * score^2)``) is too; otherwise they use bin midpoints (the
    variance with Sheppard's correction, clipped at 0).

    Examples
    --------
    >>> import numpy as np
    >>> edges = np.linspace(0, 1, 5)  # bins of width 0.25, midpoints .125 .375 .625 .875
    >>> w = np.array([[1.0, 0.0, 0.0, 1.0]])
    >>> n, m, v = score_moments(w, np.array([[0.125, 0, 0, 0.875]]), edges)
    >>> float(n[0]), float(m[0]), round(float(v[0]), 6)
    (2.0, 0.5, 0.135417)
    """
    w = np.asarray(weights, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    mid = (e[:-1] + e[1:]) / 2
    h = np.diff(e)
    total = w.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if score_sums is not None:
            mean = np.asarray(score_sums, dtype=np.float64).sum(axis=-1) / total
        else:
            mean = (w * mid).sum(axis=-1) / total
        if score_sums is not None and score_sq_sums is not None:
            sq = np.asarray(score_sq_sums, dtype=np.float64).sum(axis=-1) / total
            var = sq - mean**2
        else:
            var = (w * (mid - mean[..., None]) ** 2).sum(axis=-1) / total - (
                w * h**2 / 12
            ).sum(axis=-1) / total
    mean = np.where(total > 0, mean, np.nan)
    var = np.where(total > 0, np.maximum(var, 0.0), np.nan)
    return total, mean, var


def standardized_mean_difference(
    n1: Array, mean1: Array, var1: Array, n2: float, mean2: float, var2: float,
    confidence: float = 0.95,
) -> tuple[Array, Array, Array]:
    """Cohen's d of groups ``1`` against group ``2`` with a normal interval.

    ``d = (mean1 - mean2) / s_pooled``, ``s_pooled^2 = ((n1-1) var1 + (n2-1) var2) / (n1+n2-2)``
    (variances here are population variances, rescaled to sample variances first). NaN when a
    group has fewer than 2 rows or the pooled standard deviation is 0.

    Examples
    --------
    >>> import numpy as np
    >>> d, lo, hi = standardized_mean_difference(np.array([50.0]), np.array([0.6]),
    ...                                          np.array([0.04]), 50.0, 0.5, 0.04)
    >>> round(float(d[0]), 4), round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.495, 0.097, 0.893)
    """
    from scipy import special

    n1, mean1, var1 = (np.asarray(a, dtype=np.float64) for a in (n1, mean1, var1))
    ok = (n1 >= 2) & (n2 >= 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = var1 * n1 / (n1 - 1)
        s2 = var2 * n2 / (n2 - 1) if n2 > 1 else np.nan
        pooled = np.sqrt(((n1 - 1) * s1 + (n2 - 1) * s2) / (n1 + n2 - 2))
        d = (mean1 - mean2) / pooled
        se = np.sqrt((n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2)))
    ok &= np.isfinite(d)
    z = float(special.ndtri(0.5 + confidence / 2))
    d = np.where(ok, d, np.nan)
    return d, np.where(ok, d - z * se, np.nan), np.where(ok, d + z * se, np.nan)


def coarse_histogram(weights: Array, n_bins: int) -> Array:
    """Merge a ``(..., n_fine)`` histogram into ``n_bins`` equal-width bins (must divide).

    Examples
    --------
    >>> import numpy as np
    >>> coarse_histogram(np.array([[1.0, 2.0, 3.0, 4.0]]), 2).tolist()
    [[3.0, 7.0]]
    """
    w = np.asarray(weights, dtype=np.float64)
    nb = w.shape[-1]
    if n_bins <= 0 or nb % n_bins:
        raise ValueError(f"{n_bins} histogram bins must divide the table's {nb} score bins")
    return w.reshape(*w.shape[:-1], n_bins, nb // n_bins).sum(axis=-1)
