"""Score intervals of a view's rates and disparities, straight from its count table.

For every proportion metric (:data:`fairslm.metrics.PROPORTIONS`): the Wilson interval of each
group's rate, and each group's ratio (MOVER-R Wilson) and difference (Newcombe) against the
view's reference. See :mod:`fairslm.metrics._intervals` for the methods and their sources.

Against a reference group the two groups are disjoint, hence independent. Against the overall
population the group is part of the reference, so the interval is taken against the rest of the
population and mapped back: with ``s`` the group's share of the metric's denominator (weights
included), ``p_all = s p_g + (1 - s) p_rest``, so ``p_g - p_all = (1 - s)(p_g - p_rest)`` and
``p_g / p_all = t / (s t + 1 - s)`` with ``t = p_g / p_rest``, increasing in ``t``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fairslm.audit._views import ViewData
from fairslm.metrics import (
    PROPORTIONS,
    mover_ratio_interval,
    newcombe_difference_interval,
    proportion_counts,
    wilson_interval,
)

__all__ = ["SCORE_INTERVALS", "add_score_intervals"]

Array = NDArray[np.float64]

# What the audit records about its intervals (extras["intervals"]).
SCORE_INTERVALS = {
    "method": "score",
    "rate": "Wilson score interval (Wilson 1927)",
    "difference": "Newcombe hybrid score interval (Newcombe 1998, method 10)",
    "ratio": "MOVER-R on Wilson limits (Donner & Zou 2012; Fagerland et al. 2015)",
    "overall_reference": "against the rest of the population, mapped to the overall rate",
    "weights": "Kish effective sample size of each rate's weights (Kish 1965; "
               "Korn & Graubard 1998)",
    "bootstrap": "balanced_accuracy and the RMS TPR gap (percentile, no closed form)",
}


def _against_overall(
    x: Array, n: Array, w: Array, xr: Array, nr: Array, wr: Array, confidence: float
) -> tuple[Array, Array, Array, Array]:
    t_lo, t_hi = mover_ratio_interval(x, n, xr, nr, confidence)
    d_lo, d_hi = newcombe_difference_interval(x, n, xr, nr, confidence)
    total = w + wr
    s = np.divide(w, total, out=np.full(w.shape, np.nan), where=total > 0)

    def to_overall(t: Array) -> Array:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = t / (s * t + 1 - s)
        return np.where(np.isposinf(t), 1.0 / s, out)

    return to_overall(t_lo), to_overall(t_hi), (1 - s) * d_lo, (1 - s) * d_hi


def add_score_intervals(vd: ViewData, confidence: float) -> None:
    """Fill ``vd.group_ci`` and the per-group ``vd.disp_ci`` of every proportion metric."""
    n_groups = vd.conf.shape[0]
    nan = np.full(n_groups, np.nan)
    rest = vd.conf.sum(axis=0, keepdims=True) - vd.conf
    rest_sq = None if vd.conf_sq is None else vd.conf_sq.sum(axis=0, keepdims=True) - vd.conf_sq
    for m in PROPORTIONS:
        x, n, w = proportion_counts(m, vd.conf, vd.conf_sq)
        vd.group_ci[m] = wilson_interval(x, n, confidence)
        d = vd.arrays[m]
        if d.reference_index is not None:
            j = d.reference_index
            r_lo, r_hi = mover_ratio_interval(x, n, x[j], n[j], confidence)
            d_lo, d_hi = newcombe_difference_interval(x, n, x[j], n[j], confidence)
            if n[j] > 0:  # the reference against itself: exactly parity
                r_lo[j] = r_hi[j] = 1.0
                d_lo[j] = d_hi[j] = 0.0
        elif vd.ref == "overall":
            xr, nr, wr = proportion_counts(m, rest, rest_sq)
            r_lo, r_hi, d_lo, d_hi = _against_overall(x, n, w, xr, nr, wr, confidence)
        else:  # no eligible reference: nothing to compare with
            r_lo, r_hi, d_lo, d_hi = nan.copy(), nan.copy(), nan.copy(), nan.copy()
        vd.disp_ci[m] = {"ratio": (r_lo, r_hi), "difference": (d_lo, d_hi)}
