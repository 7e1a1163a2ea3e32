"""The configuration of a debiasing run: an ordered list of steps (pydantic, frozen, strict)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from fairslm._config import FrozenModel, config_error, read_toml
from fairslm.exceptions import ConfigError

__all__ = [
    "METHODS",
    "AugmentStep",
    "DebiasConfig",
    "ResampleStep",
    "ReweighStep",
    "TargetShare",
    "parse_config",
    "steps_from_options",
]


class ReweighStep(FrozenModel):
    """Reweighing (Kamiran & Calders 2012); see :class:`Reweighing`."""

    method: Literal["reweigh"] = "reweigh"
    smoothing: float = Field(0.0, ge=0.0)


class TargetShare(FrozenModel):
    """The share of the output for one (group, label) cell."""

    group: str
    label: str
    share: float = Field(ge=0.0)


class ResampleStep(FrozenModel):
    """Resampling of (group, label) cells; see :class:`Resampler`."""

    method: Literal["resample"] = "resample"
    target: Literal["balanced", "pooled_label_rate"] | list[TargetShare] = "balanced"
    mode: Literal["auto", "over", "under"] = "auto"
    seed: int = 0

    def target_value(self) -> Any:
        if isinstance(self.target, str):
            return self.target
        return {(t.group, t.label): t.share for t in self.target}


class AugmentStep(FrozenModel):
    """Counterfactual augmentation; see :class:`CounterfactualAugmenter`."""

    method: Literal["augment"] = "augment"
    mode: Literal["cda", "cds"] = "cda"
    p: float = Field(0.5, ge=0.0, le=1.0)
    attribute: str = "gender"
    # term-list files (CSV/YAML) for the perturbation engine, merged with its built-in list
    terms: str | list[str] | None = None
    # TOML has no null: "none" keeps the sensitive value of swapped rows.
    swap_sensitive: Literal["auto", "none"] | dict[str, str] = "auto"
    seed: int = 0

    def swap_value(self) -> Any:
        return None if self.swap_sensitive == "none" else self.swap_sensitive


Step = Annotated[ReweighStep | ResampleStep | AugmentStep, Field(discriminator="method")]
_STEP_CLASSES: dict[str, type[FrozenModel]] = {
    "augment": AugmentStep,
    "resample": ResampleStep,
    "reweigh": ReweighStep,
}
METHODS = tuple(sorted(_STEP_CLASSES))


class DebiasConfig(FrozenModel):
    """Steps applied in order, e.g. augment, then reweigh.

    Examples
    --------
    >>> cfg = parse_config([{"method": "augment", "mode": "cds"}, {"method": "reweigh"}])
    >>> [s.method for s in cfg.steps]
    ['augment', 'reweigh']
    """

    steps: list[Step] = Field(min_length=1)

    @classmethod
    def from_toml(cls, path: str | Path) -> DebiasConfig:
        """Read ``[[steps]]`` tables from a TOML file."""
        data = read_toml(path, what="debias config file")
        unknown = sorted(set(data) - {"steps"})
        if unknown:
            raise ConfigError(
                f"unknown key(s) {unknown} in {path}; the debias config has only [[steps]] tables"
            )
        return parse_config(data.get("steps", []))


def parse_config(steps: Any) -> DebiasConfig:
    """Validate ``steps`` (a config, or a list of step dicts/models) into a :class:`DebiasConfig`.

    Unknown method names and unknown keys are :class:`ConfigError` naming them and the valid
    ones.
    """
    if isinstance(steps, DebiasConfig):
        return steps
    if isinstance(steps, Mapping) and "steps" in steps:
        extra = sorted(set(steps) - {"steps"})
        if extra:
            raise ConfigError(f"unknown key(s) {extra}; the debias config has only 'steps'")
        steps = steps["steps"]
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
        raise ConfigError(
            f"steps must be a list of steps such as [{{'method': 'reweigh'}}]; got {steps!r}"
        )
    if not steps:
        raise ConfigError(f"no debiasing steps given; add at least one of: {', '.join(METHODS)}")
    raw: list[Any] = []
    for i, step in enumerate(steps, start=1):
        if isinstance(step, BaseModel):
            step = step.model_dump()
        elif isinstance(step, str):
            step = {"method": step}
        if not isinstance(step, Mapping):
            raise ConfigError(f"step {i} must be a table/dict with a 'method'; got {step!r}")
        method = step.get("method")
        if method is None:
            raise ConfigError(
                f"step {i} has no 'method'; valid methods: {', '.join(METHODS)}"
            )
        if method not in _STEP_CLASSES:
            raise ConfigError(
                f"unknown debiasing method {method!r} in step {i}; valid methods: "
                f"{', '.join(METHODS)}"
            )
        raw.append(dict(step))
    try:
        return DebiasConfig.model_validate({"steps": raw})
    except ValidationError as exc:
        raise config_error(exc, what="debias config", locate=_step_locator(raw)) from None


def _step_locator(raw: list[dict[str, Any]]) -> Any:
    """Name a problem's place as ``step 2 (resample)``: steps are a list of tables."""

    def locate(loc: list[Any]) -> tuple[str, list[Any], Any]:
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
            method = raw[loc[1]]["method"]
            keys = [p for p in loc[2:] if p != method and not isinstance(p, int)]
            return f"step {loc[1] + 1} ({method})", keys, _STEP_CLASSES[method].model_fields
        return "", [str(p) for p in loc], ["steps"]

    return locate


def steps_from_options(methods: Sequence[str], options: Mapping[str, Any]) -> DebiasConfig:
    """Build a config from method names and flat options (CLI flags), in the given order.

    Each step takes the options its method knows; an option no chosen method uses is an error.
    ``options`` keys are step fields (``smoothing``, ``target``, ``mode``, ``p``, ...); the
    resampling and augmentation ``mode`` are given as ``resample_mode`` and ``augment_mode``.
    """
    given = {k: v for k, v in options.items() if v is not None}
    used: set[str] = set()
    steps: list[dict[str, Any]] = []
    for method in methods:
        if method not in _STEP_CLASSES:
            raise ConfigError(
                f"unknown debiasing method {method!r}; valid methods: {', '.join(METHODS)}"
            )
        step: dict[str, Any] = {"method": method}
        for key, value in given.items():
            field = {"resample_mode": ("resample", "mode"), "augment_mode": ("augment", "mode")}.get(
                key, (method, key)
            )
            if field[0] == method and field[1] in _STEP_CLASSES[method].model_fields:
                step[field[1]] = value
                used.add(key)
        steps.append(step)
    unused = sorted(set(given) - used)
    if unused:
        raise ConfigError(
            f"option(s) {', '.join(unused)} apply to none of the chosen methods "
            f"({', '.join(methods)})"
        )
    return parse_config(steps)
