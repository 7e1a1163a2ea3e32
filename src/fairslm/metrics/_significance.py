"""Significance of each group's gap against the reference, Holm-corrected across groups.

Every rate in :data:`PROPORTIONS` is a proportion ``successes / trials`` of a confusion table, so
a group's gap against its reference is tested as a difference of two proportions:

* the pooled two-proportion z-test (two-sided), when every expected cell count of the 2x2 table
  is at least 5 (Cochran's rule, Agresti 2013 sec. 3.2);
* Fisher's exact test (two-sided, as :func:`scipy.stats.fisher_exact`) otherwise.

The p-values of the groups compared in one view are adjusted with Holm's step-down procedure
(Holm 1979), which controls the family-wise error rate without assuming independence.

Sample weights: the test uses Kish's effective sample size ``(sum w)^2 / sum w^2`` of each
denominator and the weighted proportion (Kish 1965); Fisher's test rounds those to integers.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "PROPORTIONS",
    "holm",
    "fisher_exact_p",
    "fisher_p_values",
    "proportion_parts",
    "two_proportion_test",
    "two_proportion_tests",
]

Array = NDArray[np.float64]

# metric -> (numerator cells, denominator cells) of the binary confusion [y_true, y_pred]
PROPORTIONS: dict[str, tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]] = {
    "selection_rate": (((1, 1), (0, 1)), ((0, 0), (0, 1), (1, 0), (1, 1))),
    "base_rate": (((1, 1), (1, 0)), ((0, 0), (0, 1), (1, 0), (1, 1))),
    "true_positive_rate": (((1, 1),), ((1, 1), (1, 0))),
    "false_positive_rate": (((0, 1),), ((0, 1), (0, 0))),
    "true_negative_rate": (((0, 0),), ((0, 1), (0, 0))),
    "false_negative_rate": (((1, 0),), ((1, 1), (1, 0))),
    "precision": (((1, 1),), ((1, 1), (0, 1))),
    "negative_predictive_value": (((0, 0),), ((0, 0), (1, 0))),
    "accuracy": (((1, 1), (0, 0)), ((0, 0), (0, 1), (1, 0), (1, 1))),
    "error_rate": (((0, 1), (1, 0)), ((0, 0), (0, 1), (1, 0), (1, 1))),
}


def _cells(conf: Array, cells: tuple[tuple[int, int], ...]) -> Array:
    return sum((conf[..., i, j] for i, j in cells), start=np.zeros(conf.shape[:-2]))


def proportion_parts(
    metric: str, conf: Array, conf_sq: Array | None = None
) -> tuple[Array, Array]:
    """Effective ``(successes, trials)`` per group for ``metric``.

    ``conf`` holds counts or weight sums, ``conf_sq`` the sums of squared weights (weighted
    data only); with weights the trials are Kish's effective sample size.
    """
    num_cells, den_cells = PROPORTIONS[metric]
    num = _cells(conf, num_cells)
    den = _cells(conf, den_cells)
    if conf_sq is None:
        return num, den
    den_sq = _cells(conf_sq, den_cells)
    n_eff = np.divide(den * den, den_sq, out=np.zeros_like(den), where=den_sq > 0)
    rate = np.divide(num, den, out=np.zeros_like(den), where=den > 0)
    return rate * n_eff, n_eff


def two_proportion_test(x1: float, n1: float, x2: float, n2: float) -> tuple[float, str]:
    """Two-sided p-value that proportions ``x1/n1`` and ``x2/n2`` are equal, and the test used.

    Examples
    --------
    >>> p, test = two_proportion_test(30, 100, 50, 100)
    >>> test, round(p, 4)
    ('z', 0.0039)
    >>> two_proportion_test(1, 4, 3, 4)[1]
    'fisher'
    """
    p, tests = two_proportion_tests(
        np.array([x1], dtype=np.float64), np.array([n1], dtype=np.float64),
        np.array([x2], dtype=np.float64), np.array([n2], dtype=np.float64),
    )
    return float(p[0]), str(tests[0])


def two_proportion_tests(
    x1: Array, n1: Array, x2: Array, n2: Array
) -> tuple[Array, NDArray[np.str_]]:
    """Vectorised :func:`two_proportion_test`: z-tests at once, Fisher only where needed.

    Returns the p-values (NaN where a side has no trials) and the test used per entry
    (``"z"``, ``"fisher"`` or ``"none"``).
    """
    x1, n1, x2, n2 = (np.asarray(a, dtype=np.float64) for a in (x1, n1, x2, n2))
    shape = np.broadcast(x1, n1, x2, n2).shape
    x1, n1, x2, n2 = (np.broadcast_to(a, shape) for a in (x1, n1, x2, n2))
    p = np.full(shape, np.nan)
    tests = np.full(shape, "none", dtype="<U9")
    valid = (n1 > 0) & (n2 > 0)
    total = np.where(valid, n1 + n2, 1.0)
    pooled = (x1 + x2) / total
    exp_min = np.minimum(np.minimum(n1, n2) * pooled, np.minimum(n1, n2) * (1 - pooled))
    use_z = valid & (exp_min >= 5)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
    pz = np.where(se > 0, normal_two_sided_p(z), 1.0)
    p = np.where(use_z, pz, p)
    tests = np.where(use_z, "z", tests)
    small = valid & ~use_z
    if small.any():
        p[small] = fisher_p_values(x1[small], n1[small], x2[small], n2[small])
        tests[small] = "fisher"
    return p, tests


def fisher_p_values(x1: Array, n1: Array, x2: Array, n2: Array) -> Array:
    """Fisher's exact two-sided p-value of each 2x2 table, computed once per distinct table.

    Many small groups share a few tables (two rows against the same reference give at most a
    handful), so thousands of groups cost a handful of evaluations.
    """
    a = np.rint(x1).astype(np.int64)
    c = np.rint(x2).astype(np.int64)
    b = np.maximum(np.rint(n1).astype(np.int64) - a, 0)
    d = np.maximum(np.rint(n2).astype(np.int64) - c, 0)
    # One sort of one integer key per table: np.unique(axis=0) on the 4 columns sorts rows of
    # a structured view, tens of times slower at 100,000 tables.
    cells = np.stack([a, b, c, d], axis=1)
    radix = int(cells.max(initial=0)) + 1
    if radix ** 4 < 2**62:
        key = ((a * radix + b) * radix + c) * radix + d
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        tables = cells[first]
    else:
        tables, inverse = np.unique(cells, axis=0, return_inverse=True)
    unique_p = np.array([fisher_exact_p(*(int(v) for v in t)) for t in tables.tolist()])
    return np.asarray(unique_p[inverse.reshape(-1)], dtype=np.float64)


def normal_two_sided_p(z: Array) -> Array:
    """Two-sided p-value ``2 * Phi(-|z|)`` of standard normal statistics, as ``erfc(|z|/sqrt 2)``.

    The standard library's ``math.erfc`` keeps ``scipy`` out of every audit's start-up.

    Examples
    --------
    >>> normal_two_sided_p(np.array([0.0, 1.959963984540054])).round(6).tolist()
    [1.0, 0.05]
    """
    scaled = np.abs(np.asarray(z, dtype=np.float64)) / math.sqrt(2.0)
    return np.array([math.erfc(v) for v in scaled.ravel().tolist()], dtype=np.float64).reshape(
        scaled.shape
    )


def fisher_exact_p(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test of the table ``[[a, b], [c, d]]``.

    The sum of the hypergeometric probabilities of every table with the same margins that is
    no more likely than the one observed (Fisher 1935; Agresti 2013 sec. 3.5.1), with the
    relative tolerance of ``1 + 1e-7`` that :func:`scipy.stats.fisher_exact` uses for ties.
    Computed with the standard library's ``math.lgamma``, so that it needs no import of scipy.

    Examples
    --------
    >>> round(fisher_exact_p(1, 3, 3, 1), 4)
    0.4857
    """
    n1, n2, k = a + b, c + d, a + c
    n = n1 + n2
    if n1 == 0 or n2 == 0 or k == 0 or k == n:
        return 1.0
    support = np.arange(max(0, k - n2), min(n1, k) + 1, dtype=np.float64)

    def log_choose(top: float, r: Array) -> Array:
        r = np.atleast_1d(r)
        return math.lgamma(top + 1) - _lgamma(r + 1) - _lgamma(top - r + 1)

    log_pmf = log_choose(n1, support) + log_choose(n2, k - support) - log_choose(n, np.array(k))
    observed = log_pmf[a - int(support[0])]
    p = float(np.exp(log_pmf[log_pmf <= observed + np.log1p(1e-7)]).sum())
    return min(1.0, p)


def _lgamma(x: Array) -> Array:
    return np.array([math.lgamma(v) for v in x.tolist()], dtype=np.float64)


def holm(p_values: Array) -> Array:
    """Holm's step-down adjusted p-values; NaN entries are left out of the family.

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03, np.nan])).round(6).tolist()
    [0.03, 0.06, 0.06, nan]
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = idx.size
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    adj = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(adj)
    return out
