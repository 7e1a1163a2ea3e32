"""(group, label) cells: the counts every preprocessing method starts from."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fairslm.data import Rows, label_codes
from fairslm.exceptions import InvalidDataError
from fairslm.metrics import CountTable

__all__ = ["Cells", "cells_of", "require_groups"]


class Cells:
    """Row counts and weight sums of every (group, label) cell of one input."""

    def __init__(self, rows: Rows, classes: tuple[object, ...] | None = None) -> None:
        self.rows: Rows | None = rows
        self.features = rows.features
        if classes is None:
            self.classes, self.y_codes = rows.classes, rows.y
        else:
            self.classes, self.y_codes = label_codes(rows.labels, classes)
        self.group_keys = rows.group_keys
        self.group_labels = rows.group_labels
        self.n_groups = len(self.group_keys)
        self.n_classes = len(self.classes)
        flat = rows.group * self.n_classes + self.y_codes
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


def require_groups(groups: Any, method: str) -> None:
    """Refuse a sensitive feature with a single group for a method that balances groups.

    ``groups`` is :class:`Rows` or the cells built from them (anything with ``features`` and
    ``group_keys``). Consistent with the audits: with one group there is nothing to balance,
    and writing an unchanged copy would look like a debiased data set.
    """
    for j, name in enumerate(groups.features):
        present = {key[j] for key in groups.group_keys}
        if len(present) < 2:
            raise InvalidDataError(
                f"sensitive column {name!r} has a single group ({next(iter(present))!r}) in all "
                f"rows; {method} balances groups, so one group leaves nothing to change. Check "
                "the column, or drop it from the sensitive columns"
            )
