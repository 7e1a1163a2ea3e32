"""The aggregated count table that every audit number is derived from.

A :class:`CountTable` holds, for each observed (intersectional) group, the confusion matrix of
``y_true`` against ``y_pred`` as row counts, sums of sample weights and sums of squared sample
weights, plus an optional ``(group, y_true, score bin)`` table. It is small (groups x classes^2),
so everything after aggregation costs nothing in the number of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["CountTable"]

MISSING_LABEL = "(missing)"


@dataclass(frozen=True, eq=False)
class CountTable:
    """Confusion counts per group.

    Attributes
    ----------
    features : tuple of str
        Names of the sensitive features; a group is one combination of their levels.
    levels : tuple of tuple
        The levels of each feature, in code order.
    keys : ndarray of shape (n_groups, n_features)
        Level codes of each observed group.
    classes : tuple
        Label classes, sorted; ``counts[g, i, j]`` counts rows of group ``g`` with
        ``y_true == classes[i]`` and ``y_pred == classes[j]``.
    counts, weight_sums, weight_sq_sums : ndarray of shape (n_groups, n_classes, n_classes)
        Row counts, sums of sample weights and of their squares (equal to ``counts`` when
        unweighted).
    weighted : bool
        Whether sample weights were given.
    score_edges : ndarray or None
        Bin edges of ``y_score`` (``n_bins + 1`` values) when scores were given.
    score_counts, score_weight_sums : ndarray of shape (n_groups, n_classes, n_bins) or None
        Rows (and their weight sums) per (group, y_true, score bin).
    score_sums : ndarray of shape (n_groups, n_classes, n_bins) or None
        Sum of ``weight * score`` per (group, y_true, score bin), for exact calibration error.
    score_sq_sums : ndarray of shape (n_groups, n_classes, n_bins) or None
        Sum of ``weight * score**2`` per (group, y_true, score bin), for exact score variances.
    """

    features: tuple[str, ...]
    levels: tuple[tuple[object, ...], ...]
    keys: NDArray[np.int64]
    classes: tuple[object, ...]
    counts: NDArray[np.float64]
    weight_sums: NDArray[np.float64]
    weight_sq_sums: NDArray[np.float64]
    weighted: bool = False
    score_edges: NDArray[np.float64] | None = None
    score_counts: NDArray[np.float64] | None = None
    score_weight_sums: NDArray[np.float64] | None = None
    score_sums: NDArray[np.float64] | None = None
    score_sq_sums: NDArray[np.float64] | None = None
    _labels: tuple[str, ...] = field(default=(), repr=False)

    @property
    def n_groups(self) -> int:
        return int(self.keys.shape[0])

    @property
    def n_rows(self) -> int:
        return int(round(float(self.counts.sum())))

    @property
    def group_values(self) -> list[tuple[object, ...]]:
        """Each group as a tuple of level values, one per feature."""
        return self._rows(self._feature_values())

    @property
    def group_labels(self) -> list[str]:
        """Readable group names: the level for one feature, ``"a, b"`` for intersections."""
        columns = [[str(v) for v in col] for col in self._feature_values()]
        if len(columns) == 1:
            return columns[0]
        return [", ".join(values) for values in self._rows(columns)]

    def _feature_values(self) -> list[list[object]]:
        # Column by column through Python lists: indexing numpy rows element by element costs
        # a second at 10,000 groups.
        return [
            [levels[code] for code in self.keys[:, f].tolist()]
            for f, levels in enumerate(self.levels)
        ]

    def _rows(self, columns: Sequence[Sequence[object]]) -> list[tuple[object, ...]]:
        if not columns:
            return [() for _ in range(self.n_groups)]
        return list(zip(*columns, strict=True))

    def marginal(self, features: Sequence[str]) -> CountTable:
        """Aggregate the table to the groups of a subset of its features.

        Examples
        --------
        A two-feature table summed over ``race`` gives the ``gender`` groups.
        """
        features = tuple(features)
        unknown = [f for f in features if f not in self.features]
        if unknown:
            raise KeyError(f"features {unknown} are not in the table; it has {list(self.features)}")
        if features == self.features:
            return self
        idx = [self.features.index(f) for f in features]
        keys, inverse = self._marginal_keys(idx)

        def agg(a: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
            if a is None:
                return None
            out = np.zeros((keys.shape[0],) + a.shape[1:], dtype=np.float64)
            np.add.at(out, inverse, a)
            return out

        return CountTable(
            features=features,
            levels=tuple(self.levels[i] for i in idx),
            keys=keys.astype(np.int64),
            classes=self.classes,
            counts=agg(self.counts),  # type: ignore[arg-type]
            weight_sums=agg(self.weight_sums),  # type: ignore[arg-type]
            weight_sq_sums=agg(self.weight_sq_sums),  # type: ignore[arg-type]
            weighted=self.weighted,
            score_edges=self.score_edges,
            score_counts=agg(self.score_counts),
            score_weight_sums=agg(self.score_weight_sums),
            score_sums=agg(self.score_sums),
            score_sq_sums=agg(self.score_sq_sums),
        )

    def _marginal_keys(self, idx: list[int]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        keys, inverse = np.unique(self.keys[:, idx], axis=0, return_inverse=True)
        return keys, np.asarray(inverse).reshape(-1).astype(np.int64)

    def group_index(self, features: Sequence[str]) -> NDArray[np.int64]:
        """For each group of this table, its group in :meth:`marginal` over ``features``."""
        features = tuple(features)
        if features == self.features:
            return np.arange(self.n_groups, dtype=np.int64)
        return self._marginal_keys([self.features.index(f) for f in features])[1]

    def total(self) -> CountTable:
        """The whole population as a single group named ``overall``."""
        def agg(a: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
            return None if a is None else a.sum(axis=0, keepdims=True)

        return CountTable(
            features=("overall",),
            levels=(("overall",),),
            keys=np.zeros((1, 1), dtype=np.int64),
            classes=self.classes,
            counts=agg(self.counts),  # type: ignore[arg-type]
            weight_sums=agg(self.weight_sums),  # type: ignore[arg-type]
            weight_sq_sums=agg(self.weight_sq_sums),  # type: ignore[arg-type]
            weighted=self.weighted,
            score_edges=self.score_edges,
            score_counts=agg(self.score_counts),
            score_weight_sums=agg(self.score_weight_sums),
            score_sums=agg(self.score_sums),
            score_sq_sums=agg(self.score_sq_sums),
        )

    def binary(
        self,
        pos_label: object,
        *,
        weighted: bool | None = None,
        source: NDArray[np.float64] | None = None,
    ) -> NDArray[np.float64]:
        """One-vs-rest confusion ``(..., n_groups, 2, 2)`` for ``pos_label`` (index 1 = positive).

        ``weighted=None`` uses sample weight sums when the table is weighted, else counts.
        ``source`` replaces the table's cells with another array of shape
        ``(..., n_groups, n_classes, n_classes)``, e.g. bootstrap replicates.
        """
        if pos_label not in self.classes:
            raise KeyError(
                f"positive label {pos_label!r} is not among the labels {list(self.classes)}"
            )
        p = self.classes.index(pos_label)
        use_w = self.weighted if weighted is None else weighted
        if source is not None:
            return _binary_cells(np.asarray(source, dtype=np.float64), p)
        c = self.weight_sums if use_w else self.counts
        return _binary_cells(c, p)


def _binary_cells(c: NDArray[np.float64], p: int) -> NDArray[np.float64]:
    # Two classes: the cells already are the confusion (copied, never a view of the table).
    if c.shape[-1] == 2 and p == 1:
        return c.copy()
    if c.shape[-1] == 2 and p == 0:
        return np.ascontiguousarray(c[..., ::-1, ::-1])
    out = np.empty((*c.shape[:-2], 2, 2), dtype=np.float64)
    total = c.sum(axis=(-2, -1))
    tp = c[..., p, p]
    actual_pos = c[..., p, :].sum(axis=-1)
    pred_pos = c[..., :, p].sum(axis=-1)
    out[..., 1, 1] = tp
    out[..., 1, 0] = actual_pos - tp
    out[..., 0, 1] = pred_pos - tp
    out[..., 0, 0] = total - actual_pos - pred_pos + tp
    return out
