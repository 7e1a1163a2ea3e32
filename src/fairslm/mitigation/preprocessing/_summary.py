"""A before/after summary of training data: group shares, label rates, weights."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.data import Rows
from fairslm.mitigation.preprocessing._cells import Cells
from fairslm.mitigation.preprocessing._outputs import AUGMENTED_COLUMN

__all__ = ["DataSummary", "GroupSummary", "summarize_cells", "summarize_rows"]


@dataclass(frozen=True)
class GroupSummary:
    """One group of the training data."""

    group: str
    rows: int
    share: float
    weighted_share: float
    label_rates: dict[str, float]
    weighted_label_rates: dict[str, float]
    mean_weight: float
    min_weight: float
    max_weight: float


@dataclass(frozen=True)
class DataSummary:
    """Group shares, label rates (by row count and by weight) and weights of a data set."""

    rows: int
    augmented_rows: int
    weighted: bool
    features: tuple[str, ...]
    classes: tuple[str, ...]
    pos_label: str | None
    label_rates: dict[str, float]
    weighted_label_rates: dict[str, float]
    groups: tuple[GroupSummary, ...] = field(default_factory=tuple)

    def group(self, label: str) -> GroupSummary:
        for g in self.groups:
            if g.group == label:
                return g
        raise KeyError(f"no group {label!r}; groups are {[g.group for g in self.groups]}")

    def label_rate_gap(self, *, weighted: bool = True) -> float:
        """Largest minus smallest rate of the positive label (else the last label) across groups."""
        label = self.pos_label if self.pos_label is not None else self.classes[-1]
        rates = [
            (g.weighted_label_rates if weighted else g.label_rates)[label] for g in self.groups
        ]
        return float(max(rates) - min(rates)) if rates else float("nan")

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def summarize_rows(rows: Rows) -> DataSummary:
    """Summarise :class:`Rows` (rows without weights count as weight 1)."""
    cells = Cells(rows)
    w = rows.weights if rows.weights is not None else np.ones(rows.n)
    lo = np.array([w[rows.group == g].min() for g in range(cells.n_groups)])
    hi = np.array([w[rows.group == g].max() for g in range(cells.n_groups)])
    frame = rows.frame
    n_aug = 0
    if frame is not None and AUGMENTED_COLUMN in frame.columns:
        n_aug = int(frame[AUGMENTED_COLUMN].fillna(False).astype(bool).sum())
    return summarize_cells(cells, lo, hi, weighted=rows.weights is not None,
                           pos_label=rows.pos_label, augmented_rows=n_aug)


def summarize_cells(
    cells: Cells,
    min_weight: NDArray[np.float64],
    max_weight: NDArray[np.float64],
    *,
    weighted: bool,
    pos_label: object | None,
    augmented_rows: int = 0,
) -> DataSummary:
    """Summarise (group, label) cells, given each group's smallest and largest weight."""
    classes = tuple(str(c) for c in cells.classes)
    counts = cells.counts.astype(np.float64)
    sums = cells.weight_sums
    groups = []
    for g, label in enumerate(cells.group_labels):
        n_g, w_g = counts[g].sum(), sums[g].sum()
        groups.append(
            GroupSummary(
                group=label,
                rows=int(n_g),
                share=float(n_g / counts.sum()),
                weighted_share=float(w_g / sums.sum()) if sums.sum() > 0 else float("nan"),
                label_rates={c: float(counts[g, k] / n_g) for k, c in enumerate(classes)},
                weighted_label_rates={
                    c: float(sums[g, k] / w_g) if w_g > 0 else float("nan")
                    for k, c in enumerate(classes)
                },
                mean_weight=float(w_g / n_g),
                min_weight=float(min_weight[g]),
                max_weight=float(max_weight[g]),
            )
        )
    pos = None if pos_label is None else str(pos_label)
    if pos is not None and pos not in classes:
        pos = None
    return DataSummary(
        rows=int(counts.sum()),
        augmented_rows=augmented_rows,
        weighted=weighted,
        features=cells.features,
        classes=classes,
        pos_label=pos,
        label_rates={c: float(counts[:, k].sum() / counts.sum()) for k, c in enumerate(classes)},
        weighted_label_rates={
            c: float(sums[:, k].sum() / sums.sum()) for k, c in enumerate(classes)
        },
        groups=tuple(groups),
    )
