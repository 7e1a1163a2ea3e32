"""Adverse-impact figures of selection rates: impact ratios, the four-fifths shortfall, the
companion significance tests and the one-person sensitivity.

Every function takes per-group arrays (selections and applicants, counts or effective counts)
and the rate of a comparison group, so the same code serves NYC Local Law 144 (6 RCNY
§5-301) and the EEOC Uniform Guidelines (29 CFR 1607.4(D)):

* impact ratio: a group's rate divided by the highest rate among the groups compared; undefined
  (NaN) when that highest rate is 0, never 1 (no group was selected, so no group is favoured);
* shortfall: the fewest additional selections that bring a group's ratio to the threshold
  (``ceil(threshold * top_rate * n - selected)``, with exact rational arithmetic so that a ratio
  of exactly 4/5 needs none);
* two-proportion Z (pooled standard error; "more than two or three standard deviations",
  Hazelwood School District v. United States, 433 U.S. 299 (1977)) and Fisher's exact test
  (two-sided, scipy) of a group against the comparison group;
* one-person sensitivity: whether moving one person in or out of the selected set of the group
  changes the four-fifths finding (the Guidelines' Questions and Answers, 1979, consider
  enforcement inappropriate where "the selection of one different person for one job would
  shift the result").
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from fairslm.metrics._disparity import FOUR_FIFTHS
from fairslm.metrics._significance import fisher_p_values

__all__ = [
    "below_threshold",
    "fisher_exact_tests",
    "impact_ratios",
    "one_person_sensitivity",
    "shortfall_to_threshold",
    "two_proportion_z",
]

Array = NDArray[np.float64]



def impact_ratios(rates: Array, eligible: NDArray[np.bool_] | None = None) -> tuple[Array, int | None]:
    """Each group's rate over the highest rate among ``eligible`` groups, and that group.

    Groups outside ``eligible`` (e.g. excluded under 2%, or with no applicants) still get a
    ratio against the highest eligible group, but never become it. When the highest rate is 0
    every ratio is NaN: a ratio against nothing selected is undefined, not parity.

    Examples
    --------
    >>> import numpy as np
    >>> r, top = impact_ratios(np.array([0.5, 0.25, 0.0]))
    >>> r.tolist(), top
    ([1.0, 0.5, 0.0], 0)
    >>> impact_ratios(np.array([0.0, 0.0]))[0].tolist()
    [nan, nan]
    """
    rates = np.asarray(rates, dtype=np.float64)
    ok = ~np.isnan(rates)
    if eligible is not None:
        ok &= np.asarray(eligible, dtype=bool)
    if not ok.any():
        return np.full(rates.shape, np.nan), None
    top = int(np.flatnonzero(ok)[np.argmax(rates[ok])])
    top_rate = rates[top]
    if top_rate <= 0:
        return np.full(rates.shape, np.nan), top
    return rates / top_rate, top


def _frac(x: float) -> Fraction:
    # Counts are whole numbers; a threshold such as 0.8 is meant as 4/5, not its binary float.
    return Fraction(x).limit_denominator(1_000_000)


def below_threshold(
    selected: Array, applicants: Array, top_selected: float, top_applicants: float,
    threshold: float = FOUR_FIFTHS,
) -> NDArray[np.bool_]:
    """Whether each group's rate is less than ``threshold`` times the top rate, exactly.

    Compared in rational numbers, so 48/100 against 60/100 is exactly 4/5 and not below it
    (its float ratio is 0.7999999999999999). False for groups without applicants.

    Examples
    --------
    >>> import numpy as np
    >>> below_threshold(np.array([48.0, 47.0]), np.array([100.0, 100.0]), 60, 100).tolist()
    [False, True]
    """
    selected = np.asarray(selected, dtype=np.float64)
    applicants = np.asarray(applicants, dtype=np.float64)
    out = np.zeros(selected.shape, dtype=bool)
    if top_applicants <= 0 or top_selected <= 0:
        return out
    bar = _frac(float(threshold)) * _frac(float(top_selected)) / _frac(float(top_applicants))
    for i, (s, n) in enumerate(zip(selected.tolist(), applicants.tolist(), strict=True)):
        if n > 0:
            out[i] = _frac(s) / _frac(n) < bar
    return out


def shortfall_to_threshold(
    selected: Array, applicants: Array, top_selected: float, top_applicants: float,
    threshold: float = FOUR_FIFTHS,
) -> Array:
    """Additional selections each group needs for its impact ratio to reach ``threshold``.

    ``ceil(threshold * (top_selected / top_applicants) * n - selected)``, at least 0, computed
    with fractions so that a group exactly at the threshold needs 0. NaN for groups without
    applicants or when the comparison group has none.

    Examples
    --------
    >>> import numpy as np
    >>> # top group 30/50 = 60%; 4/5 of it is 48%: 20/50 needs 24 selections, i.e. 4 more
    >>> shortfall_to_threshold(np.array([20.0, 24.0]), np.array([50.0, 50.0]), 30, 50).tolist()
    [4.0, 0.0]
    """
    selected = np.asarray(selected, dtype=np.float64)
    applicants = np.asarray(applicants, dtype=np.float64)
    out = np.full(selected.shape, np.nan)
    if not top_applicants or top_applicants <= 0:
        return out
    target = _frac(float(threshold)) * _frac(float(top_selected)) / _frac(float(top_applicants))
    for i, (s, n) in enumerate(zip(selected.tolist(), applicants.tolist(), strict=True)):
        if n <= 0:
            continue
        need = target * _frac(n) - _frac(s)
        # ceil of a Fraction, without float rounding
        k = -((-need.numerator) // need.denominator)
        out[i] = float(max(k, 0))
    return out


def two_proportion_z(x1: Array, n1: Array, x2: Array, n2: Array) -> tuple[Array, Array]:
    """Pooled two-proportion Z of ``x1/n1`` against ``x2/n2`` and its two-sided p-value.

    Negative Z: the first rate is lower. NaN where a side has no trials or the pooled rate is 0
    or 1 (no variation to test).

    Examples
    --------
    >>> import numpy as np
    >>> z, p = two_proportion_z(np.array([30.0]), np.array([100.0]), np.array([50.0]), np.array([100.0]))
    >>> round(float(z[0]), 4), round(float(p[0]), 4)
    (-2.8868, 0.0039)
    """
    from scipy import special

    x1, n1, x2, n2 = (np.asarray(a, dtype=np.float64) for a in (x1, n1, x2, n2))
    x1, n1, x2, n2 = np.broadcast_arrays(x1, n1, x2, n2)
    z = np.full(x1.shape, np.nan)
    valid = (n1 > 0) & (n2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        ok = valid & (se > 0)
        z[ok] = ((x1 / n1 - x2 / n2) / se)[ok]
    p = np.where(np.isnan(z), np.nan, 2 * special.ndtr(-np.abs(np.nan_to_num(z))))
    return z, p


def fisher_exact_tests(x1: Array, n1: Array, x2: Array, n2: Array) -> Array:
    """Two-sided Fisher's exact p-value of each ``x1/n1`` against ``x2/n2`` (counts rounded).

    Examples
    --------
    >>> import numpy as np
    >>> round(float(fisher_exact_tests(np.array([1.0]), np.array([10.0]), np.array([8.0]),
    ...                                np.array([10.0]))[0]), 5)
    0.00548
    """
    x1, n1, x2, n2 = (np.asarray(a, dtype=np.float64) for a in (x1, n1, x2, n2))
    x1, n1, x2, n2 = np.broadcast_arrays(x1, n1, x2, n2)
    p = np.full(x1.shape, np.nan)
    valid = (n1 > 0) & (n2 > 0)
    if valid.any():
        p[valid] = fisher_p_values(x1[valid], n1[valid], x2[valid], n2[valid])
    return p


def one_person_sensitivity(
    selected: Array, applicants: Array, threshold: float = FOUR_FIFTHS
) -> tuple[NDArray[np.bool_], Array]:
    """Whether moving one person changes each group's four-fifths finding, and the new ratio.

    A group below ``threshold`` gets one more selection (one of its applicants moved into the
    selected set); a group at or above it, other than the highest, one fewer. The highest rate
    is recomputed over all groups after the move. Groups without applicants, the highest group,
    and all groups when the highest rate is 0, are never sensitive (False, NaN).

    Examples
    --------
    >>> import numpy as np
    >>> # 4/10 against 6/10: ratio 0.667; with 5/10 it is 0.833, so one person flips it
    >>> flips, moved = one_person_sensitivity(np.array([6.0, 4.0]), np.array([10.0, 10.0]))
    >>> flips.tolist(), [round(float(x), 3) for x in moved]
    ([False, True], [nan, 0.833])
    """
    selected = np.asarray(selected, dtype=np.float64)
    applicants = np.asarray(applicants, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(applicants > 0, selected / applicants, np.nan)
    ratios, top = impact_ratios(rates)
    flips = np.zeros(selected.shape, dtype=bool)
    moved = np.full(selected.shape, np.nan)
    if top is None or np.isnan(ratios).all():
        return flips, moved
    below = below_threshold(selected, applicants, selected[top], applicants[top], threshold)
    for g in range(len(selected)):
        if g == top or applicants[g] <= 0:
            continue
        s = selected[g] + (1.0 if below[g] else -1.0)
        if s < 0 or s > applicants[g]:
            continue
        alt = selected.copy()
        alt[g] = s
        with np.errstate(divide="ignore", invalid="ignore"):
            alt_rates = np.where(applicants > 0, alt / applicants, np.nan)
        alt_ratios, alt_top = impact_ratios(alt_rates)
        if alt_top is None or np.isnan(alt_ratios[g]):
            continue
        moved[g] = alt_ratios[g]
        now_below = below_threshold(alt[g:g + 1], applicants[g:g + 1], alt[alt_top],
                                    applicants[alt_top], threshold)[0]
        flips[g] = bool(now_below != below[g])
    return flips, moved
