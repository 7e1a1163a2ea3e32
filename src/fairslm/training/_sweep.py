"""Sweeps over a grid of training settings and over seeds, for a front that holds up."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fairslm.exceptions import ConfigError
from fairslm.metrics import CRITERIA
from fairslm.mitigation.comparison import pareto_front
from fairslm.training._config import load_train_config
from fairslm.training._loop import train
from fairslm.training._result import TrainResult
from fairslm.training._sweep_result import SweepResult, SweepRun, summarise

__all__ = ["PLAIN_FINE_TUNING", "parse_seeds", "sweep"]

_LIST_KEYS = ("constraints.targets", "selection")

# The baseline of a sweep: the same model, data and seed without any fairness method.
PLAIN_FINE_TUNING: dict[str, Any] = {
    "penalty": None, "constraints": None, "adversary": None, "selection": [], "data.weight": None,
}


def _slug(overrides: Mapping[str, Any]) -> str:
    text = "_".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in overrides.items())
    return re.sub(r"[^A-Za-z0-9_.=-]+", "-", text)[:80].strip("-")


def parse_seeds(text: str | int | Sequence[int]) -> list[int]:
    """Seeds from ``"0-4"`` (a range, ends included), ``"0,3,7"``, ``"3"`` or a list.

    Examples
    --------
    >>> parse_seeds("0-4"), parse_seeds("1,5"), parse_seeds(3)
    ([0, 1, 2, 3, 4], [1, 5], [3])
    """
    if isinstance(text, int):
        return [text]
    if not isinstance(text, str):
        seeds = [int(s) for s in text]
    else:
        seeds = []
        try:
            for part in text.split(","):
                lo, sep, hi = part.strip().partition("-")
                seeds += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
        except ValueError:
            raise ConfigError(
                f"seeds must be a range like 0-4, a list like 0,1,2 or one seed; got {text!r}"
            ) from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds must be distinct non-negative integers; got {text!r}")
    return seeds


def _measure(res: TrainResult) -> tuple[float, dict[str, float], float]:
    """Validation accuracy, each criterion's ratio and the TPR-gap RMS of a finished run."""
    accuracy = float(res.validation.get("accuracy", math.nan))
    ratios = {k: float(v) for k, v in res.validation.items()
              if k != "accuracy" and isinstance(v, (int, float)) and not isinstance(v, bool)
              and " " not in k}
    rms = math.nan
    if res.audit_path.exists():
        from fairslm.audit import AuditResult

        audit = AuditResult.from_json(res.audit_path)
        gaps = audit.extras.get("rms_tpr_gap", {})
        first = gaps.get(audit.views[0].name) if audit.views else None
        rms = float(first["value"]) if first and first.get("value") is not None else math.nan
    return accuracy, ratios, rms


def sweep(
    base_config: Any,
    grid: Mapping[str, Sequence[Any]],
    *,
    train_data: Any = None,
    validation_data: Any = None,
    fairness: str = "equal_opportunity",
    seeds: str | Sequence[int] | None = None,
    baseline: Mapping[str, Any] | None | bool = True,
    confidence: float = 0.95,
    overwrite: bool = False,
) -> SweepResult:
    """Train once per combination of ``grid`` values and per seed; each run in its own folder.

    Parameters
    ----------
    base_config : TrainConfig, mapping or TOML path
        The shared configuration; its ``output_dir`` becomes the sweep's root.
    grid : mapping of dotted config key -> values
        For example ``{"penalty.weight": [0.0, 1.0, 10.0]}`` or
        ``{"constraints.targets": [["equal_opportunity ratio >= 0.8"], [... >= 0.9"]]}``.
    fairness : str
        The audit criterion whose validation ratio is the fairness axis of the front and the
        default of :meth:`SweepResult.ranked`.
    seeds : str or sequence of int, optional
        Seeds to train every configuration with (``"0-4"``, ``[0, 1, 2]``); default: the
        configuration's own seed only.
    baseline : bool or mapping, default True
        Also train a baseline at every seed, against which each configuration's TPR-gap RMS cut
        and accuracy change are measured: True is plain fine-tuning (the base configuration
        without penalty, constraints, adversary, selection or sample weights), a mapping gives
        the baseline's own overrides, False or None trains none.
    confidence : float, default 0.95
        Coverage of the intervals over seeds (Student t; :func:`fairslm.metrics.seed_interval`).

    Returns
    -------
    SweepResult
        Also written to ``<root>/sweep.json``. Runs go to ``<root>/NN-<overrides>/`` (and
        ``.../seed-S/`` with several seeds), baselines to ``<root>/baseline/seed-S/``.
    """
    base = load_train_config(base_config)
    if not grid:
        raise ConfigError("sweep needs a grid: a mapping of config key -> list of values")
    if not 0 < float(confidence) < 1:
        raise ConfigError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence}")
    if fairness not in CRITERIA:
        raise ConfigError(f"unknown fairness criterion {fairness!r}; known criteria: {', '.join(CRITERIA)}")
    # A constraint target may be given alone: "eo ratio >= 0.9" stands for ["eo ratio >= 0.9"].
    grid = {k: [[v] if k in _LIST_KEYS and isinstance(v, str) else v for v in vals]
            if isinstance(vals, Sequence) and not isinstance(vals, (str, bytes)) else vals
            for k, vals in grid.items()}
    keys = list(grid)
    for k in keys:
        if isinstance(grid[k], (str, bytes)) or not isinstance(grid[k], Sequence) or not grid[k]:
            raise ConfigError(f"grid[{k!r}] must be a non-empty list of values")
        load_train_config(base, **{k: grid[k][0]})  # unknown keys fail before any training
    seed_list = [base.seed] if seeds is None else parse_seeds(seeds)
    several = seeds is not None
    base_over: dict[str, Any] | None
    if baseline is True:
        base_over = dict(PLAIN_FINE_TUNING)
    elif baseline is False or baseline is None:
        base_over = None
    else:
        base_over = dict(baseline)
    if base_over is not None:
        load_train_config(base, **base_over)  # a bad baseline key fails before any training
    root = Path(base.output_dir)

    def run(out: Path, over: Mapping[str, Any], seed: int, index: int | None) -> SweepRun:
        res = train(base, train_data=train_data, validation_data=validation_data,
                    overwrite=overwrite, **{**over, "output_dir": out, "seed": seed})
        acc, ratios, rms = _measure(res)
        return SweepRun(config=index, seed=seed, overrides=dict(over), output_dir=out, accuracy=acc,
                        ratios=ratios, rms_tpr_gap=rms, feasible=res.feasible,
                        mean_step_time_s=res.mean_step_time_s, train_result=res)

    baseline_runs: dict[int, SweepRun] = {}
    if base_over is not None:
        for seed in seed_list:
            baseline_runs[seed] = run(root / "baseline" / f"seed-{seed}", base_over, seed, None)
    runs: list[SweepRun] = []
    combos = [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]
    for i, over in enumerate(combos):
        folder = root / f"{i:02d}-{_slug(over)}"
        for seed in seed_list:
            runs.append(run(folder / f"seed-{seed}" if several else folder, over, seed, i))
    configs = tuple(
        summarise(i, over, [r for r in runs if r.config == i], baseline_runs, float(confidence))
        for i, over in enumerate(combos)
    )
    front = pareto_front([c.accuracy.mean for c in configs],
                         [-c.ratios[fairness].mean if fairness in c.ratios else math.nan for c in configs])
    result = SweepResult(
        fairness=fairness, seeds=tuple(seed_list), confidence=float(confidence), configs=configs,
        runs=tuple(runs), baseline=tuple(baseline_runs.values()), pareto_front=tuple(front), root=root,
    )
    result.to_json(root / "sweep.json")
    return result
