"""The rows a :class:`~fairslm.training.FairnessTrainer` reads: group codes, labels and weights
from a ``datasets.Dataset`` or any map-style dataset of dicts, and the columns it adds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fairslm.data import as_rows
from fairslm.exceptions import InvalidDataError

__all__ = ["TrainerRows", "columns_of", "select", "with_columns"]


def columns_of(dataset: Any) -> list[str]:
    names = getattr(dataset, "column_names", None)
    if names is not None:
        return list(names)
    if len(dataset) == 0:
        raise InvalidDataError("the dataset has no rows")
    return list(dataset[0])


def _values(dataset: Any, column: str) -> list[Any]:
    if hasattr(dataset, "column_names"):
        return list(dataset[column])
    return [dataset[i][column] for i in range(len(dataset))]


class _WithColumns:
    """A map-style dataset of dicts with extra columns (for datasets other than ``datasets.Dataset``)."""

    def __init__(self, base: Any, extra: dict[str, list[Any]]) -> None:
        self.base, self.extra = base, extra

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {**self.base[i], **{k: v[i] for k, v in self.extra.items()}}


def with_columns(dataset: Any, extra: dict[str, list[Any]]) -> Any:
    if hasattr(dataset, "add_column"):
        for name, values in extra.items():
            dataset = dataset.add_column(name, values)
        return dataset
    return _WithColumns(dataset, extra)


def select(dataset: Any, idx: np.ndarray) -> Any:
    if hasattr(dataset, "select"):
        return dataset.select(idx.tolist())
    import torch

    return torch.utils.data.Subset(dataset, idx.tolist())


class TrainerRows:
    """The label, group code and weight of every row of one dataset.

    Groups and weights are read by :func:`fairslm.data.as_rows`, as ``fairslm.train`` and
    debiasing read them, so a dataset's groups come in the same order in every command; the
    labels stay the model's class indices.
    """

    def __init__(self, dataset: Any, what: str, *, columns: list[str], label: str,
                 weight: str | None, group_labels: list[str] | None) -> None:
        have = columns_of(dataset)
        missing = [c for c in [*columns, label, *([weight] if weight else [])] if c not in have]
        if missing:
            raise InvalidDataError(
                f"column(s) {missing} not found in the {what} dataset; its columns are: "
                f"{', '.join(have)}. Pass group_column= (and weight_column=) naming the columns "
                "that hold the sensitive groups (and row weights)"
            )
        frame = pd.DataFrame({c: _values(dataset, c) for c in dict.fromkeys([*columns, label, *([weight] if weight else [])])})
        rows = as_rows(frame, y=label, sensitive_features=columns, sample_weight=weight,
                       source=f"the {what} dataset")
        names = rows.group_labels
        if group_labels is None:
            group_labels = names
            if len(group_labels) < 2:
                raise InvalidDataError(
                    f"the {what} dataset has a single group {group_labels} in {columns}; "
                    "fairness needs at least two")
        unseen = sorted(set(names) - set(group_labels))
        if unseen:
            raise InvalidDataError(f"the {what} dataset has groups {unseen} not seen in training ({group_labels})")
        code = {g: i for i, g in enumerate(group_labels)}
        self.group_labels = list(group_labels)
        self.group = np.array([code[n] for n in names], dtype=np.int64)[rows.group]
        self.y = np.asarray(rows.labels, dtype=np.int64)
        self.weight = rows.weight
