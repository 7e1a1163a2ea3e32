"""From a count table to the counts of a regime's categories, and the dimensions audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from fairslm.compliance._categories import UNKNOWN
from fairslm.metrics import CountTable

__all__ = ["SEX", "RACE", "category_counts", "dimension_views", "intersection_label"]

SEX = "sex"
RACE = "race/ethnicity"


def intersection_label(sex: str, race: str) -> str:
    """An intersectional category's name: ``"Female, Asian"``."""
    return f"{sex}, {race}"


def dimension_views(
    table: CountTable, categories: Mapping[str, Sequence[str]], *, intersection: bool = True,
) -> list[tuple[str, CountTable, list[tuple[str, ...]], list[str]]]:
    """``(dimension, view, expected group values, their labels)`` for each dimension of
    ``categories`` (``sex``, ``race/ethnicity``) and, when both are there and ``intersection``,
    for sex x race/ethnicity, in the regimes' order of categories."""
    views = [
        (dim, table.marginal([dim]), [(c,) for c in cats], list(cats))
        for dim, cats in categories.items()
    ]
    if intersection and SEX in categories and RACE in categories:
        # The rules' example lists Hispanic or Latino first, then each race, each by sex.
        pairs = [(s, r) for r in categories[RACE] for s in categories[SEX]]
        views.append(("intersectional", table.marginal([SEX, RACE]), pairs,
                      [intersection_label(s, r) for s, r in pairs]))
    return views


def category_counts(
    view: CountTable, pos: object, expected: Sequence[tuple[str, ...]]
) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    """Applicants and selected per expected category, and people in an unknown category.

    Counts are rows, unweighted: the regimes count individuals. A group with ``unknown`` in
    any of its values is counted as unknown; an expected category absent from the data has 0
    applicants.
    """
    conf = view.binary(pos, weighted=False)
    applicants = conf.sum(axis=(1, 2))
    selected = conf[:, :, 1].sum(axis=1)
    index = {tuple(str(v) for v in values): g for g, values in enumerate(view.group_values)}
    n = np.zeros(len(expected))
    s = np.zeros(len(expected))
    for i, cat in enumerate(expected):
        g = index.get(tuple(cat))
        if g is not None:
            n[i], s[i] = applicants[g], selected[g]
    unknown = sum(
        int(round(applicants[g])) for values, g in index.items() if UNKNOWN in values
    )
    return n, s, unknown
