"""What :func:`fairslm.train` returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TrainResult"]


@dataclass(frozen=True)
class TrainResult:
    """Summary of one fine-tuning run; the full record is ``output_dir/fairslm.json``.

    Attributes
    ----------
    output_dir : Path
        Loadable with ``AutoModelForSequenceClassification.from_pretrained`` (or
        ``AutoModelForCausalLM`` for label-word models).
    steps : int
        Optimizer steps taken.
    validation : dict
        Validation figures of the kept model: ``accuracy``, each criterion's audit ratio
        (``statistical_parity``, ``equal_opportunity``, ``equalized_odds``, ...), and the
        measured value of each constraint. Empty without validation data.
    selected_step : int or None
        Step of the kept checkpoint (the final step when no selection was asked for).
    feasible : bool or None
        Whether the kept model meets the constraints on validation data (None: none given).
    world_size : int
        Number of processes that trained (torchrun DDP); every one returns the same result.
    """

    output_dir: Path
    steps: int
    epochs: int
    validation: dict[str, Any] = field(default_factory=dict)
    selected_step: int | None = None
    feasible: bool | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    train_time_s: float = 0.0
    mean_step_time_s: float = 0.0
    resumed_from: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    world_size: int = 1

    @property
    def audit_path(self) -> Path:
        return self.output_dir / "audit.json"

    @property
    def log_path(self) -> Path:
        return self.output_dir / "train_log.jsonl"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["output_dir"] = str(self.output_dir)
        return d
