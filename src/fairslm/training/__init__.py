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
from fairslm.training._sweep import PLAIN_FINE_TUNING, parse_seeds, sweep
from fairslm.training._sweep_result import SweepConfig, SweepResult, SweepRun

__all__ = [
    "AdversaryConfig",
    "ConstraintsConfig",
    "DataConfig",
    "LoraConfig",
    "PLAIN_FINE_TUNING",
    "PenaltyConfig",
    "SweepConfig",
    "SweepResult",
    "SweepRun",
    "TrainConfig",
    "TrainResult",
    "check_train",
    "load_train_config",
    "pareto_front",
    "parse_seeds",
    "sweep",
    "train",
]
