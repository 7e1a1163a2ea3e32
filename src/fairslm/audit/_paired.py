"""Paired comparisons of a measure between each text's versions: means, intervals, tests.

A counterfactual pair is one text written for two groups, so the unit of analysis is the pair:
intervals resample pairs (a percentile bootstrap), binary measures are tested with McNemar's
exact test on the discordant pairs and continuous ones with the Wilcoxon signed-rank test on
the paired differences; the p-values of the measures compared in one contrast are adjusted
together with Holm's procedure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.audit._counterfactual import _wilcoxon, mcnemar_exact
from fairslm.metrics import holm, percentile_interval

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_N_BOOTSTRAP",
    "adjust_family",
    "bootstrap_means",
    "mean_interval",
    "paired_test",
]

Array = NDArray[np.float64]

# The conventional 5% level; the family of measures in one contrast is Holm-adjusted to it.
DEFAULT_ALPHA = 0.05
# Percentile intervals need about 1,000 replicates for stable 2.5% and 97.5% quantiles
# (Efron & Tibshirani 1993, "An Introduction to the Bootstrap", ch. 13 and 19).
DEFAULT_N_BOOTSTRAP = 1000


def bootstrap_means(
    columns: Array, n_bootstrap: int, rng: np.random.Generator
) -> Array:
    """Means of each column over ``n_bootstrap`` resamples of the rows (pairs): ``(B, k)``."""
    n = columns.shape[0]
    idx = rng.integers(0, n, size=(n_bootstrap, n))
    # Mean of a resample = (counts of each row) @ values / n; the counts are cheaper to hold.
    counts = np.zeros((n_bootstrap, n))
    np.add.at(counts, (np.repeat(np.arange(n_bootstrap), n), idx.ravel()), 1.0)
    return counts @ np.nan_to_num(columns) / n


def mean_interval(
    values: Array, replicates: Array | None, confidence: float
) -> dict[str, Any]:
    """``{"n", "mean", "interval"}`` of one column; ``interval`` is None without replicates."""
    n = int(values.shape[0])
    out: dict[str, Any] = {"n": n, "mean": float(values.mean()) if n else None, "interval": None}
    if n and replicates is not None:
        lo, hi = percentile_interval(replicates[:, None], confidence)
        out["interval"] = [float(lo[0]), float(hi[0])]
    return out


def paired_test(diff: Array, first: Array, second: Array, binary: bool) -> dict[str, Any]:
    """The paired test of ``second - first``: McNemar for 0/1 values, else Wilcoxon.

    ``p_value`` is McNemar's mid-p value (Fagerland et al. 2013) or Wilcoxon's two-sided p; it
    is None, with a ``reason``, when no pair differs.
    """
    if binary:
        m = mcnemar_exact(int(((first == 1) & (second == 0)).sum()),
                          int(((first == 0) & (second == 1)).sum()))
        if m["b"] + m["c"] == 0:
            return {"test": "mcnemar", **m, "p_value": None, "reason": "no pair differs"}
        return {"test": "mcnemar", **m, "p_value": m["p_mid"]}
    w = _wilcoxon(diff)
    if w.get("p_value") is None:
        return {"test": "wilcoxon", "statistic": None, "p_value": None, "n_nonzero": 0,
                "reason": "no pair differs"}
    return {"test": "wilcoxon", **w}


def adjust_family(tests: dict[str, dict[str, Any]], alpha: float) -> None:
    """Add Holm-adjusted ``p_holm`` and ``significant`` to each test of one contrast, in place.

    A test without a p-value (no pair differs) is left out of the family and is not significant.
    """
    names = list(tests)
    raw = np.array([np.nan if tests[k].get("p_value") is None else tests[k]["p_value"]
                    for k in names], dtype=np.float64)
    adjusted = holm(raw)
    for k, p in zip(names, adjusted, strict=True):
        tests[k]["p_holm"] = None if np.isnan(p) else float(p)
        tests[k]["significant"] = bool(not np.isnan(p) and p < alpha)
