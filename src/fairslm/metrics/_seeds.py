"""The spread of a result over training seeds: mean and Student-t interval.

A fine-tune run is one draw from the distribution of outcomes over seeds (initialisation, data
order, dropout); the question a reader asks is where the mean of that distribution lies. With
the handful of seeds a fine-tune budget allows (3-10), the interval is the Student-t interval
``mean +/- t_{k-1} s / sqrt(k)`` (Student 1908): exact when the seed-to-seed variation is normal
and close to nominal for moderately skewed variation (the test suite simulates both). A
percentile bootstrap over 5 seeds would undercover badly: its 95% interval is the range of the
middle of 5 values (Efron & Tibshirani 1993, sec. 13.7, on small-sample bootstrap intervals).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["SeedInterval", "seed_interval"]


class SeedInterval(NamedTuple):
    """Mean over seeds and its confidence interval (NaN bounds with fewer than two seeds)."""

    mean: float
    low: float
    high: float
    n: int
    sd: float

    def to_dict(self) -> dict[str, float | int]:
        return self._asdict()


def seed_interval(values: ArrayLike, confidence: float = 0.95) -> SeedInterval:
    """Mean of one result over seeds and its Student-t interval; NaN values are left out.

    Examples
    --------
    >>> r = seed_interval([0.70, 0.74, 0.78, 0.72, 0.76])
    >>> round(r.mean, 3), round(r.low, 4), round(r.high, 4), r.n
    (0.74, 0.7007, 0.7793, 5)
    """
    from scipy import stats

    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence}")
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return SeedInterval(float("nan"), float("nan"), float("nan"), 0, float("nan"))
    mean = float(x.mean())
    if n < 2:
        return SeedInterval(mean, float("nan"), float("nan"), 1, float("nan"))
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * sd / np.sqrt(n)
    return SeedInterval(mean, float(mean - half), float(mean + half), n, sd)
