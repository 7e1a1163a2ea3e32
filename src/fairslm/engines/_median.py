"""Scores -> the count table of "scored above the full-sample median".

NYC's bias-audit rules define a scoring rate as the share of a category "that receive a score
above the sample's median score" (6 RCNY §5-300, §5-301(c)). The median is a statistic of the
rows, so it is taken here, in the one pass over the rows, and the table's decision column is
``score > median``: a score equal to the median is not above it. The same table keeps the
``(group, y_true, score bin)`` counts, so distributions, AUC and decisions at any threshold are
derived from it without touching the rows again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fairslm.engines._inputs import to_1d
from fairslm.engines._numpy import count_table_from_arrays
from fairslm.exceptions import InvalidDataError
from fairslm.metrics import CountTable

__all__ = ["MedianTable", "median_count_table"]


@dataclass(frozen=True)
class MedianTable:
    """A count table whose decision is ``score > median``, with the median it used.

    Attributes
    ----------
    table : CountTable
        Classes ``(0, 1)``; ``y_pred = 1`` for rows scored above the median; ``y_true`` the
        labels as 0/1 (all 0 when no labels were given). Scores, rescaled to [0, 1] when they
        fall outside it, fill the score-bin table.
    median : float
        The median of every row's score (unweighted, in the scores' own units).
    ties : int
        Rows scored exactly at the median (counted as not above it).
    score_range : tuple of float
        ``(lo, hi)``: a table score ``x`` is ``lo + x * (hi - lo)`` in the scores' units;
        ``(0, 1)`` when the scores already were in [0, 1].
    labelled : bool
        Whether ``y_true`` carries labels.
    """

    table: CountTable
    median: float
    ties: int
    score_range: tuple[float, float]
    labelled: bool

    def to_table_units(self, values: Any) -> np.ndarray:
        """Scores in their own units -> the table's [0, 1] units."""
        lo, hi = self.score_range
        return (np.asarray(values, dtype=np.float64) - lo) / (hi - lo)

    def to_score_units(self, values: Any) -> np.ndarray:
        """The table's [0, 1] units -> the scores' own units."""
        lo, hi = self.score_range
        return lo + np.asarray(values, dtype=np.float64) * (hi - lo)


def median_count_table(
    y_score: Any,
    sensitive_features: Any,
    *,
    y_true: Any = None,
    sample_weight: Any = None,
    n_score_bins: int = 1000,
    missing: str = "error",
) -> MedianTable:
    """Aggregate scores into the table of rows scored above the full-sample median.

    Parameters
    ----------
    y_score : array-like
        Numeric scores in any units (a rank, a 0-100 rating, a probability).
    sensitive_features : array-like, DataFrame or mapping
        As for :func:`count_table_from_arrays`.
    y_true : array-like of 0/1 or bool, optional
        Outcome labels, 1 the favourable one, for AUC and threshold criteria that need them.
    sample_weight : array-like, optional
        Row weights for every rate; the median itself is over rows, unweighted, as the rules
        define it over "the full sample of applicants".

    Raises
    ------
    InvalidDataError
        Non-numeric, missing or infinite scores, or every score equal (no score is above the
        median, so every scoring rate is 0 and no impact ratio is defined).

    Examples
    --------
    >>> m = median_count_table([1, 2, 2, 3, 5, 8], {"g": list("aabbab")})
    >>> m.median, m.ties
    (2.5, 0)
    >>> m.table.counts[:, 0, 1].tolist()  # rows above the median: a scored 5; b scored 3 and 8
    [1.0, 2.0]
    """
    s = to_1d(y_score, "y_score")
    if s.dtype.kind not in "biuf":
        try:
            s = s.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidDataError(
                f"scores must be numbers; found values such as {s[0]!r}. Pass the column of "
                "the tool's scores"
            ) from exc
    s = s.astype(np.float64)
    if s.size == 0:
        raise InvalidDataError("there are no scores: the data has no rows")
    bad = ~np.isfinite(s)
    if bad.any():
        raise InvalidDataError(
            f"scores have {int(bad.sum())} missing or infinite value(s); first at row "
            f"{int(np.flatnonzero(bad)[0])}. Drop or fill those rows"
        )
    lo, hi = float(s.min()), float(s.max())
    if lo == hi:
        raise InvalidDataError(
            f"the median score is undefined for a scoring rate: all {s.size} scores equal "
            f"{lo:g}, so no one scores above the median and no impact ratio exists. Check the "
            "score column (is it the tool's score?)"
        )
    median = float(np.median(s))
    above = (s > median).astype(np.int64)
    if y_true is None:
        labels = np.zeros(s.size, dtype=np.int64)
    else:
        labels = to_1d(y_true, "y_true")
        if len(labels) != s.size:
            raise InvalidDataError(f"y_true has {len(labels)} values but there are {s.size} scores")
        if labels.dtype == bool or labels.dtype.kind in "iu":
            labels = labels.astype(np.int64)
        if not np.isin(labels, (0, 1)).all():
            raise InvalidDataError(
                "y_true must be 0/1 or boolean here (1 = the favourable outcome); map the "
                "labels first"
            )
    scaled = s if lo >= 0 and hi <= 1 else (s - lo) / (hi - lo)
    score_range = (0.0, 1.0) if lo >= 0 and hi <= 1 else (lo, hi)
    table = count_table_from_arrays(
        labels, above, sensitive_features, sample_weight=sample_weight, y_score=scaled,
        n_score_bins=n_score_bins, missing=missing,
    )
    return MedianTable(
        table=table,
        median=median,
        ties=int((s == median).sum()),
        score_range=score_range,
        labelled=y_true is not None,
    )
