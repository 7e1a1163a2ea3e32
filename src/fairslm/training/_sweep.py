"""Sweeps over penalty weights or constraint targets, for an accuracy-fairness front."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fairslm._artifact import write_json_atomic
from fairslm.exceptions import ConfigError
from fairslm.training._config import load_train_config
from fairslm.training._loop import train
from fairslm.training._result import TrainResult
from fairslm.training._selection import pareto_front

__all__ = ["sweep"]

_LIST_KEYS = ("constraints.targets", "selection")


def _slug(overrides: Mapping[str, Any]) -> str:
    text = "_".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in overrides.items())
    return re.sub(r"[^A-Za-z0-9_.=-]+", "-", text)[:80].strip("-")


def sweep(
    base_config: Any,
    grid: Mapping[str, Sequence[Any]],
    *,
    train_data: Any = None,
    validation_data: Any = None,
    fairness: str = "equal_opportunity",
    overwrite: bool = False,
) -> list[TrainResult]:
    """Train once per combination of ``grid`` values; each run gets its own subdirectory.

    Parameters
    ----------
    base_config : TrainConfig, mapping or TOML path
        The shared configuration; its ``output_dir`` becomes the sweep's root.
    grid : mapping of dotted config key -> values
        For example ``{"penalty.weight": [0.0, 1.0, 10.0]}`` or
        ``{"constraints.targets": [["equal_opportunity ratio >= 0.8"], [... >= 0.9"]]}``.
    fairness : str
        The audit criterion whose validation ratio is the fairness axis of the front.

    Returns
    -------
    list of TrainResult
        In grid order. ``<root>/sweep.json`` records each run's overrides, validation accuracy
        and fairness ratio, and the indices on the Pareto front (see :func:`pareto_front`).
    """
    base = load_train_config(base_config)
    if not grid:
        raise ConfigError("sweep needs a grid: a mapping of config key -> list of values")
    # A constraint target may be given alone: "eo ratio >= 0.9" stands for ["eo ratio >= 0.9"].
    grid = {k: [[v] if k in _LIST_KEYS and isinstance(v, str) else v for v in vals]
            if isinstance(vals, Sequence) and not isinstance(vals, (str, bytes)) else vals
            for k, vals in grid.items()}
    keys = list(grid)
    for k in keys:
        if isinstance(grid[k], (str, bytes)) or not isinstance(grid[k], Sequence) or not grid[k]:
            raise ConfigError(f"grid[{k!r}] must be a non-empty list of values")
        load_train_config(base, **{k: grid[k][0]})  # unknown keys fail before any training
    root = Path(base.output_dir)
    results: list[TrainResult] = []
    runs = []
    for i, values in enumerate(itertools.product(*(grid[k] for k in keys))):
        over = dict(zip(keys, values, strict=True))
        out = root / f"{i:02d}-{_slug(over)}"
        res = train(base, train_data=train_data, validation_data=validation_data,
                    overwrite=overwrite, output_dir=out, **over)
        results.append(res)
        runs.append({"output_dir": str(out), "overrides": over,
                     "accuracy": res.validation.get("accuracy", float("nan")),
                     "fairness": res.validation.get(fairness, float("nan")),
                     "feasible": res.feasible, "mean_step_time_s": res.mean_step_time_s})
    front = pareto_front([r["accuracy"] for r in runs], [r["fairness"] for r in runs])
    write_json_atomic({"fairness": fairness, "runs": runs, "pareto_front": front}, root / "sweep.json")
    return results
