"""What :func:`fairslm.training.sweep` returns: every run, and each configuration over seeds."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from fairslm._artifact import JsonArtifact, check_kind_version, float_or_nan
from fairslm.metrics import SeedInterval, seed_interval
from fairslm.training._result import TrainResult

__all__ = ["SWEEP_KIND", "SWEEP_SCHEMA_VERSION", "SweepConfig", "SweepResult", "SweepRun"]

SWEEP_KIND = "fairslm.sweep"
SWEEP_SCHEMA_VERSION = "2"  # 2: seeds, baseline runs, per-configuration intervals


@dataclass(frozen=True)
class SweepRun:
    """One fine-tune of the sweep: a configuration (or the baseline) at one seed.

    ``accuracy``, ``ratios`` (each criterion's ratio) and ``rms_tpr_gap`` are measured on the
    validation data by the run's own audit (NaN without validation data).
    """

    config: int | None  # index into SweepResult.configs; None for the baseline
    seed: int
    overrides: dict[str, Any]
    output_dir: Path
    accuracy: float
    ratios: dict[str, float]
    rms_tpr_gap: float
    feasible: bool | None = None
    mean_step_time_s: float = 0.0
    train_result: TrainResult | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config, "seed": self.seed, "overrides": self.overrides,
                "output_dir": str(self.output_dir), "accuracy": self.accuracy,
                "ratios": self.ratios, "rms_tpr_gap": self.rms_tpr_gap, "feasible": self.feasible,
                "mean_step_time_s": self.mean_step_time_s}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SweepRun:
        return cls(config=d["config"], seed=int(d["seed"]), overrides=dict(d["overrides"]),
                   output_dir=Path(d["output_dir"]), accuracy=float_or_nan(d["accuracy"]),
                   ratios={k: float_or_nan(v) for k, v in d["ratios"].items()},
                   rms_tpr_gap=float_or_nan(d["rms_tpr_gap"]), feasible=d.get("feasible"),
                   mean_step_time_s=float(d.get("mean_step_time_s") or 0.0))


@dataclass(frozen=True)
class SweepConfig:
    """One configuration over seeds: mean and Student-t interval of each validation figure.

    ``rms_cut`` is the share of the same-seed baseline's TPR-gap RMS removed (1 - rms / rms of
    the baseline at that seed), ``accuracy_change`` the accuracy minus the same-seed baseline's;
    both are None when the sweep ran no baseline.
    """

    index: int
    overrides: dict[str, Any]
    seeds: tuple[int, ...]
    accuracy: SeedInterval
    ratios: dict[str, SeedInterval]
    rms_tpr_gap: SeedInterval
    rms_cut: SeedInterval | None = None
    accuracy_change: SeedInterval | None = None

    STATISTICS: ClassVar[tuple[str, ...]] = ("accuracy", "accuracy_change", "rms_cut", "rms_tpr_gap")

    def value(self, statistic: str) -> SeedInterval:
        """``"accuracy"``, a criterion name (its ratio), ``"rms_tpr_gap"``, ``"rms_cut"`` or
        ``"accuracy_change"``."""
        if statistic in self.ratios:
            return self.ratios[statistic]
        iv = getattr(self, statistic, None) if statistic in self.STATISTICS else None
        if iv is None:
            raise KeyError(
                f"unknown statistic {statistic!r}; use accuracy, rms_tpr_gap, rms_cut, "
                f"accuracy_change or a criterion: {', '.join(self.ratios)}"
            )
        return iv

    def to_dict(self) -> dict[str, Any]:
        def iv(x: SeedInterval | None) -> dict[str, Any] | None:
            return None if x is None else x.to_dict()

        return {"index": self.index, "overrides": self.overrides, "seeds": list(self.seeds),
                "accuracy": iv(self.accuracy), "ratios": {k: iv(v) for k, v in self.ratios.items()},
                "rms_tpr_gap": iv(self.rms_tpr_gap), "rms_cut": iv(self.rms_cut),
                "accuracy_change": iv(self.accuracy_change)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SweepConfig:
        def iv(x: Mapping[str, Any]) -> SeedInterval:
            return SeedInterval(float_or_nan(x["mean"]), float_or_nan(x["low"]), float_or_nan(x["high"]), int(x["n"]), float_or_nan(x["sd"]))

        def opt(x: Mapping[str, Any] | None) -> SeedInterval | None:
            return None if x is None else iv(x)

        return cls(index=int(d["index"]), overrides=dict(d["overrides"]), seeds=tuple(d["seeds"]),
                   accuracy=iv(d["accuracy"]), ratios={k: iv(x) for k, x in d["ratios"].items()},
                   rms_tpr_gap=iv(d["rms_tpr_gap"]), rms_cut=opt(d.get("rms_cut")),
                   accuracy_change=opt(d.get("accuracy_change")))


def summarise(index: int, overrides: dict[str, Any], runs: list[SweepRun],
              baseline: Mapping[int, SweepRun], confidence: float) -> SweepConfig:
    """Mean and interval over seeds of one configuration's runs, against same-seed baselines."""
    crits = sorted({c for r in runs for c in r.ratios})
    cut = change = None
    if baseline:
        cuts, changes = [], []
        for r in runs:
            b = baseline.get(r.seed)
            if b is None:
                continue
            cuts.append(1 - r.rms_tpr_gap / b.rms_tpr_gap if b.rms_tpr_gap > 0 else math.nan)
            changes.append(r.accuracy - b.accuracy)
        cut, change = seed_interval(cuts, confidence), seed_interval(changes, confidence)
    return SweepConfig(
        index=index, overrides=overrides, seeds=tuple(r.seed for r in runs),
        accuracy=seed_interval([r.accuracy for r in runs], confidence),
        ratios={c: seed_interval([r.ratios.get(c, math.nan) for r in runs], confidence) for c in crits},
        rms_tpr_gap=seed_interval([r.rms_tpr_gap for r in runs], confidence),
        rms_cut=cut, accuracy_change=change,
    )


@dataclass(frozen=True)
class SweepResult(JsonArtifact):
    """A sweep: each configuration of the grid trained at every seed, plus a baseline per seed.

    ``configs`` summarise each configuration over seeds (mean and Student-t interval, see
    :func:`fairslm.metrics.seed_interval`); ``runs`` hold every fine-tune; ``baseline`` the
    plain fine-tunes the cuts are measured against. ``pareto_front`` lists the configurations
    on the front of mean validation accuracy against the mean ``fairness`` ratio, from the
    fairest (highest ratio) to the most accurate.
    ``to_dict()``/``to_json()`` are the contract (``kind = "fairslm.sweep"``); iterating over
    the result gives the runs' :class:`TrainResult` in grid order.
    """

    fairness: str
    seeds: tuple[int, ...]
    confidence: float
    configs: tuple[SweepConfig, ...]
    runs: tuple[SweepRun, ...]
    baseline: tuple[SweepRun, ...] = ()
    pareto_front: tuple[int, ...] = ()
    root: Path | None = None
    schema_version: str = SWEEP_SCHEMA_VERSION
    kind: str = SWEEP_KIND

    _kind: ClassVar[str] = SWEEP_KIND
    _what: ClassVar[str] = "sweep"

    def __iter__(self) -> Iterator[TrainResult]:
        return iter([r.train_result for r in self.runs if r.train_result is not None])

    def __len__(self) -> int:
        return len(self.runs)

    def ranked(self, by: str | None = None, *, conservative: bool = True) -> list[SweepConfig]:
        """Configurations best first by a statistic's conservative bound over seeds.

        ``by`` is ``"accuracy"``, ``"accuracy_change"``, ``"rms_cut"``, a criterion (its ratio;
        default: the sweep's fairness criterion), or ``"rms_tpr_gap"``. Higher is better except
        for ``rms_tpr_gap``; the conservative bound is the lower end of the interval (the upper
        end for ``rms_tpr_gap``), which prefers a configuration that is good on every seed over
        one lucky run. ``conservative=False`` ranks by the mean.
        """
        stat = by or self.fairness
        lower_is_better = stat == "rms_tpr_gap"

        def key(c: SweepConfig) -> float:
            iv = c.value(stat)
            v = iv.mean if not conservative else (iv.high if lower_is_better else iv.low)
            v = -v if lower_is_better else v
            return -math.inf if math.isnan(v) else v

        return sorted(self.configs, key=key, reverse=True)

    def select(self, target: float, *, by: str | None = None) -> SweepConfig | None:
        """The configuration with the highest accuracy lower bound among those whose
        ``by`` statistic (default: the fairness ratio) has a lower bound of at least ``target``;
        None when none does."""
        stat = by or self.fairness
        ok = [c for c in self.configs if c.value(stat).low >= target]
        if not ok:
            return None
        return max(ok, key=lambda c: -math.inf if math.isnan(c.accuracy.low) else c.accuracy.low)

    def _json_form(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "schema_version": self.schema_version, "fairness": self.fairness,
            "seeds": list(self.seeds), "confidence": self.confidence,
            "configs": [c.to_dict() for c in self.configs],
            "runs": [r.to_dict() for r in self.runs],
            "baseline": [r.to_dict() for r in self.baseline],
            "pareto_front": list(self.pareto_front),
            "root": None if self.root is None else str(self.root),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepResult:
        check_kind_version(dict(data), kind=SWEEP_KIND, version=SWEEP_SCHEMA_VERSION, what="sweep",
                           written_by="fairslm sweep")
        return cls(
            fairness=data["fairness"], seeds=tuple(data["seeds"]), confidence=float(data["confidence"]),
            configs=tuple(SweepConfig.from_dict(c) for c in data["configs"]),
            runs=tuple(SweepRun.from_dict(r) for r in data["runs"]),
            baseline=tuple(SweepRun.from_dict(r) for r in data.get("baseline", [])),
            pareto_front=tuple(data.get("pareto_front", [])),
            root=None if data.get("root") is None else Path(data["root"]),
        )
