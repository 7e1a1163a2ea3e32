"""The run configuration of :func:`fairslm.train`: pydantic models read from TOML and flags."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from fairslm._config import FrozenModel, config_error, merge_overrides, read_toml
from fairslm.exceptions import ConfigError
from fairslm.metrics import FOUR_FIFTHS, MIN_GROUP_SIZE

__all__ = [
    "AdversaryConfig",
    "ConstraintsConfig",
    "DataConfig",
    "FairnessConfig",
    "LoraConfig",
    "PenaltyConfig",
    "TrainConfig",
    "load_fairness_config",
    "load_train_config",
]


class DataConfig(FrozenModel):
    """Where the rows come from when :func:`fairslm.train` is not handed data objects."""

    train: Path | None = None
    validation: Path | None = None
    text: str = "text"
    label: str = "label"
    sensitive: list[str] = Field(default_factory=list)
    pos_label: str | None = None
    weight: str | None = None


class PenaltyConfig(FrozenModel):
    """A differentiable penalty on the spread of soft group rates (see FairnessPenalty)."""

    criterion: str = "equal_opportunity"
    weight: float = Field(1.0, ge=0)
    # ~10-batch window: enough rows of a 5% group at batch size 32 for a stable rate.
    momentum: float = Field(0.9, ge=0, lt=1)


class ConstraintsConfig(FrozenModel):
    """Fairness targets enforced by proxy-Lagrangian multipliers (see ProxyLagrangian)."""

    targets: list[str]
    # Multipliers that grow fast keep pushing after the held-out rates meet the target (the
    # measurement lags by its momentum window), and the model overshoots. On Bias in Bios
    # (MiniLM, one epoch, equalized_odds difference <= 0.1) a step of 1.0 met the target at
    # validation accuracy 0.844; 0.25 met it at 0.949 (plain fine-tuning: 0.961).
    multiplier_lr: float = Field(0.25, gt=0)
    max_multiplier: float = Field(100.0, gt=0)
    # One held-out forward pass every 5 optimizer steps costs about 7% of a step's compute (a
    # forward pass is ~1/3 of forward + backward); every 4 measured +10% on MiniLM.
    update_every: int = Field(5, ge=1)
    holdout_fraction: float = Field(0.1, gt=0, lt=1)
    # Decay of the held-out decision counts: the hard rates average ~10 held-out batches.
    momentum: float = Field(0.9, ge=0, lt=1)


class AdversaryConfig(FrozenModel):
    """An adversary predicting the group behind a gradient-reversal layer."""

    criterion: str = "equalized_odds"
    alpha: float = Field(1.0, ge=0)
    # What the adversary reads: the pooled encoder representation, or the model's class
    # log-probabilities (the predictor output, as in Zhang, Lemoine & Mitchell 2018).
    source: Literal["representation", "prediction"] = "representation"
    hidden: int = Field(64, ge=1)
    # The adversary starts from scratch, so it learns at a head's rate, not the encoder's.
    learning_rate: float = Field(1e-3, gt=0)


class LoraConfig(FrozenModel):
    """LoRA fine-tuning of a causal LM used as a classifier through label words."""

    r: int = Field(8, ge=1)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: list[str] | None = None
    template: str = "{text}\nAnswer:"
    # class label -> the word whose next-token probability scores that class
    label_words: dict[str, str]


class FairnessConfig(FrozenModel):
    """The fairness of a run on its own, for :class:`~fairslm.training.FairnessTrainer`: the
    ``penalty``, ``constraints`` and ``adversary`` sections of :class:`TrainConfig`.

    Examples
    --------
    >>> FairnessConfig(penalty={"criterion": "statistical_parity"}).penalty.weight
    1.0
    """

    penalty: PenaltyConfig | None = None
    constraints: ConstraintsConfig | None = None
    adversary: AdversaryConfig | None = None


def load_fairness_config(fairness: FairnessConfig | Mapping[str, Any] | None) -> FairnessConfig:
    """A :class:`FairnessConfig` from itself or a mapping; unknown keys are named.

    Examples
    --------
    >>> load_fairness_config({"penalty": {"wieght": 2}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fairslm.exceptions.ConfigError: invalid fairness config: unknown key 'penalty.wieght'; ...
    """
    if isinstance(fairness, FairnessConfig):
        return fairness
    if fairness is not None and not isinstance(fairness, Mapping):
        raise ConfigError(f"fairness must be a FairnessConfig or a mapping of sections; got {type(fairness).__name__}")
    try:
        return FairnessConfig.model_validate(dict(fairness or {}))
    except ValidationError as exc:
        raise config_error(exc, FairnessConfig, what="fairness config") from None


class TrainConfig(FrozenModel):
    """Everything one fine-tuning run depends on.

    Examples
    --------
    >>> cfg = TrainConfig(output_dir="runs/eo", penalty={"criterion": "equal_opportunity"})
    >>> cfg.penalty.weight, cfg.learning_rate
    (1.0, 5e-05)
    """

    output_dir: Path
    model: str | None = None
    data: DataConfig = Field(default_factory=DataConfig)
    max_length: int = Field(128, ge=8)
    epochs: int = Field(1, ge=1)
    max_steps: int | None = Field(None, ge=1)
    batch_size: int = Field(16, ge=1)
    gradient_accumulation: int = Field(1, ge=1)
    learning_rate: float = Field(5e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    max_grad_norm: float | None = Field(1.0, gt=0)
    seed: int = 0
    stratify: bool = True
    length_buckets: bool = True
    checkpoint_every: int = Field(50, ge=0)
    keep_checkpoints: int = Field(2, ge=1)
    eval_every: int = Field(0, ge=0)
    selection: list[str] = Field(default_factory=list)
    penalty: PenaltyConfig | None = None
    constraints: ConstraintsConfig | None = None
    adversary: AdversaryConfig | None = None
    lora: LoraConfig | None = None
    audit_threshold: float = Field(FOUR_FIFTHS, gt=0, le=1)
    # As the audit's default: rates from fewer rows are reported but drive no verdict.
    audit_min_group_size: int = Field(MIN_GROUP_SIZE, ge=0)
    deterministic: bool = True
    progress: bool | None = None

    @field_validator("model")
    @classmethod
    def _empty_model(cls, v: str | None) -> str | None:
        return v or None

    def fingerprint(self) -> str:
        """Hash of every setting that changes the trained weights (not paths or display)."""
        return hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:16]

    def identity(self) -> dict[str, Any]:
        """The settings :meth:`fingerprint` covers, as plain JSON."""
        d = self.model_dump(mode="json")
        for k in ("output_dir", "progress", "keep_checkpoints"):
            d.pop(k, None)
        return d


def load_train_config(
    config: TrainConfig | Mapping[str, Any] | str | Path | None = None, **overrides: Any
) -> TrainConfig:
    """Build a :class:`TrainConfig` from a TOML path, a mapping or a config, plus overrides.

    Overrides may use dotted keys for sections (``**{"penalty.weight": 2.0}``). An unknown key
    anywhere is a :class:`ConfigError` that names it and lists the valid keys.

    Examples
    --------
    >>> load_train_config({"output_dir": "o"}, **{"penalty.weight": 2.0}).penalty.weight
    2.0
    >>> load_train_config({"output_dir": "o", "lr": 1e-4})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fairslm.exceptions.ConfigError: invalid training config: unknown key 'lr'; valid keys: adversary, ...
    """
    source = "training config"
    if config is None:
        base: dict[str, Any] = {}
    elif isinstance(config, TrainConfig):
        base = config.model_dump()
    elif isinstance(config, (str, Path)):
        path = Path(config)
        source = f"training config {path}"
        base = read_toml(path, what="training config", hint="pass the path of a TOML file")
        base_dir = path.parent
        data = base.get("data")
        if isinstance(data, dict):
            for k in ("train", "validation"):
                if isinstance(data.get(k), str) and not Path(data[k]).is_absolute():
                    data[k] = str(base_dir / data[k])
    elif isinstance(config, Mapping):
        base = dict(config)
    else:
        raise ConfigError(
            f"config must be a TrainConfig, a mapping or a TOML path; got {type(config).__name__}"
        )
    merged = merge_overrides(base, overrides)
    try:
        return TrainConfig.model_validate(merged)
    except ValidationError as exc:
        raise config_error(exc, TrainConfig, what=source) from None


