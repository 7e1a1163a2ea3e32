"""The pipeline file (``pipeline.toml``): pydantic models, frozen, unknown keys are errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from fairslm._config import FrozenModel, config_error, config_problems, read_toml
from fairslm.exceptions import ConfigError
from fairslm.metrics import FOUR_FIFTHS, MIN_GROUP_SIZE

__all__ = [
    "STEPS",
    "STEP_NEEDS",
    "PipelineConfig",
    "load_pipeline_config",
    "pipeline_config_from_dict",
]

# The order steps run in; a pipeline may leave steps out but never reorder them.
STEPS = (
    "data_audit",
    "baseline",
    "audit_baseline",
    "debias",
    "train",
    "postprocess",
    "audit",
    "counterfactual",
    "compare",
    "report",
)
# For each step, groups of steps of which at least one must run earlier.
STEP_NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "audit_baseline": (("baseline",),),
    "postprocess": (("train", "baseline"),),
    "audit": (("train", "postprocess"),),
    "counterfactual": (("baseline", "train"),),
    "compare": (("audit_baseline",), ("audit",)),
    "report": (("audit_baseline", "audit"),),
}
STEP_HELP = {
    "data_audit": "representation, label rates and proxy terms of the training data",
    "baseline": "train the baseline model, or load it from [baseline] model",
    "audit_baseline": "audit the baseline on the evaluation split",
    "debias": "reweigh, resample or augment the training data ([debias] steps)",
    "train": "fine-tune under fairness constraints ([train])",
    "postprocess": "group decision thresholds, or a blend with the baseline ([postprocess])",
    "audit": "audit the mitigated model on the evaluation split",
    "counterfactual": "swap group words in the texts and measure how decisions change",
    "compare": "compare the models: criteria, accuracy, Pareto front",
    "report": "write report.json and report.html",
}


class SyntheticSection(FrozenModel):
    """Generate the synthetic hiring corpus instead of reading a file."""

    n: int = Field(default=2000, ge=20)
    seed: int = 0
    config: dict[str, Any] = Field(default_factory=dict)


class DataSection(FrozenModel):
    """Where the rows come from and which columns mean what."""

    path: Path | None = None
    synthetic: SyntheticSection | None = None
    text: str = "text"
    label: str = "label"
    sensitive: list[str] = Field(default_factory=list)
    pos_label: str | int | None = None
    split: str | None = "split"
    truth: str | None = None  # an unbiased label, when known (the synthetic corpus has one)
    train_split: str = "train"
    validation_split: str | None = "validation"
    eval_split: str = "test"

    @model_validator(mode="after")
    def _one_source(self) -> DataSection:
        if (self.path is None) == (self.synthetic is None):
            raise ValueError("give exactly one of data.path (a file or folder) or [data.synthetic]")
        if not self.sensitive:
            raise ValueError("data.sensitive must name at least one sensitive column")
        return self


class BaselineSection(FrozenModel):
    """The baseline: an existing model directory, or a fine-tuning run on the raw data."""

    model: Path | None = None
    train: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> BaselineSection:
        if (self.model is None) == (self.train is None):
            raise ValueError("give exactly one of baseline.model (a directory) or [baseline.train]")
        return self


class DebiasSection(FrozenModel):
    """Data debiasing steps, run in order, e.g. ``[{name = "reweighing"}]``."""

    steps: list[dict[str, Any]] = Field(default_factory=list)


class PostprocessSection(FrozenModel):
    """Fitted on the validation split: group-specific decision thresholds on one model
    (``method = "group_thresholds"``), or the weight of a score blend of the fine-tuned model
    with the baseline (``method = "blend"``: the most accurate weight that removes ``cut`` of
    the baseline's TPR-gap RMS)."""

    method: Literal["group_thresholds", "blend"] = "group_thresholds"
    constraint: str = "statistical_parity"
    sensitive: str | None = None  # the column whose groups count (default: the first)
    options: dict[str, Any] = Field(default_factory=dict)
    cut: float | None = Field(default=None, gt=0, lt=1)  # blend only; default 0.7

    @model_validator(mode="after")
    def _options_of_the_method(self) -> PostprocessSection:
        if self.method == "blend" and self.options:
            raise ValueError("postprocess.options are group-threshold options; method 'blend' takes "
                             "only cut (and sensitive): remove options")
        default = type(self).model_fields["constraint"].default
        if self.method == "blend" and self.constraint != default:
            raise ValueError(f"postprocess.constraint ({self.constraint!r}) is the group thresholds' "
                             "criterion; a blend removes a share of the TPR-gap RMS (cut) instead: "
                             "remove constraint, or set method = \"group_thresholds\"")
        if self.method == "group_thresholds" and self.cut is not None:
            raise ValueError("postprocess.cut is the blend's option; set method = \"blend\" or remove cut")
        return self


class AuditSection(FrozenModel):
    """How models are audited."""

    reference_group: str = "min_max"
    min_group_size: int = Field(default=MIN_GROUP_SIZE, ge=0)
    threshold: float = Field(default=FOUR_FIFTHS, gt=0, le=1)
    decision_threshold: float = Field(default=0.5, gt=0, lt=1)
    # 500 replicates put the 2.5% and 97.5% quantiles within about +/-0.01 of their limits.
    n_bootstrap: int = Field(default=500, ge=0)


class CounterfactualSection(FrozenModel):
    """Options passed to the counterfactual test."""

    options: dict[str, Any] = Field(default_factory=dict)
    max_rows: int = Field(default=500, ge=1)
    # None: "gender" when it is a sensitive column, else the first sensitive column.
    attributes: list[str] | None = None


class PolicySection(FrozenModel):
    """What the final model must meet; exit code 1 when it does not."""

    criteria: list[str] = Field(default_factory=lambda: ["statistical_parity"])
    threshold: float = Field(default=FOUR_FIFTHS, gt=0, le=1)
    views: Literal["all", "marginal"] | list[str] = "marginal"
    # When no criterion could be judged (verdict "insufficient"): "fail" exits 1, "pass" 0.
    on_undecided: Literal["fail", "pass"] = "fail"


class HistorySection(FrozenModel):
    """Keep every audit of the final model in a history file and show the trend."""

    path: Path = Path("fairslm-history.db")
    model: str = "model"  # the name the final model's audits are recorded under


class ReportSection(FrozenModel):
    """The report's title, model card text and formats."""

    title: str = "Fairness audit report"
    formats: list[Literal["json", "html"]] = Field(default_factory=lambda: ["json", "html"])
    model_card: dict[str, Any] = Field(default_factory=dict)


class PipelineConfig(FrozenModel):
    """A whole pipeline run, read from ``pipeline.toml``.

    Examples
    --------
    >>> cfg = pipeline_config_from_dict({
    ...     "steps": ["baseline", "audit_baseline", "report"],
    ...     "data": {"synthetic": {"n": 100}, "label": "hired", "sensitive": ["gender"]},
    ...     "baseline": {"model": "."},
    ... })
    >>> cfg.steps
    ['baseline', 'audit_baseline', 'report']
    """

    title: str | None = None
    seed: int = 0
    output: Path = Path("fairslm-out")
    steps: list[str] = Field(default_factory=lambda: list(STEPS))
    data: DataSection
    baseline: BaselineSection | None = None
    debias: DebiasSection | None = None
    train: dict[str, Any] | None = None
    postprocess: PostprocessSection | None = None
    audit: AuditSection = Field(default_factory=AuditSection)
    counterfactual: CounterfactualSection = Field(default_factory=CounterfactualSection)
    policy: PolicySection = Field(default_factory=PolicySection)
    history: HistorySection | None = None
    report: ReportSection = Field(default_factory=ReportSection)

    @field_validator("steps")
    @classmethod
    def _known_steps(cls, steps: list[str]) -> list[str]:
        for s in steps:
            if s not in STEPS:
                raise ValueError(f"unknown step {s!r}; valid steps are: {', '.join(STEPS)}")
        if len(set(steps)) != len(steps):
            dup = sorted({s for s in steps if steps.count(s) > 1})
            raise ValueError(f"step(s) {dup} listed more than once")
        for a, b in zip(steps, steps[1:], strict=False):
            if STEPS.index(a) > STEPS.index(b):
                raise ValueError(
                    f"step {b!r} cannot run after {a!r}; steps run in this order: "
                    f"{' -> '.join(STEPS)}"
                )
        for i, s in enumerate(steps):
            for group in STEP_NEEDS.get(s, ()):
                if not any(g in steps[:i] for g in group):
                    raise ValueError(
                        f"step {s!r} needs {' or '.join(repr(g) for g in group)} before it"
                    )
        return steps

    @model_validator(mode="after")
    def _sections_for_steps(self) -> PipelineConfig:
        need = {"baseline": "baseline", "debias": "debias", "train": "train",
                "postprocess": "postprocess"}
        for step, section in need.items():
            if step in self.steps and getattr(self, section) is None:
                raise ValueError(f"step {step!r} is listed but the [{section}] section is missing")
        if (self.postprocess is not None and self.postprocess.method == "blend"
                and "postprocess" in self.steps and not {"baseline", "train"} <= set(self.steps)):
            raise ValueError("postprocess method 'blend' blends the fine-tuned model with the "
                             "baseline: list both 'baseline' and 'train' before 'postprocess'")
        for where, settings in (("train", self.train),
                                ("baseline.train", self.baseline.train if self.baseline else None)):
            if settings is not None:
                _check_training(where, settings, self.data.sensitive)
        unknown = [a for a in self.counterfactual.attributes or [] if a not in self.data.sensitive]
        if unknown:
            raise ValueError(f"counterfactual.attributes {unknown} are not sensitive columns; "
                             f"the sensitive columns are: {', '.join(self.data.sensitive)}")
        return self


def _check_training(where: str, settings: dict[str, Any], sensitive: list[str]) -> None:
    """Validate fine-tuning settings now, so a typo fails before hours of work."""
    from fairslm.training import TrainConfig

    settings = dict(settings)
    columns = settings.pop("sensitive", None) or []
    bad = [c for c in columns if c not in sensitive]
    if bad:
        raise ValueError(f"{where}.sensitive {bad} are not among data.sensitive ({', '.join(sensitive)})")
    for key in ("output_dir", "data"):
        if key in settings:
            raise ValueError(f"{where}.{key} is set by the pipeline; remove it")
    if "seeds" in settings:
        seeds = settings.pop("seeds")
        if (not isinstance(seeds, list) or not seeds
                or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds)):
            raise ValueError(f"{where}.seeds must be a list of whole numbers >= 0 (one fine-tune per "
                             f"seed, averaged), e.g. seeds = [0, 5]; got {seeds!r}")
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"{where}.seeds {seeds} repeats a seed; the same seed trains the same model")
        if "seed" in settings:
            raise ValueError(f"{where} sets both seed and seeds; keep seeds (one fine-tune per seed)")
    try:
        TrainConfig(output_dir=Path("."), **settings)
    except ValidationError as exc:
        valid = (set(TrainConfig.model_fields) - {"output_dir", "data"}) | {"sensitive", "seeds"}
        problems = config_problems(exc, TrainConfig, section=where, root_keys=valid)
        raise ValueError("; ".join(problems)) from None
    targets = (settings.get("constraints") or {}).get("targets") or []
    if targets:
        from fairslm.mitigation.inprocessing import RateConstraint

        for t in targets:
            try:
                RateConstraint.parse(t)
            except ConfigError as exc:
                raise ValueError(f"{where}.constraints.targets: {exc}") from None


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Relative paths in the file are relative to the file's folder."""
    out = dict(data)

    def fix(section: str, key: str) -> None:
        sec = out.get(section)
        if isinstance(sec, dict) and isinstance(sec.get(key), str):
            p = Path(sec[key]).expanduser()
            out[section] = {**sec, key: str(p if p.is_absolute() else base / p)}

    fix("data", "path")
    fix("baseline", "model")
    fix("history", "path")
    if isinstance(out.get("output"), str):
        p = Path(out["output"]).expanduser()
        out["output"] = str(p if p.is_absolute() else base / p)
    return out


def pipeline_config_from_dict(data: dict[str, Any], *, source: str = "(dict)",
                              base: Path | None = None) -> PipelineConfig:
    """Validate a pipeline config given as a dict; paths are relative to ``base``."""
    if base is not None:
        data = _resolve_paths(data, base)
    try:
        return PipelineConfig(**data)
    except ValidationError as exc:
        raise config_error(exc, PipelineConfig, what=f"pipeline config {source}") from None


def load_pipeline_config(path: str | Path, **overrides: Any) -> PipelineConfig:
    """Read ``pipeline.toml``; ``overrides`` (e.g. ``output``) replace top-level keys."""
    path = Path(path)
    raw = read_toml(path, what="pipeline file")
    raw.update({k: v for k, v in overrides.items() if v is not None})
    return pipeline_config_from_dict(raw, source=str(path), base=path.resolve().parent)
