"""Fine-tuning under fairness penalties, constraints or an adversary; checkpoints; sweeps."""

from fairslm.training._config import (
    AdversaryConfig,
    ConstraintsConfig,
    DataConfig,
    LoraConfig,
    PenaltyConfig,
    TrainConfig,
    load_train_config,
)
from fairslm.training._loop import check_train, train
from fairslm.training._result import TrainResult
from fairslm.training._selection import pareto_front
from fairslm.training._sweep import sweep

__all__ = [
    "AdversaryConfig",
    "ConstraintsConfig",
    "DataConfig",
    "LoraConfig",
    "PenaltyConfig",
    "TrainConfig",
    "TrainResult",
    "check_train",
    "load_train_config",
    "pareto_front",
    "sweep",
    "train",
]
