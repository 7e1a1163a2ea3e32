"""Multiclass summaries: the root-mean-square TPR gap over classes.

De-Arteaga et al. (2019, "Bias in Bios") measure an occupation classifier's gender bias by the
per-class gap in true positive rates between two gender groups, and Ravfogel et al. (2020,
INLP) summarise it over classes as

    GAP_RMS = sqrt( mean_c (TPR_{c, g1} - TPR_{c, g2})^2 ).

For more than two groups fairslm takes, per class, the gap between the groups with the highest
and the lowest TPR (``max_g TPR_{c,g} - min_g TPR_{c,g}``), which is the same number for two
groups. Groups below the minimum size, and classes for which fewer than two groups have a
defined TPR (no actual members of the class), are left out.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["class_tpr", "rms_tpr_gap"]

Array = NDArray[np.float64]


def class_tpr(cells: Array) -> Array:
    """TPR of every class per group, shape ``(..., n_classes, n_groups)``.

    ``cells`` is a table of shape ``(..., n_groups, n_classes, n_classes)`` indexed
    ``[group, y_true, y_pred]``; the TPR of class ``c`` is the share of actual ``c`` predicted
    ``c`` (per-class recall).
    """
    cells = np.asarray(cells, dtype=np.float64)
    diag = np.diagonal(cells, axis1=-2, axis2=-1)  # (..., G, K)
    actual = cells.sum(axis=-1)  # (..., G, K)
    out = np.full(diag.shape, np.nan)
    np.divide(diag, actual, out=out, where=actual > 0)
    return np.swapaxes(out, -1, -2)


def rms_tpr_gap(tpr: Array, eligible: NDArray[np.bool_]) -> tuple[Array, Array]:
    """The RMS TPR gap and the per-class gaps from TPRs of shape ``(..., n_classes, n_groups)``.

    Examples
    --------
    >>> import numpy as np
    >>> tpr = np.array([[0.9, 0.6], [0.5, 0.9]])  # 2 classes x 2 groups
    >>> rms, gaps = rms_tpr_gap(tpr, np.array([True, True]))
    >>> gaps.round(6).tolist(), round(float(rms), 6)
    ([0.3, 0.4], 0.353553)
    """
    tpr = np.asarray(tpr, dtype=np.float64)
    ok = eligible & ~np.isnan(tpr)
    hi = np.where(ok, tpr, -np.inf).max(axis=-1)
    lo = np.where(ok, tpr, np.inf).min(axis=-1)
    gaps = np.where(ok.sum(axis=-1) >= 2, hi - lo, np.nan)
    defined = ~np.isnan(gaps)
    n = defined.sum(axis=-1)
    sq = np.where(defined, gaps * gaps, 0.0).sum(axis=-1)
    rms = np.full(n.shape, np.nan)
    np.divide(sq, n, out=rms, where=n > 0)
    return np.sqrt(rms), gaps
