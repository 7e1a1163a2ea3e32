"""(group, label) cells: the counts every preprocessing method starts from."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from fairslm.exceptions import InvalidDataError
from fairslm.metrics import CountTable
from fairslm.mitigation.preprocessing._rows import Rows

__all__ = ["Cells", "cells_of", "label_codes"]


def _py(v: Any) -> object:
    return v.item() if isinstance(v, np.generic) else v


def label_codes(y: NDArray[Any], classes: tuple[object, ...] | None = None) -> tuple[
    tuple[object, ...], NDArray[np.int64]
]:
    """Codes of ``y`` against ``classes`` (sorted unique labels when ``classes`` is None)."""
    if classes is None:
        try:
            codes, uniques = pd.factorize(y, sort=True)
        except TypeError as exc:
            raise InvalidDataError(
                "the labels mix types that cannot be sorted (e.g. strings and numbers); "
                "use one type"
            ) from exc
        return tuple(_py(u) for u in uniques), codes.astype(np.int64)
    index = {c: i for i, c in enumerate(classes)}
    index_str = {str(c): i for i, c in enumerate(classes)}
    out = np.empty(len(y), dtype=np.int64)
    unknown: list[object] = []
    for i, v in enumerate(y):
        v = _py(v)
        code = index.get(v)
        if code is None:
            code = index_str.get(str(v))
        if code is None:
            unknown.append(v)
            code = -1
        out[i] = code
    if unknown:
        raise InvalidDataError(
            f"labels {sorted(set(map(str, unknown)))} were not seen in fit (labels seen: "
            f"{list(classes)}); fit on data that has every label"
        )
    return classes, out


class Cells:
    """Row counts and weight sums of every (group, label) cell of one input."""

    def __init__(self, rows: Rows, classes: tuple[object, ...] | None = None) -> None:
        self.rows: Rows | None = rows
        self.features = rows.features
        self.classes, self.y_codes = label_codes(rows.y, classes)
        self.group_keys = rows.group_keys
        self.group_labels = rows.labels_of_groups()
        self.n_groups = len(self.group_keys)
        self.n_classes = len(self.classes)
        flat = rows.group_codes * self.n_classes + self.y_codes
        size = self.n_groups * self.n_classes
        self.cell = flat
        self.counts = np.bincount(flat, minlength=size).reshape(self.n_groups, self.n_classes)
        w = rows.weights if rows.weights is not None else np.ones(rows.n)
        self.weight_sums = np.bincount(flat, weights=w, minlength=size).reshape(
            self.n_groups, self.n_classes
        )

    @classmethod
    def from_table(cls, table: CountTable) -> Cells:
        """The cells of a count table whose decisions are the labels (built by an engine,
        e.g. Spark, from rows this process never sees)."""
        self = cls.__new__(cls)
        self.rows = None
        self.features = table.features
        self.classes = table.classes
        self.group_keys = tuple(table.group_values)
        self.group_labels = table.group_labels
        self.n_groups, self.n_classes = table.n_groups, len(table.classes)
        # Labels stand in for decisions: summing out the decision axis leaves each label.
        self.counts = table.counts.sum(axis=2).round().astype(np.int64)
        self.weight_sums = table.weight_sums.sum(axis=2)
        return self

    def describe(self, g: int, k: int) -> str:
        """Readable name of a cell: ``group gender=F with label 'surgeon'``."""
        key = self.group_keys[g]
        parts = ", ".join(f"{f}={v}" for f, v in zip(self.features, key, strict=True))
        return f"group {parts} with label {self.classes[k]!r}"

    def frame(self) -> pd.DataFrame:
        """One row per cell: group values, label, rows, weight sum."""
        records = []
        for g, key in enumerate(self.group_keys):
            for k, label in enumerate(self.classes):
                rec: dict[str, Any] = dict(zip(self.features, key, strict=True))
                rec.update(
                    group=self.group_labels[g],
                    label=label,
                    rows=int(self.counts[g, k]),
                    weight_sum=float(self.weight_sums[g, k]),
                )
                records.append(rec)
        return pd.DataFrame.from_records(records)


def cells_of(rows: Rows, classes: tuple[object, ...] | None = None) -> Cells:
    return Cells(rows, classes)
