"""Bootstrap replicates of a count table, drawn over its cells instead of its rows.

A row bootstrap resamples the ``N`` rows with replacement; the number of resampled rows that fall
in each cell of the ``(group, y_true, y_pred)`` table is then multinomial with the cells' shares
as probabilities. Drawing that multinomial directly gives the same distribution of every count
(Efron & Tibshirani 1993, ch. 6) at a cost that depends on the number of cells, not rows.
``stratify=True`` keeps each group's size fixed (a multinomial per group), the usual choice when
groups were sampled separately.

Sample weights: when the weights are constant within every cell (or absent) the cell draw is an
exact row bootstrap (``method="multinomial"``). When they vary within a cell, the resampled
weight sum of a cell that received ``k`` rows is a sum of ``k`` draws from that cell's weights,
with mean ``k * mu`` and variance ``k * s2`` (``mu``, ``s2``: the cell's mean and variance of
weights, from its sum and sum of squares). It is drawn from a gamma distribution with those two
moments (``method="multinomial-gamma"``): exact in mean and variance, approximate in shape.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BOOTSTRAP_METHODS",
    "bootstrap_method",
    "bootstrap_tables",
    "percentile_interval",
]

BOOTSTRAP_METHODS = ("multinomial", "multinomial-gamma")

# Replicates are drawn in blocks of at most this many cells (replicates x cells) so that memory
# stays bounded (~16 MB of float64 per block) while each numpy call still does a lot of work.
_BLOCK_CELLS = 2_000_000


def bootstrap_method(
    counts: NDArray[np.float64],
    weight_sums: NDArray[np.float64],
    weight_sq_sums: NDArray[np.float64],
    *,
    weighted: bool,
) -> str:
    """``"multinomial"`` when the cell draw is an exact row bootstrap, else ``"multinomial-gamma"``.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([[2.0, 1.0]]); w = 2 * c
    >>> bootstrap_method(c, w, 2 * w, weighted=True)  # weight 2 in every row
    'multinomial'
    """
    if not weighted:
        return "multinomial"
    # Constant weights within a cell <=> n * sum(w^2) == (sum w)^2 (Cauchy-Schwarz equality).
    lhs = counts * weight_sq_sums
    rhs = weight_sums * weight_sums
    if np.allclose(lhs, rhs, rtol=1e-9, atol=1e-12):
        return "multinomial"
    return "multinomial-gamma"


def bootstrap_tables(
    counts: NDArray[np.float64],
    weight_sums: NDArray[np.float64] | None = None,
    weight_sq_sums: NDArray[np.float64] | None = None,
    *,
    n_replicates: int,
    seed: int | None = None,
    stratify: bool = False,
    method: str = "multinomial",
    block_size: int | None = None,
) -> Iterator[NDArray[np.float64]]:
    """Yield blocks of bootstrap replicates of a table, shape ``(block, *counts.shape)``.

    Parameters
    ----------
    counts : ndarray of shape (n_groups, ...)
        Row counts per cell; the first axis is the group.
    weight_sums, weight_sq_sums : ndarray, optional
        Sums of sample weights and of their squares per cell. When given, the replicates are
        resampled weight sums; otherwise resampled counts.
    n_replicates : int
        Total number of replicates over all blocks.
    seed : int, optional
        Seed of the random generator; the same seed gives the same replicates.
    stratify : bool
        Keep each group's row count fixed.
    method : {"multinomial", "multinomial-gamma"}
        See :func:`bootstrap_method`.

    Examples
    --------
    >>> import numpy as np
    >>> counts = np.array([[[5.0, 1.0], [2.0, 2.0]]])
    >>> blocks = list(bootstrap_tables(counts, n_replicates=3, seed=0, stratify=True))
    >>> blocks[0].shape, blocks[0].sum(axis=(1, 2, 3)).tolist()
    ((3, 1, 2, 2), [10.0, 10.0, 10.0])
    """
    if method not in BOOTSTRAP_METHODS:
        raise ValueError(f"method must be one of {BOOTSTRAP_METHODS}; got {method!r}")
    counts = np.asarray(counts, dtype=np.float64)
    shape = counts.shape
    n_groups = shape[0]
    flat = np.rint(counts.reshape(n_groups, -1)).astype(np.int64)
    n_cells = flat.size
    rng = np.random.default_rng(seed)
    if block_size is None:
        block_size = max(1, min(n_replicates, _BLOCK_CELLS // max(n_cells, 1)))
    if stratify:
        n_g = flat.sum(axis=1)
        p_g = flat / np.maximum(n_g, 1)[:, None]
    else:
        n_all = int(flat.sum())
        p_all = flat.reshape(-1) / max(n_all, 1)
    mu = s2 = None
    if weight_sums is not None:
        wsum = np.asarray(weight_sums, dtype=np.float64).reshape(n_groups, -1)
        with np.errstate(divide="ignore", invalid="ignore"):
            mu = np.where(flat > 0, wsum / np.maximum(flat, 1), 0.0)
        if method == "multinomial-gamma":
            if weight_sq_sums is None:
                raise ValueError("method='multinomial-gamma' needs weight_sq_sums")
            wsq = np.asarray(weight_sq_sums, dtype=np.float64).reshape(n_groups, -1)
            s2 = np.where(flat > 0, wsq / np.maximum(flat, 1) - mu * mu, 0.0)
            # Round-off can make a zero variance slightly negative or tiny.
            s2 = np.where(s2 > 1e-12 * np.maximum(mu * mu, 1e-300), s2, 0.0)
    done = 0
    while done < n_replicates:
        b = min(block_size, n_replicates - done)
        if stratify:
            k = rng.multinomial(n_g, p_g, size=(b, n_groups))
        else:
            k = rng.multinomial(n_all, p_all, size=b).reshape(b, n_groups, -1)
        if mu is None:
            out = k.astype(np.float64)
        elif s2 is None:
            out = k * mu
        else:
            var = s2[None]
            pos = var > 0
            safe_var = np.where(pos, var, 1.0)
            mean = k * mu
            shape_k = np.where(pos, mean * mu / safe_var, 0.0)
            scale = np.where(pos & (mu > 0), safe_var / np.where(mu > 0, mu, 1.0), 1.0)
            drawn = rng.gamma(shape_k, scale)
            out = np.where(pos & (mu > 0), drawn, mean)
        yield out.reshape((b, *shape))
        done += b


def percentile_interval(
    samples: NDArray[np.float64], confidence: float = 0.95, *, min_defined: float = 0.5
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Percentile bootstrap interval along axis 0, ignoring NaN replicates.

    A replicate can leave a rate undefined (a group drew no positives); the interval is then
    taken over the replicates that define it, and is NaN when fewer than ``min_defined`` of
    them do. Quantiles interpolate linearly (numpy's default method).

    Examples
    --------
    >>> import numpy as np
    >>> lo, hi = percentile_interval(np.arange(101.0)[:, None], 0.9)
    >>> round(float(lo[0]), 9), round(float(hi[0]), 9)
    (5.0, 95.0)
    """
    x = np.asarray(samples, dtype=np.float64)
    n_rep = x.shape[0]
    alpha = (1.0 - confidence) / 2.0
    # Replicates on the last, contiguous axis: sorting along a strided axis is several times
    # slower.
    xt = np.ascontiguousarray(np.moveaxis(x, 0, -1))
    # A full sort beats np.partition at four order statistics here: numpy's float sort is
    # vectorised (SIMD), its multi-kth selection is not.
    m = (~np.isnan(xt)).sum(axis=-1)
    xt.sort(axis=-1)  # NaN sorts last

    def q(p: float) -> NDArray[np.float64]:
        pos = (np.maximum(m, 1) - 1) * p
        lo_i = np.floor(pos).astype(np.int64)
        hi_i = np.minimum(lo_i + 1, np.maximum(m - 1, 0))
        frac = pos - lo_i
        a = np.take_along_axis(xt, lo_i[..., None], axis=-1)[..., 0]
        b = np.take_along_axis(xt, hi_i[..., None], axis=-1)[..., 0]
        # a + (b - a) * frac, written so that equal ends give exactly that value
        val = np.where(frac > 0, a + (b - a) * frac, a)
        return np.where(m >= max(1, min_defined * n_rep), val, np.nan)

    return q(alpha), q(1.0 - alpha)
