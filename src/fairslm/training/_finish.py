"""The end of a run: keep the selected weights, save the model, audit it, record everything."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from fairslm._artifact import write_json_atomic
from fairslm._version import __version__
from fairslm.training._evaluate import criterion_ratios, validation_audit
from fairslm.training._model import model_fingerprint
from fairslm.training._result import TrainResult

__all__ = ["finish"]


def finish(run: Any) -> TrainResult:
    """Write ``output_dir`` of a finished :class:`~fairslm.training._loop.FineTuning` run.

    Every rank of a distributed run computes the same result; rank 0 alone writes.
    """
    cfg, tm, selector, state, out, ranks = run.cfg, run.tm, run.selector, run.state, run.out, run.ranks
    tr, val = run.data.train, run.data.validation
    best = selector.best
    selected = state.step
    if selector.has_constraints and best is not None and best.step != state.step:
        from safetensors.torch import load_file

        ranks.barrier()  # rank 0 may still be writing best/
        tm.load_trainable_state(load_file(str(run.best_dir / "model.safetensors")))
        selected = best.step
    if ranks.main:
        tm.save(out)
    provenance = {
        "fairslm_version": __version__,
        "dataset_sha256": run.data_hash,
        "validation_sha256": val.content_hash() if val is not None else None,
        "seed": cfg.seed,
        "base_model": str(run.base_path),
        "base_model_sha256": model_fingerprint(run.base_path),
        "config_fingerprint": run.fingerprint,
    }
    validation: dict[str, Any] = {}
    if val is not None:
        proba = run.predict_validation()
        audit = validation_audit(val, proba, threshold=cfg.audit_threshold,
                                 min_group_size=cfg.audit_min_group_size, provenance=provenance)
        if ranks.main:
            audit.to_json(out / "audit.json")
        validation = {"accuracy": float(np.mean(proba.argmax(1) == val.y)), **criterion_ratios(audit),
                      "verdicts": {c.name: c.verdict for c in audit.views[0].criteria}}
        if best is not None:
            validation["constraints"] = dict(best.constraints)
    mean_step = float(np.mean(state.step_times)) if state.step_times else 0.0
    meta = {
        "fairslm_version": __version__,
        # the kind fairslm.load_model reads to pick the adapter
        "kind": "hf-classifier" if tm.kind == "sequence" else "hf-causal-lm",
        "classes": tr.classes,
        "pos_label": tr.classes[tr.pos_index],
        "sensitive_features": list(tr.sensitive.columns),
        "group_labels": tr.group_labels,
        "config": cfg.model_dump(mode="json"),
        "provenance": provenance,
        "selection": {
            "selected_step": selected,
            "feasible": selector.feasible,
            "note": (None if not selector.has_constraints else
                     "kept the most accurate checkpoint meeting the constraints on validation data"
                     if selector.feasible else
                     "no checkpoint met the constraints on validation data; kept the least violating"),
            "candidates": [c.to_dict() for c in selector.candidates],
        },
        "training": {"steps": state.step, "epochs": cfg.epochs, "resumed_from": state.resumed_from,
                     "mean_step_time_s": mean_step, "world_size": ranks.world_size,
                     "backend": ranks.backend},
        "validation": validation,
    }
    if tm.kind == "label_words" and cfg.lora is not None:
        # as the causal-LM adapter reads them: word -> class
        meta["label_words"] = {w: c for c, w in cfg.lora.label_words.items()}
        meta["template"] = cfg.lora.template
    if ranks.main:
        write_json_atomic(meta, out / "fairslm.json")
    return TrainResult(
        output_dir=out, steps=state.step, epochs=cfg.epochs, validation=validation,
        selected_step=selected, feasible=selector.feasible,
        candidates=[c.to_dict() for c in selector.candidates],
        train_time_s=time.perf_counter() - run.t_start, mean_step_time_s=mean_step,
        resumed_from=state.resumed_from, config=cfg.model_dump(mode="json"),
        world_size=ranks.world_size,
    )
