"""Run a pipeline: preflight checks, each step once (or reused from the cache), the report."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fairslm._artifact import write_json_atomic
from fairslm._version import __version__
from fairslm.exceptions import ConfigError
from fairslm.pipeline._config import STEP_HELP, PipelineConfig, load_pipeline_config
from fairslm.pipeline._steps import (
    BASELINE,
    MITIGATED,
    RESUMABLE_STEPS,
    STEP_FUNCS,
    RunState,
    load_dataset_for,
    split_state,
)

__all__ = ["PipelineResult", "StepRecord", "run_pipeline"]

Progress = Callable[[str, str, dict[str, Any]], None]


@dataclass
class StepRecord:
    """What one step did: ``ran`` or ``reused`` (its inputs had not changed), and how long."""

    name: str
    status: str
    seconds: float
    key: str
    folder: str
    manifest: dict[str, Any] = field(default_factory=dict)


@dataclass
class PipelineResult:
    """The outcome of :func:`run_pipeline`.

    ``verdict`` is the final model's verdict under the policy (``"pass"``, ``"fail"``, or
    ``"insufficient"`` when no criterion could be judged), or None when no model was audited;
    ``report`` maps ``json``/``html`` to the written files. ``on_undecided`` is the policy's
    reading of ``"insufficient"``: a pass, or not (the default).
    """

    output_dir: Path
    steps: list[StepRecord]
    verdict: str | None
    final_model: str | None
    models: dict[str, dict[str, Any]]
    report: dict[str, Path]
    seconds: float
    on_undecided: str = "fail"

    @property
    def passed(self) -> bool:
        if self.verdict == "insufficient":
            return self.on_undecided == "pass"
        return self.verdict != "fail"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "fairslm.pipeline_run",
            "output_dir": str(self.output_dir),
            "verdict": self.verdict,
            "final_model": self.final_model,
            "models": self.models,
            "report": {k: str(v) for k, v in self.report.items()},
            "seconds": round(self.seconds, 2),
            "steps": [asdict(s) for s in self.steps],
        }


# The earlier steps whose results each step reads: a change there invalidates the step.
_STEP_INPUTS: dict[str, tuple[str, ...]] = {
    "audit_baseline": ("baseline",),
    "train": ("debias",),
    "postprocess": ("baseline", "train"),
    "audit": ("train", "postprocess"),
    "counterfactual": ("baseline", "train", "postprocess"),
    "compare": ("baseline", "train", "postprocess", "audit_baseline", "audit"),
}


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _dir_fingerprint(path: Path) -> str:
    """Cheap identity of a model folder given by the user: names, sizes, mtimes of its files."""
    if path.is_file():
        st = path.stat()
        return _hash([path.name, st.st_size, st.st_mtime_ns])
    items = []
    for p in sorted(path.rglob("*")):
        if p.is_file():
            st = p.stat()
            items.append([str(p.relative_to(path)), st.st_size, st.st_mtime_ns])
    return _hash(items)


def _step_config(cfg: PipelineConfig, name: str) -> Any:
    """The part of the config a step depends on (its cache key covers only this)."""
    c = cfg.model_dump(mode="json")
    common = {"seed": c["seed"], "data": c["data"]}
    parts = {
        "data_audit": {"audit": c["audit"]},
        "baseline": {"baseline": c["baseline"]},
        "audit_baseline": {"audit": c["audit"]},
        "debias": {"debias": c["debias"]},
        "train": {"train": c["train"]},
        "postprocess": {"postprocess": c["postprocess"]},
        "audit": {"audit": c["audit"]},
        "counterfactual": {"counterfactual": c["counterfactual"]},
        "compare": {"audit": c["audit"]},
    }
    return {**common, **parts.get(name, {})}


def _preflight(cfg: PipelineConfig) -> Path:
    d = cfg.data
    if d.path is not None and not Path(d.path).exists():
        raise ConfigError(f"data.path {d.path} does not exist; point it at a CSV, Parquet, "
                          "JSON Lines file or a folder of split files")
    if cfg.baseline is not None and cfg.baseline.model is not None and "baseline" in cfg.steps:
        if not Path(cfg.baseline.model).exists():
            raise ConfigError(f"baseline.model {cfg.baseline.model} does not exist; give a model "
                              "directory, or replace it with a [baseline.train] section")
    out = Path(cfg.output)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"output folder {out} is not writable ({exc.strerror or exc}); set output = \"...\" in "
            "the pipeline file or pass --out DIR"
        ) from None
    return out


def _provenance(cfg: PipelineConfig, state: RunState) -> dict[str, Any]:
    import importlib.metadata as md

    versions = {"fairslm": __version__, "python": platform.python_version()}
    for pkg in ("numpy", "pandas", "torch", "transformers", "scikit-learn"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    fps = {n: a.provenance.get("model_fingerprint") for n, a in state.audits.items()}
    return {
        "versions": versions,
        "seed": cfg.seed,
        "dataset_sha256": None if state.dataset is None else state.dataset.content_hash,
        "model_fingerprints": fps,
        "training": state.train_info,
        "config": cfg.model_dump(mode="json"),
    }


def _model_card(cfg: PipelineConfig, state: RunState) -> dict[str, Any]:
    card: dict[str, Any] = {
        "model": (MITIGATED if MITIGATED in state.audits else BASELINE),
        "task": f"binary decision '{cfg.data.label}' from the text column '{cfg.data.text}'",
        "sensitive_features": ", ".join(cfg.data.sensitive),
        "evaluation_data": f"split '{cfg.data.eval_split}' ({0 if state.eval is None else len(state.eval)} rows)",
        "mitigation": [s for s in ("debias", "train", "postprocess") if s in cfg.steps],
    }
    card.update(cfg.report.model_card)
    return card


def _history(cfg: PipelineConfig, state: RunState, records: list[StepRecord]) -> dict[str, Any] | None:
    """Record a freshly run final audit in the history file; the trend of each policy criterion."""
    if cfg.history is None:
        return None
    from fairslm.governance import HistoryStore, trend

    name = MITIGATED if MITIGATED in state.audits else BASELINE
    if name not in state.audits:
        return None
    step = "audit" if name == MITIGATED else "audit_baseline"
    store = HistoryStore(cfg.history.path)
    if any(r.name == step and r.status == "ran" for r in records):
        store.record(state.audits[name], model=cfg.history.model,
                     dataset_hash=None if state.dataset is None else state.dataset.content_hash)
    trends = []
    for criterion in cfg.policy.criteria:
        t = trend(store, cfg.history.model, criterion, svg=False)
        t.pop("svg", None)
        trends.append(t)
    return {"path": str(cfg.history.path), "trends": trends}


def _build_report(cfg: PipelineConfig, state: RunState, out: Path,
                  history: dict[str, Any] | None = None) -> dict[str, Path]:
    from fairslm.reporting import build_report, write_report

    mitigation = None
    if any(s in cfg.steps for s in ("debias", "train", "postprocess")):
        mitigation = {
            "debias_steps": None if cfg.debias is None else cfg.debias.steps,
            "training": cfg.train,
            "postprocess": None if cfg.postprocess is None else cfg.postprocess.model_dump(),
            # What post-processing fitted on validation: the thresholds, or the blend's weight.
            "postprocess_fitted": None if state.postprocess is None else {
                k: v for k, v in state.postprocess.items() if k in ("thresholds", "blend")},
            "data_before_after": None if state.debias is None else {
                k: state.debias.get(k) for k in ("before", "after")},
        }
    report = build_report(
        dict(state.audits),
        title=cfg.title or cfg.report.title,
        final=MITIGATED if MITIGATED in state.audits else None,
        baseline=BASELINE if BASELINE in state.audits else None,
        policy=cfg.policy.model_dump(exclude={"on_undecided"}),
        scores=state.scores,
        truth_audits=state.truth_audits or None,
        data_audit=state.data_audit,
        counterfactual=state.counterfactual or None,
        mitigation=mitigation,
        comparison=state.comparison,
        history=history,
        provenance=_provenance(cfg, state),
        model_card=_model_card(cfg, state),
    )
    return write_report(report, out, formats=tuple(cfg.report.formats))


def _evidence(pv: dict[str, Any]) -> str:
    """How firm a policy verdict is: "firm", or the passes whose interval reaches below the
    threshold ("thin on race: 0.875 (95% interval 0.69-1.00)")."""
    if pv["verdict"] != "pass":
        return "-"
    if not pv["thin"]:
        return "no intervals" if pv["without_interval"] else "firm"
    parts = [f"{t['view']}: {t['ratio']:.3f} (interval {t['interval'][0]:.2f}-{t['interval'][1]:.2f})"
             for t in pv["thin"]]
    return "thin on " + "; ".join(parts)


def run_pipeline(
    config: PipelineConfig | str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> PipelineResult:
    """Run the steps of a pipeline; steps whose inputs did not change are reused.

    Parameters
    ----------
    config : PipelineConfig or path to ``pipeline.toml``
    output : path, optional
        Overrides the config's ``output`` folder.
    force : bool
        Recompute every step even when a cached result exists.
    progress : callable, optional
        Called as ``progress(event, step, info)`` with event ``"start"`` or ``"end"``.

    Returns
    -------
    PipelineResult
        Exit code 1 in the CLI when ``verdict == "fail"``.
    """
    cfg = config if isinstance(config, PipelineConfig) else load_pipeline_config(config)
    if output is not None:
        cfg = cfg.model_copy(update={"output": Path(output)})
    t0 = time.perf_counter()
    out = _preflight(cfg)
    cache = out / "cache"
    state = RunState(config=cfg)
    state.dataset, state.truth_dataset = load_dataset_for(cfg)
    split_state(state)
    records: list[StepRecord] = []
    data_key = _hash({"data": state.dataset.content_hash, "version": __version__})
    keys: dict[str, str] = {}
    emit = progress or (lambda *a: None)
    for name in cfg.steps:
        if name == "report":
            continue
        t1 = time.perf_counter()
        emit("start", name, {"help": STEP_HELP[name]})
        inputs = {s: keys[s] for s in _STEP_INPUTS.get(name, ()) if s in keys}
        key_src = {"step": name, "config": _step_config(cfg, name), "data": data_key,
                   "inputs": inputs}
        if name == "baseline" and cfg.baseline is not None and cfg.baseline.model is not None:
            key_src["model"] = _dir_fingerprint(Path(cfg.baseline.model))
        key = _hash(key_src)[:16]
        folder = cache / f"{name}-{key}"
        manifest_path = folder / "manifest.json"
        run, load = STEP_FUNCS[name]
        status = "reused"
        if force or not manifest_path.exists():
            status = "ran"
            if folder.exists():
                shutil.rmtree(folder)
            tmp = cache / f".{name}-{key}.partial"
            # An interrupted step left its partial folder; the training steps resume from it
            # (finished ensemble members are kept), every other step starts afresh.
            if tmp.exists() and (force or name not in RESUMABLE_STEPS):
                shutil.rmtree(tmp)
            tmp.mkdir(parents=True, exist_ok=True)
            manifest = run(state, tmp)
            write_json_atomic(manifest, tmp / "manifest.json")
            os.replace(tmp, folder)  # a step's folder appears whole or not at all
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        load(state, folder, manifest)
        keys[name] = key
        rec = StepRecord(name, status, time.perf_counter() - t1, key, str(folder), manifest)
        records.append(rec)
        emit("end", name, asdict(rec))
    paths: dict[str, Path] = {}
    if "report" not in cfg.steps:
        _history(cfg, state, records)
    if "report" in cfg.steps:
        t1 = time.perf_counter()
        emit("start", "report", {"help": STEP_HELP["report"]})
        paths = _build_report(cfg, state, out, _history(cfg, state, records))
        rec = StepRecord("report", "ran", time.perf_counter() - t1, "", str(out),
                         {k: str(v) for k, v in paths.items()})
        records.append(rec)
        emit("end", "report", asdict(rec))
    from fairslm.reporting import policy_verdict

    models: dict[str, dict[str, Any]] = {}
    for n, a in state.audits.items():
        pv = policy_verdict(a, cfg.policy.model_dump())
        worst = pv["worst"] or {}
        models[n] = {"verdict": pv["verdict"], "worst ratio": worst.get("ratio"),
                     "worst view": worst.get("view"), **state.scores.get(n, {}),
                     "evidence": _evidence(pv), "failing": pv["failing"]}
    final = MITIGATED if MITIGATED in models else (BASELINE if BASELINE in models else None)
    return PipelineResult(
        output_dir=out, steps=records, verdict=None if final is None else models[final]["verdict"],
        final_model=final, models=models, report=paths, seconds=time.perf_counter() - t0,
        on_undecided=cfg.policy.on_undecided,
    )
