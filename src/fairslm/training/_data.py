"""Training rows in one shape, and the batches the loop draws from them.

Accepts a fairslm ``Dataset``, a pandas DataFrame or mapping of columns, or a file named in the
config, and holds them in :class:`fairslm.data.Rows`, the row container debiasing uses too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairslm._missing import missing_mask
from fairslm.data import Rows, as_rows, is_dataset, load_dataset
from fairslm.exceptions import ConfigError, InvalidDataError

__all__ = [
    "Rows",
    "balanced_draw",
    "cells_of",
    "epoch_batches",
    "read_rows",
    "strata",
    "stratified_indices",
    "stratified_split",
]


def _read(data: Any, text: str, label: str, sensitive: Sequence[str], weight: str | None) -> Rows:
    """Rows (with texts) from a file, a fairslm ``Dataset``, a DataFrame or a mapping of columns.

    A file is read by :func:`fairslm.data.load_dataset` and every input by
    :func:`fairslm.data.as_rows`, as debiasing reads them, so one file gives the same labels and
    groups in every command.
    """
    if isinstance(data, (str, Path)):
        if not sensitive:
            raise ConfigError("name the sensitive feature column(s): data.sensitive = [\"gender\"]")
        data = load_dataset(data, text=text, label=label, sensitive=list(sensitive), weight=weight)
    if is_dataset(data):
        return as_rows(data, need_text=True)
    source = "in-memory data"
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    if not sensitive:
        raise ConfigError("name the sensitive feature column(s): data.sensitive = [\"gender\"]")
    missing = [c for c in (text, label, *sensitive, *([weight] if weight else [])) if c not in frame.columns]
    if missing:
        raise InvalidDataError(
            f"column(s) {missing} not found in {source}; columns are: {', '.join(map(str, frame.columns))}. "
            "Set data.text / data.label / data.sensitive to the right names"
        )
    if len(frame) == 0:
        raise InvalidDataError(f"{source} has no rows")
    for col in sensitive:
        n_missing = int(missing_mask(frame[col]).sum())
        if n_missing:
            raise InvalidDataError(
                f"sensitive column {col!r} of {source} has {n_missing} missing value(s); fill "
                "or drop those rows (empty strings count as missing)"
            )
    n_missing = int(missing_mask(frame[label]).sum())
    if n_missing:
        raise InvalidDataError(
            f"label column {label!r} of {source} has {n_missing} missing value(s); drop or "
            "label those rows (empty strings count as missing)"
        )
    return as_rows(frame, y=label, sensitive_features=list(sensitive), sample_weight=weight,
                   text=frame[text].astype(str), need_text=True, source=source)


def read_rows(
    data: Any,
    *,
    text: str = "text",
    label: str = "label",
    sensitive: Sequence[str] = (),
    weight: str | None = None,
    pos_label: Any = None,
    like: Rows | None = None,
) -> Rows:
    """One split's rows, classes named by their strings (the model's label names).

    Pass the training split's rows as ``like`` for the others: their labels and groups are then
    coded against the training split's.
    """
    rows = _read(data, text, label, sensitive, weight)
    source = rows.source
    label_str = [str(v) for v in rows.labels]
    if like is None:
        classes = sorted(set(label_str))
        if len(classes) < 2:
            raise InvalidDataError(f"{source} has a single label {classes}; training needs two or more")
    else:
        classes = [str(c) for c in like.classes]
    unknown = sorted(set(label_str) - set(classes))
    if unknown:
        raise InvalidDataError(f"{source} has labels {unknown} not seen in training ({classes})")
    pos = pos_label if pos_label is not None else (like.pos_label if like is not None else rows.pos_label)
    if pos is None:
        if set(classes) == {"0", "1"}:
            pos = "1"
        else:
            raise ConfigError(
                f"the labels are {classes}, so the positive (favourable) class is ambiguous; "
                "set data.pos_label to one of them"
            )
    if str(pos) not in classes:
        raise ConfigError(f"pos_label {pos!r} is not among the labels {classes}")
    if like is None:
        if len(rows.group_keys) < 2:
            raise InvalidDataError(
                f"{source} has a single sensitive group {rows.group_labels}; fairness needs at least two"
            )
    else:
        rows = rows.with_groups(like.group_keys)
    return rows.with_classes(tuple(classes), str(pos))


def strata(rows: Rows, stratify: bool) -> list[np.ndarray]:
    """Row indices of each (group, label) cell, or one stratum of all rows."""
    if not stratify:
        return [np.arange(len(rows))]
    return cells_of(rows.group, rows.y)


def cells_of(group: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Row indices of each (group, label) cell present, ordered by (group, label).

    Examples
    --------
    >>> [c.tolist() for c in cells_of(np.array([1, 0, 1, 0]), np.array([0, 1, 0, 0]))]
    [[3], [1], [0, 2]]
    """
    key = np.asarray(group, dtype=np.int64) * (int(np.max(y, initial=0)) + 1) + np.asarray(y, dtype=np.int64)
    return [np.flatnonzero(key == k) for k in np.unique(key)]


def balanced_draw(cells: Sequence[np.ndarray], draw: int, batch_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the ``draw``-th held-out measurement: as many from every cell, with count weights.

    Each (group, label) cell gives ``batch_size // len(cells)`` rows (at least one), cycling
    through a seeded permutation of the cell, so a cell of 15 rows is measured as often as one of
    180 and its rate is not a one-row guess. The returned weights (cell size / rows drawn from it)
    make weighted counts estimate the held-out population, so rates conditioned on the label
    (TPR, FPR) and on the group alone (selection rate) are both unbiased.

    Examples
    --------
    >>> cells = [np.array([0, 1, 2, 3, 4, 5]), np.array([6, 7])]
    >>> idx, w = balanced_draw(cells, 0, 4, seed=0)
    >>> len(idx), sorted(set(w.tolist()))
    (4, [1.0, 3.0])
    >>> sorted(np.concatenate([balanced_draw(cells, d, 4, 0)[0] for d in range(3)]).tolist())[:6]
    [0, 1, 2, 3, 4, 5]
    """
    k = max(1, batch_size // max(1, len(cells)))
    idx: list[int] = []
    scale: list[float] = []
    for c, s in enumerate(cells):
        n = len(s)
        if n == 0:
            continue
        perms: dict[int, np.ndarray] = {}
        for j in range(draw * k, draw * k + k):
            cycle, at = divmod(j, n)
            if cycle not in perms:
                perms[cycle] = np.random.default_rng([seed, 104729, c, cycle]).permutation(n)
            idx.append(int(s[perms[cycle][at]]))
        scale.extend([n / k] * k)
    return np.asarray(idx, dtype=np.int64), np.asarray(scale, dtype=np.float64)


def stratified_split(rows: Rows, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held-out) indices, taking ``fraction`` of each (group, label) cell, at least one."""
    return stratified_indices(rows.group, rows.y, fraction, seed)


def stratified_indices(group: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`stratified_split` of rows given by their group codes and class indices."""
    rng = np.random.default_rng([seed, 7919])
    keep, held = [], []
    for s in cells_of(group, y):
        s = rng.permutation(s)
        k = min(len(s) - 1, max(1, int(round(fraction * len(s))))) if len(s) > 1 else 0
        held.append(s[:k])
        keep.append(s[k:])
    return np.sort(np.concatenate(keep)), np.sort(np.concatenate(held))


def _interleave(groups: Sequence[np.ndarray], jitter: np.ndarray | None) -> np.ndarray:
    """Merge index lists so each is spread evenly: item r of a list of n sits near r / n."""
    keys, idx = [], []
    for k, s in enumerate(groups):
        n = len(s)
        off = 0.5 if jitter is None else jitter[k]
        keys.append((np.arange(n) + off) / max(n, 1))
        idx.append(s)
    key = np.concatenate(keys)
    return np.concatenate(idx)[np.argsort(key, kind="stable")]


def epoch_batches(
    cells: Sequence[np.ndarray],
    lengths: np.ndarray,
    batch_size: int,
    *,
    seed: int,
    epoch: int,
    length_buckets: bool,
    chunk_batches: int = 32,
) -> list[np.ndarray]:
    """The batches of one epoch: a pure function of ``(seed, epoch)``, so a resumed run sees
    the same batches.

    Every cell (group x label) is shuffled and spread evenly over the epoch, so each batch holds
    every cell in proportion (a cell with at least ``1 / batch_size`` of the rows is in every
    batch). With ``length_buckets``, each window of ``chunk_batches`` batches is re-cut so that
    batch j takes the j-th length quantile of every cell: similar lengths pad less, and the
    batches stay stratified; the batch order is then shuffled.
    """
    rng = np.random.default_rng([seed, epoch])
    shuffled = [rng.permutation(c) for c in cells]
    order = _interleave(shuffled, rng.random(len(cells)))
    if length_buckets:
        label_of = np.empty(int(max(c.max() for c in cells if len(c))) + 1, dtype=np.int64)
        for k, c in enumerate(cells):
            label_of[c] = k
        window = batch_size * chunk_batches
        parts = []
        for start in range(0, len(order), window):
            chunk = order[start : start + window]
            by_cell = [chunk[label_of[chunk] == k] for k in range(len(cells))]
            by_cell = [c[np.argsort(lengths[c], kind="stable")] for c in by_cell]
            parts.append(_interleave(by_cell, None))
        order = np.concatenate(parts)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if length_buckets:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


