"""Fine-tuning under fairness penalties, constraints or an adversary; checkpoints; sweeps."""

import warnings
from collections.abc import Sequence
from typing import Any

from fairslm.training._checks import check_train
from fairslm.training._config import (
    AdversaryConfig,
    ConstraintsConfig,
    DataConfig,
    FairnessConfig,
    LoraConfig,
    PenaltyConfig,
    TrainConfig,
    load_fairness_config,
    load_train_config,
)
from fairslm.training._loop import train
from fairslm.training._objective import FairnessObjective, StepLoss
from fairslm.training._result import TrainResult
from fairslm.training._sweep import PLAIN_FINE_TUNING, parse_seeds, sweep
from fairslm.training._sweep_result import SweepConfig, SweepResult, SweepRun

__all__ = [
    "AdversaryConfig",
    "ConstraintsConfig",
    "DataConfig",
    "FairnessConfig",
    "FairnessObjective",
    "FairnessTrainer",
    "LoraConfig",
    "PLAIN_FINE_TUNING",
    "PenaltyConfig",
    "StepLoss",
    "SweepConfig",
    "SweepResult",
    "SweepRun",
    "TrainConfig",
    "TrainResult",
    "check_train",
    "load_fairness_config",
    "load_train_config",
    "pareto_front",
    "parse_seeds",
    "sweep",
    "train",
]


def __getattr__(name: str) -> Any:
    # FairnessTrainer subclasses transformers.Trainer, so it is built when first asked for;
    # ``import fairslm`` stays free of transformers.
    if name == "FairnessTrainer":
        from fairslm.training._trainer import fairness_trainer_class

        return fairness_trainer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pareto_front(accuracy: Sequence[float | None], fairness: Sequence[float | None]) -> list[int]:
    """Deprecated: use :func:`fairslm.mitigation.comparison.pareto_front` with a disparity.

    Indices of the points no other point beats on both accuracy and fairness (higher is better
    for both), by accuracy descending, as before. Removed in the next release.
    """
    from fairslm.mitigation.comparison import pareto_front as front

    warnings.warn(
        "fairslm.training.pareto_front(accuracy, fairness) is deprecated and will be removed in "
        "the next release; use fairslm.mitigation.comparison.pareto_front(accuracy, disparity) "
        "with disparity = -fairness (its indices run by increasing disparity)",
        DeprecationWarning, stacklevel=2,
    )
    disparity = [float("nan") if f is None else -float(f) for f in fairness]
    return list(reversed(front(accuracy, disparity)))
