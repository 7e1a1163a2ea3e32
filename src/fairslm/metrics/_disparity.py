"""Disparities of a per-group metric against a reference, and the named fairness criteria.

Semantics follow Fairlearn's ``MetricFrame``:

* ``reference_group="min_max"`` (alias ``"best"``): the summary ratio is ``min / max`` over
  groups and the summary difference ``max - min`` (``MetricFrame.ratio()`` /
  ``.difference()`` with ``method="between_groups"``); each group's own ratio is taken against
  the group with the largest value.
* ``"overall"``: against the whole population; the summary ratio is the smallest of
  ``min(m_g / m_all, m_all / m_g)`` and the difference the largest ``|m_g - m_all|``
  (``method="to_overall"``).
* ``"largest"``: against the group with the most rows (Aequitas' default reference).
* a group label: against that group.

For the last two the summary is folded the same way as ``to_overall``, so a summary ratio is
always in [0, 1] and "ratio >= 0.8" is exactly "every group inside the 0.8-1.25 band".
Equalized odds takes the worse of the TPR and FPR disparities (Fairlearn's
``equalized_odds_ratio`` / ``equalized_odds_difference`` with ``agg="worst_case"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CRITERIA",
    "FOUR_FIFTHS",
    "MIN_GROUP_SIZE",
    "REFERENCE_MODES",
    "DisparityArrays",
    "DisparityBatch",
    "disparity",
    "disparity_batch",
    "fold_ratio",
]

REFERENCE_MODES = ("min_max", "best", "overall", "largest")

# The defaults of every audit, policy, comparison and training run, defined here only.
# 29 CFR 1607.4(D): a rate "less than four-fifths (4/5) (or eighty percent)" of the highest.
FOUR_FIFTHS = 0.8
# Rates from fewer rows than this are too noisy to judge: at n = 30 a 95% interval for a rate
# near 0.5 is about +/-0.18 wide. Such groups are reported but never drive a verdict.
MIN_GROUP_SIZE = 30

# name -> (metrics it compares, what a ratio below 1 means for the group, plain description)
CRITERIA: dict[str, tuple[tuple[str, ...], str]] = {
    "statistical_parity": (("selection_rate",), "receives positive decisions"),
    "equal_opportunity": (
        ("true_positive_rate",),
        "has its qualified members (actual positives) selected",
    ),
    "predictive_parity": (("precision",), "has its positive decisions turn out correct"),
    "equalized_odds": (
        ("true_positive_rate", "false_positive_rate"),
        "has its true or false positive rate differ",
    ),
    "error_rate_parity": (("error_rate",), "has decisions that are wrong"),
}


@dataclass(frozen=True)
class DisparityArrays:
    """Per-group ratios and differences against the reference, and the summary."""

    reference_index: int | None  # None when the reference is the overall population
    reference_value: float
    ratio: NDArray[np.float64]
    difference: NDArray[np.float64]
    summary_ratio: float
    summary_difference: float
    worst_index: int | None


def fold_ratio(r: NDArray[np.float64]) -> NDArray[np.float64]:
    """``min(r, 1/r)``: 1 is parity, 0 total disparity, NaN stays NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(r > 0, 1.0 / np.where(r > 0, r, 1.0), np.inf)
    out = np.minimum(r, inv)
    return np.where(np.isnan(r), np.nan, out)


def _safe_ratio(num: NDArray[np.float64], den: float) -> NDArray[np.float64]:
    if not np.isfinite(den):
        return np.full(num.shape, np.nan)
    if den == 0:
        # 0/0 is parity; x/0 is undefined.
        return np.where(num == 0, 1.0, np.nan)
    return num / den


def disparity(
    values: NDArray[np.float64],
    *,
    eligible: NDArray[np.bool_],
    sizes: NDArray[np.float64],
    reference: str | int,
    overall_value: float = np.nan,
    lower_is_better: bool = False,
) -> DisparityArrays:
    """Compare ``values`` (one per group) against a reference.

    ``eligible`` marks groups that may drive the summary (large enough, value defined).
    ``reference`` is a mode name or the index of the reference group. ``lower_is_better``
    (false positive, false negative and error rates) turns the direction of harm around: the
    best-off group, the ``"min_max"`` reference, has the lowest value and the worst-off group
    the highest. The summary ratio ``min / max`` is the same either way.

    A summary needs two groups with a defined value: with fewer it is NaN. When fewer than two
    groups are eligible (too small to judge), the summary is taken over every group with a
    defined value, so that a view that cannot be judged still shows what its groups look like
    (its verdict is "insufficient", never a ratio of 1.0 from one group against itself).
    """
    values = np.asarray(values, dtype=np.float64)
    defined = ~np.isnan(values)
    ok = eligible & defined
    if int(eligible.sum()) < 2:
        ok = defined
    sign = -1.0 if lower_is_better else 1.0
    ref_idx: int | None
    if isinstance(reference, (int, np.integer)):
        ref_idx = int(reference)
        ref_val = float(values[ref_idx])
    elif reference in ("min_max", "best"):
        if ok.any():
            ref_idx = int(np.flatnonzero(ok)[np.argmax(sign * values[ok])])
            ref_val = float(values[ref_idx])
        else:
            ref_idx, ref_val = None, np.nan
    elif reference == "largest":
        cand = np.flatnonzero(eligible) if eligible.any() else np.arange(len(values))
        ref_idx = int(cand[np.argmax(sizes[cand])])
        ref_val = float(values[ref_idx])
    elif reference == "overall":
        ref_idx, ref_val = None, float(overall_value)
    else:
        raise ValueError(f"unknown reference mode {reference!r}")

    ratio = _safe_ratio(values, ref_val)
    if lower_is_better and ref_val == 0:
        # The best-off group makes no errors: any error rate above it is infinitely worse.
        ratio = np.where(values == 0, 1.0, np.where(np.isnan(values), np.nan, np.inf))
    diff = values - ref_val
    if int(ok.sum()) < 2 or np.isnan(ref_val):
        return DisparityArrays(ref_idx, ref_val, ratio, diff, np.nan, np.nan, None)
    if reference in ("min_max", "best"):
        vmin, vmax = float(values[ok].min()), float(values[ok].max())
        summary_ratio = (vmin / vmax) if vmax != 0 else (1.0 if vmin == 0 else np.nan)
        summary_diff = vmax - vmin
        worst = int(np.flatnonzero(ok)[np.argmin(sign * values[ok])])
    else:
        folded = fold_ratio(ratio)
        cand = np.flatnonzero(ok & ~np.isnan(folded))
        if cand.size:
            summary_ratio = float(folded[cand].min())
            # The group worst off against the reference: the lowest ratio, or the highest
            # where lower is better. The summary is two-sided (a group far above the
            # reference also leaves the band) and may come from another group.
            oriented = ratio[cand] if not lower_is_better else -ratio[cand]
            worst = int(cand[np.argmin(oriented)])
        else:
            worst, summary_ratio = int(np.flatnonzero(ok)[0]), np.nan
        absd = np.abs(diff[ok])
        summary_diff = float(absd.max())
    return DisparityArrays(
        ref_idx, ref_val, ratio, diff, float(summary_ratio), float(summary_diff), worst
    )


@dataclass(frozen=True)
class DisparityBatch:
    """Disparities of many replicates at once (leading axis: replicate)."""

    ratio: NDArray[np.float64]  # (R, G)
    difference: NDArray[np.float64]  # (R, G)
    summary_ratio: NDArray[np.float64]  # (R,)
    summary_difference: NDArray[np.float64]  # (R,)


def _safe_ratio_rows(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    """``num / den[:, None]`` with 0/0 = 1 (parity) and x/0 = NaN, row by row."""
    d = den[:, None]
    out = np.full(num.shape, np.nan)
    np.divide(num, d, out=out, where=(d != 0) & np.isfinite(d))
    out = np.where((d == 0) & (num == 0), 1.0, out)
    return out


def disparity_batch(
    values: NDArray[np.float64],
    *,
    eligible: NDArray[np.bool_],
    sizes: NDArray[np.float64],
    reference: str | int,
    overall_values: NDArray[np.float64] | None = None,
    summary: bool = True,
) -> DisparityBatch:
    """:func:`disparity` for a stack of replicates ``values`` of shape ``(R, n_groups)``.

    Each replicate is summarised exactly as :func:`disparity` summarises one table (the best
    group of ``"min_max"`` is chosen per replicate). Used for bootstrap intervals.
    ``summary=False`` skips the summaries (left NaN) when only per-group values are needed.

    Examples
    --------
    >>> import numpy as np
    >>> b = disparity_batch(np.array([[0.5, 0.25], [0.4, 0.4]]), eligible=np.array([True, True]),
    ...                     sizes=np.array([6.0, 4.0]), reference="min_max")
    >>> b.summary_ratio.tolist(), b.summary_difference.tolist()
    ([0.5, 1.0], [0.25, 0.0])
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must have shape (replicates, groups); got {values.shape}")
    n_rep = values.shape[0]
    ok = eligible[None, :] & ~np.isnan(values)
    any_ok = ok.any(axis=1)
    if isinstance(reference, (int, np.integer)):
        ref_val = values[:, int(reference)]
    elif reference in ("min_max", "best"):
        vmax = np.where(ok, values, -np.inf).max(axis=1)
        vmin = np.where(ok, values, np.inf).min(axis=1)
        ref_val = np.where(any_ok, vmax, np.nan)
        ratio = _safe_ratio_rows(values, ref_val)
        diff = values - ref_val[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            s_ratio = np.where(vmax != 0, vmin / np.where(vmax != 0, vmax, 1.0),
                               np.where(vmin == 0, 1.0, np.nan))
        s_ratio = np.where(any_ok, s_ratio, np.nan)
        s_diff = np.where(any_ok, vmax - vmin, np.nan)
        return DisparityBatch(ratio, diff, s_ratio, s_diff)
    elif reference == "largest":
        cand = np.flatnonzero(eligible) if eligible.any() else np.arange(values.shape[1])
        ref_val = values[:, int(cand[np.argmax(sizes[cand])])]
    elif reference == "overall":
        if overall_values is None:
            raise ValueError("reference='overall' needs overall_values")
        ref_val = np.asarray(overall_values, dtype=np.float64).reshape(n_rep)
    else:
        raise ValueError(f"unknown reference mode {reference!r}")
    ratio = _safe_ratio_rows(values, ref_val)
    diff = values - ref_val[:, None]
    if not summary:
        nan = np.full(n_rep, np.nan)
        return DisparityBatch(ratio, diff, nan, nan.copy())
    folded = fold_ratio(ratio)
    fold_ok = ok & ~np.isnan(folded)
    s_ratio = np.where(fold_ok, folded, np.inf).min(axis=1)
    s_ratio = np.where(fold_ok.any(axis=1) & ~np.isnan(ref_val), s_ratio, np.nan)
    s_diff = np.where(ok, np.abs(diff), -np.inf).max(axis=1)
    s_diff = np.where(any_ok & ~np.isnan(ref_val), s_diff, np.nan)
    return DisparityBatch(ratio, diff, s_ratio, s_diff)
