"""Resampling of (group, label) cells towards a target distribution."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.data import Rows, as_rows
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.mitigation.preprocessing._cells import Cells, require_groups
from fairslm.mitigation.preprocessing._outputs import rebuild_frame

__all__ = ["ResampleReport", "Resampler", "TARGETS", "MODES"]

TARGETS = ("balanced", "pooled_label_rate")
MODES = ("auto", "over", "under")
# A user's target shares may carry rounding from a spreadsheet; 1e-6 is far below one row in
# any data set this handles, and far above float error.
_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class ResampleReport:
    """What resampling did: rows before and after, per cell and in total."""

    rows_before: int
    rows_after: int
    n_duplicated: int
    n_dropped: int
    cells: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            "n_duplicated": self.n_duplicated,
            "n_dropped": self.n_dropped,
            "cells": [dict(c) for c in self.cells],
        }

    def __str__(self) -> str:
        return (
            f"{self.rows_before} rows -> {self.rows_after}: {self.n_duplicated} duplicated, "
            f"{self.n_dropped} dropped"
        )


def _largest_remainder(shares: NDArray[np.float64], total: int) -> NDArray[np.int64]:
    """Integers proportional to ``shares`` that sum to ``total`` (Hamilton's method)."""
    exact = shares / shares.sum() * total
    base = np.floor(exact).astype(np.int64)
    left = total - int(base.sum())
    if left > 0:
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:left]] += 1
    return base


class Resampler:
    """Over- or under-sample (group, label) cells to a target distribution.

    Duplicating rows of under-represented cells and dropping rows of over-represented ones is
    the "preferential/uniform sampling" family of Kamiran & Calders (2012), section 4.3; the
    uniform variant is implemented here.

    Parameters
    ----------
    target : {"balanced", "pooled_label_rate"} or mapping, default "balanced"
        ``"balanced"``: every group gets the same number of rows and every group's label
        distribution is the pooled one. ``"pooled_label_rate"``: every group keeps its size and
        its label distribution becomes the pooled one. A mapping gives the share of the output
        for each ``(group, label)`` cell (the group as its label, e.g. ``"F"`` or ``"F, black"``,
        or as a tuple of values); the shares must cover every cell and sum to 1.
    mode : {"auto", "over", "under"}, default "auto"
        ``"auto"`` keeps the number of rows, duplicating and dropping as needed; ``"over"`` only
        duplicates (the output grows until no cell needs dropping); ``"under"`` only drops.
    seed : int, default 0
        Seed of the random draw.

    Attributes
    ----------
    targets_ : numpy.ndarray of shape (n_groups, n_classes)
        Target number of rows per cell.
    sample_indices_ : numpy.ndarray
        Positions of the input rows that make the output, in order.
    report_ : ResampleReport
        Rows duplicated and dropped, per cell and in total.

    Examples
    --------
    >>> rs = Resampler(target="pooled_label_rate", seed=0)
    >>> _, y_res = rs.fit_resample(None, [1, 1, 1, 0, 1, 0, 0, 0], sensitive_features=list("aaaabbbb"))
    >>> print(rs.report_)
    8 rows -> 8: 2 duplicated, 2 dropped
    """

    def __init__(self, *, target: Any = "balanced", mode: str = "auto", seed: int = 0) -> None:
        self.target = target
        self.mode = mode
        self.seed = seed

    # -- targets ------------------------------------------------------------------------
    def _shares(self, cells: Cells) -> NDArray[np.float64]:
        target = self.target
        counts = cells.counts.astype(np.float64)
        p_y = counts.sum(axis=0) / counts.sum()
        if isinstance(target, str):
            if target == "balanced":
                return np.full((cells.n_groups, 1), 1.0 / cells.n_groups) * p_y[None, :]
            if target == "pooled_label_rate":
                p_g = counts.sum(axis=1) / counts.sum()
                return p_g[:, None] * p_y[None, :]
            raise ConfigError(
                f"unknown resampling target {target!r}; use one of {', '.join(TARGETS)} or a "
                "mapping {(group, label): share} whose shares sum to 1"
            )
        if not isinstance(target, Mapping):
            raise ConfigError(
                f"target must be one of {', '.join(TARGETS)} or a mapping {{(group, label): "
                f"share}}; got {type(target).__name__}"
            )
        return self._mapping_shares(target, cells)

    def _mapping_shares(self, target: Mapping[Any, Any], cells: Cells) -> NDArray[np.float64]:
        shares = np.full((cells.n_groups, cells.n_classes), np.nan)
        group_index: dict[object, int] = {}
        for g, key in enumerate(cells.group_keys):
            group_index[key] = g
            group_index[cells.group_labels[g]] = g
            if len(key) == 1:
                group_index.setdefault(key[0], g)
        label_index: dict[object, int] = {}
        for k, c in enumerate(cells.classes):
            label_index[c] = k
            label_index.setdefault(str(c), k)
        unknown: list[str] = []
        for raw_key, value in target.items():
            if not (isinstance(raw_key, tuple) and len(raw_key) == 2):
                raise ConfigError(
                    f"target keys must be (group, label) pairs; got {raw_key!r}"
                )
            group, label = raw_key
            if isinstance(group, list):
                group = tuple(group)
            g = group_index.get(group)
            k = label_index.get(label)
            if g is None or k is None:
                unknown.append(f"({group!r}, {label!r})")
                continue
            try:
                share = float(value)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"target share for {raw_key!r} is not a number: {value!r}") from exc
            if not np.isfinite(share) or share < 0:
                raise ConfigError(f"target share for {raw_key!r} must be >= 0; got {value!r}")
            shares[g, k] = share
        if unknown:
            raise ConfigError(
                f"target names cell(s) not in the data: {', '.join(unknown)}. Groups are: "
                f"{', '.join(cells.group_labels)}; labels are: {list(cells.classes)}"
            )
        total = float(np.nansum(shares))
        if abs(total - 1.0) > _SUM_TOLERANCE:
            raise ConfigError(
                f"target distribution must sum to 1; its shares sum to {total:.6g}. Give each "
                "(group, label) cell its share of the output so that they add up to 1"
            )
        missing = np.argwhere(np.isnan(shares))
        if len(missing):
            names = [cells.describe(int(g), int(k)) for g, k in missing]
            raise ConfigError(
                f"target gives no share for {len(names)} cell(s): {'; '.join(names)}. Give every "
                "(group, label) cell a share (0 drops it)"
            )
        return shares

    # -- fitting ------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, sensitive_features: Any = None) -> Resampler:
        """Compute the target number of rows in every (group, label) cell."""
        rows = as_rows(X, y, sensitive_features=sensitive_features)
        self._fit_rows(rows)
        return self

    def _fit_rows(self, rows: Rows) -> Cells:
        if self.mode not in MODES:
            raise ConfigError(f"unknown resampling mode {self.mode!r}; use one of {', '.join(MODES)}")
        require_groups(rows, "resampling")
        cells = Cells(rows)
        shares = self._shares(cells)
        counts = cells.counts
        need = (shares > 0) & (counts == 0)
        if need.any():
            names = [cells.describe(int(g), int(k)) for g, k in np.argwhere(need)]
            raise InvalidDataError(
                f"cannot resample: the target needs rows in {len(names)} cell(s) that have none: "
                f"{'; '.join(names)}. Collect rows for them, merge small groups, or give those "
                "cells a share of 0 in a target mapping"
            )
        n = int(counts.sum())
        flat_shares = shares.reshape(-1)
        flat_counts = counts.reshape(-1).astype(np.float64)
        pos = flat_shares > 0
        if self.mode == "auto":
            total = n
        elif self.mode == "over":
            total = int(np.ceil(np.max(flat_counts[pos] / flat_shares[pos]) - 1e-9))
        else:
            total = int(np.floor(np.min(flat_counts[pos] / flat_shares[pos]) + 1e-9))
        if isinstance(self.target, str):
            # Round group sizes first, then each group's cells, so that groups the target
            # makes equal stay equal.
            group_totals = _largest_remainder(shares.sum(axis=1), total)
            targets = np.stack(
                [_largest_remainder(shares[g], int(group_totals[g])) for g in range(len(shares))]
            )
        else:
            targets = _largest_remainder(flat_shares, total).reshape(counts.shape)
        if self.mode == "over":
            targets = np.maximum(targets, np.where(shares > 0, counts, 0))
        elif self.mode == "under":
            targets = np.minimum(targets, counts)
        self.classes_ = cells.classes
        self.feature_names_ = rows.features
        self.groups_ = cells.group_labels
        self.targets_ = targets
        return cells

    def fit_resample(self, X: Any, y: Any = None, *, sensitive_features: Any = None) -> Any:
        """Fit, then draw the rows.

        Returns
        -------
        A new ``Dataset`` or DataFrame for those inputs; for arrays, the tuple
        ``(X_resampled, y_resampled)`` (``X_resampled`` is None when ``X`` is None). The
        drawn positions are in ``sample_indices_``; the input is not modified.
        """
        rows = as_rows(X, y, sensitive_features=sensitive_features)
        cells = self._fit_rows(rows)
        rng = np.random.default_rng(self.seed)
        chosen: list[NDArray[np.int64]] = []
        report_cells: list[dict[str, Any]] = []
        dup_total = drop_total = 0
        for g in range(cells.n_groups):
            for k in range(cells.n_classes):
                members = np.flatnonzero(cells.cell == g * cells.n_classes + k)
                have, want = len(members), int(self.targets_[g, k])
                if want >= have:
                    copies, extra = divmod(want, have) if have else (0, 0)
                    picked = np.concatenate(
                        [np.tile(members, copies), rng.choice(members, extra, replace=False)]
                    ) if have else members
                else:
                    picked = rng.choice(members, want, replace=False)
                chosen.append(picked.astype(np.int64))
                dup, drop = max(want - have, 0), max(have - want, 0)
                dup_total += dup
                drop_total += drop
                report_cells.append(
                    {"group": cells.group_labels[g], "label": cells.classes[k], "before": have,
                     "after": want, "duplicated": dup, "dropped": drop}
                )
        idx = np.sort(np.concatenate(chosen), kind="stable")
        self.sample_indices_ = idx
        self.report_ = ResampleReport(
            rows_before=rows.n,
            rows_after=len(idx),
            n_duplicated=dup_total,
            n_dropped=drop_total,
            cells=report_cells,
        )
        if rows.kind == "arrays":
            x_res = None if X is None else _take(X, idx)
            return x_res, rows.labels[idx]
        frame = rows.frame
        assert frame is not None
        return rebuild_frame(frame.iloc[idx].reset_index(drop=True), rows)


def _take(X: Any, idx: NDArray[np.int64]) -> Any:
    if hasattr(X, "iloc"):
        return X.iloc[idx].reset_index(drop=True)
    if isinstance(X, np.ndarray):
        return X[idx]
    return [X[int(i)] for i in idx]
