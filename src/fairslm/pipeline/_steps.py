"""What each pipeline step does. A step reads the run's state, writes its artefacts into its own
folder and returns a small manifest; ``load`` restores the state from that folder when the step
is reused.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairslm._artifact import write_json_atomic
from fairslm.audit import AuditResult
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.pipeline._config import PipelineConfig

__all__ = ["RunState", "STEP_FUNCS", "load_dataset_for", "model_output", "split_state"]

BASELINE, MITIGATED = "baseline", "mitigated"


@dataclass
class RunState:
    """Everything the steps hand to each other during one run."""

    config: PipelineConfig
    dataset: Any = None  # the whole data set (fairslm Dataset)
    truth_dataset: Any = None  # the same rows labelled with the unbiased truth, when known
    eval_truth: Any = None
    train: Any = None
    validation: Any = None
    eval: Any = None
    train_debiased: Any = None
    debias: dict[str, Any] | None = None
    data_audit: dict[str, Any] | None = None
    models: dict[str, Path] = field(default_factory=dict)
    audits: dict[str, AuditResult] = field(default_factory=dict)
    truth_audits: dict[str, AuditResult] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    counterfactual: dict[str, dict[str, Any]] = field(default_factory=dict)
    comparison: dict[str, Any] | None = None
    postprocess: dict[str, Any] | None = None
    predictions: dict[str, Any] = field(default_factory=dict)
    train_info: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_dataset_for(cfg: PipelineConfig) -> tuple[Any, Any]:
    """The pipeline's data set (the file named in [data], or the synthetic corpus), and the
    same rows labelled with the unbiased ``data.truth`` column when one is named."""
    from fairslm.data import load_dataset, make_hiring_corpus

    d = cfg.data
    if d.synthetic is not None:
        source: Any = make_hiring_corpus(d.synthetic.n, seed=d.synthetic.seed,
                                         config=d.synthetic.config or None)
    else:
        source = d.path
    kw = dict(text=d.text, sensitive=tuple(d.sensitive), split=d.split, pos_label=d.pos_label)
    ds = load_dataset(source, label=d.label, **kw)
    truth = None if d.truth is None else load_dataset(source, label=d.truth, **kw)
    return ds, truth


def split_state(state: RunState) -> None:
    """Cut the data set into the train, validation and evaluation splits named in [data]."""
    d = state.config.data
    ds = state.dataset
    names = set(ds.split_names)
    wanted = [d.train_split, d.eval_split] + ([d.validation_split] if d.validation_split else [])
    missing = [s for s in wanted if s not in names]
    if missing:
        raise InvalidDataError(
            f"split(s) {missing} not found in the data; splits are: {', '.join(sorted(names)) or 'none'}."
            " Set data.train_split / data.validation_split / data.eval_split"
        )
    state.train = ds.split(d.train_split)
    state.eval = ds.split(d.eval_split)
    state.validation = ds.split(d.validation_split) if d.validation_split else None
    if state.truth_dataset is not None:
        state.eval_truth = np.asarray(state.truth_dataset.split(d.eval_split).labels)


# -- data audit ----------------------------------------------------------------------------
def data_audit(state: RunState, folder: Path) -> dict[str, Any]:
    from fairslm.audit import audit_data

    res = audit_data(state.train, seed=state.config.seed,
                     min_group_size=state.config.audit.min_group_size)
    res.to_json(folder / "data_audit.json")
    return {"files": ["data_audit.json"]}


def load_data_audit(state: RunState, folder: Path, manifest: dict[str, Any]) -> None:
    state.data_audit = json.loads((folder / "data_audit.json").read_text(encoding="utf-8"))


# -- training ------------------------------------------------------------------------------
def _with_sensitive(ds: Any, columns: list[str] | None) -> Any:
    """``ds`` whose groups are formed by ``columns`` only (a subset of its sensitive columns)."""
    if ds is None or not columns:
        return ds
    from fairslm.data import Dataset

    return Dataset(ds.frame, ds.spec.model_copy(update={"sensitive": tuple(columns)}),
                   source=ds.source)


def _train(state: RunState, folder: Path, settings: dict[str, Any], data: Any) -> dict[str, Any]:
    """Fine-tune one model into ``folder/model``; with the pipeline-only key ``seeds`` (two or
    more), one fine-tune per seed into ``folder/model-seed<S>`` and ``folder/model`` a blend
    folder averaging them with equal weights.

    Each finished ensemble member is recorded in ``folder/model-seed<S>.json``; a step that was
    interrupted keeps its partial folder (``RESUMABLE_STEPS``), so running it again reuses the
    members that finished and trains only the rest.
    """
    from fairslm.training import TrainConfig, train

    d = state.config.data
    settings = dict(settings)
    # Pipeline-only keys: the sensitive columns whose groups the training sees (default: all),
    # and the seeds of an ensemble (default: the run's seed, one model).
    columns = settings.pop("sensitive", None)
    seeds = settings.pop("seeds", None) or [settings.pop("seed", state.config.seed)]
    unknown = [c for c in columns or [] if c not in d.sensitive]
    if unknown:
        raise ConfigError(f"training sensitive columns {unknown} are not among data.sensitive "
                          f"({', '.join(d.sensitive)})")
    members = []
    ensemble = len(seeds) > 1
    for seed in seeds:
        out = f"model-seed{seed}" if ensemble else "model"
        done = folder / f"{out}.json"
        if ensemble and done.exists() and (folder / out).is_dir():
            members.append(json.loads(done.read_text(encoding="utf-8")))
            continue
        if (folder / out).exists():  # what an interrupted run left of this model: start it afresh
            shutil.rmtree(folder / out)
        try:
            cfg = TrainConfig(**{"progress": False, **settings, "seed": seed, "output_dir": folder / out,
                                 "data": {"text": d.text, "label": d.label,
                                          "sensitive": list(columns or d.sensitive)}})
        except ValueError as exc:
            raise ConfigError(f"invalid training settings: {exc}") from None
        res = train(cfg, train_data=_with_sensitive(data, columns),
                    validation_data=_with_sensitive(state.validation, columns), overwrite=True)
        members.append({"seed": seed, "model_dir": out, "steps": res.steps, "epochs": res.epochs,
                        "train_time_s": res.train_time_s, "feasible": res.feasible,
                        "validation": res.validation})
        if ensemble:
            write_json_atomic(members[-1], done)
    if not ensemble:
        info = {k: v for k, v in members[0].items() if k not in ("seed", "model_dir")}
        return {"model_dir": "model", "train": info}
    from fairslm.models import save_blend

    # The ensemble: the mean of the members' probabilities (fairslm.models.BlendAdapter).
    save_blend(folder / "model", {folder / m["model_dir"]: 1.0 for m in members})
    feasible = [m["feasible"] for m in members]
    info = {"steps": sum(m["steps"] for m in members), "epochs": members[0]["epochs"],
            "train_time_s": sum(m["train_time_s"] for m in members),
            "feasible": None if all(f is None for f in feasible) else all(f is not False for f in feasible),
            "validation": None, "members": members}
    return {"model_dir": "model", "train": info}


def baseline(state: RunState, folder: Path) -> dict[str, Any]:
    b = state.config.baseline
    assert b is not None  # checked by PipelineConfig
    if b.model is not None:
        return {"model_path": str(b.model)}
    return _train(state, folder, dict(b.train or {}), state.train)


def train_step(state: RunState, folder: Path) -> dict[str, Any]:
    data = state.train_debiased if state.train_debiased is not None else state.train
    return _train(state, folder, dict(state.config.train or {}), data)


def model_output(folder: Path, manifest: dict[str, Any]) -> Path:
    return Path(manifest["model_path"]) if "model_path" in manifest else folder / manifest["model_dir"]


def load_baseline(state: RunState, folder: Path, manifest: dict[str, Any]) -> None:
    state.models[BASELINE] = model_output(folder, manifest)
    if "train" in manifest:
        state.train_info[BASELINE] = manifest["train"]


def load_train(state: RunState, folder: Path, manifest: dict[str, Any]) -> None:
    state.models[MITIGATED] = model_output(folder, manifest)
    state.train_info[MITIGATED] = manifest["train"]


# -- debias --------------------------------------------------------------------------------
def debias_step(state: RunState, folder: Path) -> dict[str, Any]:
    from fairslm.mitigation import debias

    assert state.config.debias is not None
    res = debias(state.train, steps=list(state.config.debias.steps))
    ds = res.dataset
    ds.frame.to_parquet(folder / "train.parquet")
    spec = ds.spec.model_dump(mode="json")
    write_json_atomic({"summary": res.to_dict(), "spec": spec}, folder / "debias.json")
    return {"rows_before": len(state.train), "rows_after": len(ds)}


def load_debias(state: RunState, folder: Path, manifest: dict[str, Any]) -> None:
    import pandas as pd

    from fairslm.data import Dataset, DatasetSpec

    info = json.loads((folder / "debias.json").read_text(encoding="utf-8"))
    frame = pd.read_parquet(folder / "train.parquet")
    state.train_debiased = Dataset(frame, DatasetSpec(**info["spec"]), source="debiased training data")
    state.debias = info["summary"]


# -- post-processing -----------------------------------------------------------------------
def _positive_scores(model: Any, ds: Any) -> np.ndarray:
    """The model's probability of ``ds``'s positive label on each of its texts."""
    classes = list(model.classes_)
    pos = ds.pos_label
    idx = next((i for i, c in enumerate(classes) if c == pos or str(c) == str(pos)), len(classes) - 1)
    return np.asarray(model.predict_proba(ds.texts), dtype=float)[:, idx]


def _blend_step(state: RunState, folder: Path, column: str) -> dict[str, Any]:
    from fairslm.mitigation.postprocessing import choose_blend_weight
    from fairslm.models import load_model, save_blend

    pp = state.config.postprocess
    assert pp is not None
    val = state.validation
    if val is None:
        raise ConfigError("postprocess method 'blend' chooses its weight on the validation split, "
                          "and data.validation_split is not set; name the validation split")
    fair, base = state.models[MITIGATED], state.models[BASELINE]
    y = (np.asarray(val.labels).astype(str) == str(val.pos_label)).astype(int)
    choice = choose_blend_weight(
        y, _positive_scores(load_model(fair), val), _positive_scores(load_model(base), val),
        val.frame[column].astype(str).to_numpy(), **({} if pp.cut is None else {"cut": pp.cut}))
    save_blend(folder / "model", {fair: choice.weight, base: 1 - choice.weight})
    info = {"model_dir": "model", "method": "blend", "sensitive_column": column,
            "blend": {"fine-tuned": str(fair), "baseline": str(base), **choice.to_dict()}}
    if not choice.met:
        import warnings

        warnings.warn(f"postprocess blend: no weight removes {choice.cut:.0%} of the baseline's "
                      f"validation TPR-gap RMS; the fine-tuned model is kept alone "
                      f"(gap {choice.gap:.3f} against {choice.baseline_gap:.3f})", stacklevel=2)
    return info


def postprocess_step(state: RunState, folder: Path) -> dict[str, Any]:
    from fairslm.mitigation.postprocessing import GroupThresholdOptimizer
    from fairslm.models import load_model

    cfg = state.config
    pp = cfg.postprocess
    assert pp is not None  # checked by PipelineConfig
    column = pp.sensitive or cfg.data.sensitive[0]
    if pp.method == "blend":
        return _blend_step(state, folder, column)
    source = state.models.get(MITIGATED) or state.models[BASELINE]
    val = state.validation if state.validation is not None else state.train
    model = load_model(source)
    pos = val.pos_label
    scores = _positive_scores(model, val)
    opt = GroupThresholdOptimizer(constraint=pp.constraint, pos_label=pos, **pp.options)
    opt.fit(np.asarray(val.labels), scores, sensitive_features=val.frame[column].astype(str).to_numpy())
    info = {"model_path": str(source), "sensitive_column": column, "constraint": pp.constraint,
            "thresholds": {str(k): float(v) for k, v in opt.thresholds_.items()}}
    write_json_atomic(info, folder / "thresholds.json")
    return info


def load_postprocess(state: RunState, folder: Path, manifest: dict[str, Any]) -> None:
    state.models[MITIGATED] = model_output(folder, manifest)
    state.postprocess = manifest


# -- audits --------------------------------------------------------------------------------
def _audit_model(state: RunState, name: str, folder: Path) -> dict[str, Any]:
    from fairslm.pipeline._model_audit import audit_model

    a = state.config.audit
    # Group thresholds are applied by the audit; a blend is a model folder of its own.
    pp = state.postprocess
    thresholds = pp if name == MITIGATED and pp and "thresholds" in pp else None
    res = audit_model(
        state.models[name], state.eval, truth=state.eval_truth,
        group_thresholds=None if thresholds is None else thresholds["thresholds"],
        threshold_column=None if thresholds is None else thresholds["sensitive_column"],
        decision_threshold=a.decision_threshold, reference_group=a.reference_group,
        threshold=a.threshold, min_group_size=a.min_group_size, n_bootstrap=a.n_bootstrap,
        seed=state.config.seed, provenance={"model": str(state.models[name])},
    )
    res.audit.to_json(folder / "audit.json")
    if res.truth_audit is not None:
        res.truth_audit.to_json(folder / "truth_audit.json")
    import pandas as pd

    pd.DataFrame({"score": res.y_score, "decision": res.y_pred}).to_parquet(
        folder / "predictions.parquet")
    return {"model": name, "scores": res.scores}


def _load_audit(state: RunState, folder: Path, manifest: dict[str, Any]) -> None:
    name = manifest["model"]
    state.audits[name] = AuditResult.from_json(folder / "audit.json")
    state.scores[name] = dict(manifest["scores"])
    if (folder / "truth_audit.json").exists():
        state.truth_audits[name] = AuditResult.from_json(folder / "truth_audit.json")
    import pandas as pd

    state.predictions[name] = pd.read_parquet(folder / "predictions.parquet")["decision"].to_numpy()


def audit_baseline(state: RunState, folder: Path) -> dict[str, Any]:
    return _audit_model(state, BASELINE, folder)


def audit_final(state: RunState, folder: Path) -> dict[str, Any]:
    return _audit_model(state, MITIGATED, folder)


# -- counterfactual ------------------------------------------------------------------------
def counterfactual_step(state: RunState, folder: Path) -> dict[str, Any]:
    from fairslm.audit import counterfactual_test
    from fairslm.models import load_model

    cfg = state.config
    ev = state.eval
    n = min(len(ev), cfg.counterfactual.max_rows)
    texts = ev.texts[:n]
    labels = None if ev.labels is None else np.asarray(ev.labels)[:n]
    attrs = cfg.counterfactual.attributes or [
        next((s for s in cfg.data.sensitive if s == "gender"), cfg.data.sensitive[0])]
    done = {}
    for name, path in state.models.items():
        model = load_model(path)
        for attribute in attrs:
            groups = ev.frame[attribute].to_numpy()[:n]
            res = counterfactual_test(model, texts, attribute=attribute, labels=labels,
                                      groups=groups, pos_label=ev.pos_label, seed=cfg.seed,
                                      **cfg.counterfactual.options)
            key = name if len(attrs) == 1 else f"{name}: {attribute}"
            res.to_json(folder / f"{name}-{attribute}.json")
            done[key] = f"{name}-{attribute}.json"
    return {"files": done}


def load_counterfactual(state: RunState, folder: Path, manifest: dict[str, Any]) -> None:
    for name, file in manifest["files"].items():
        state.counterfactual[name] = json.loads((folder / file).read_text(encoding="utf-8"))


# -- compare -------------------------------------------------------------------------------
def compare_step(state: RunState, folder: Path) -> dict[str, Any]:
    from fairslm.mitigation.comparison import compare

    cfg = state.config
    ev = state.eval
    res = compare(
        dict(state.predictions), y_true=np.asarray(ev.labels), sensitive_features=ev.sensitive,
        pos_label=ev.pos_label, criterion=cfg.policy.criteria[0] if cfg.policy.criteria
        else "statistical_parity", threshold=cfg.policy.threshold,
        reference_group=cfg.audit.reference_group, min_group_size=cfg.audit.min_group_size,
        extra={n: dict(v) for n, v in state.scores.items()},
    )
    write_json_atomic(res.to_dict(), folder / "comparison.json")
    return {"files": ["comparison.json"]}


def load_compare(state: RunState, folder: Path, manifest: dict[str, Any]) -> None:
    state.comparison = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))


STEP_FUNCS: dict[str, tuple[Any, Any]] = {
    "data_audit": (data_audit, load_data_audit),
    "baseline": (baseline, load_baseline),
    "audit_baseline": (audit_baseline, _load_audit),
    "debias": (debias_step, load_debias),
    "train": (train_step, load_train),
    "postprocess": (postprocess_step, load_postprocess),
    "audit": (audit_final, _load_audit),
    "counterfactual": (counterfactual_step, load_counterfactual),
    "compare": (compare_step, load_compare),
}
# Steps whose partial folder, left by an interrupted run, is resumed rather than started afresh
# (``_train`` reuses the ensemble members that finished).
RESUMABLE_STEPS = frozenset({"baseline", "train"})
