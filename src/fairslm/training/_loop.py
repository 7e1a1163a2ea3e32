"""The fine-tuning loop behind :func:`fairslm.train`."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from fairslm._version import __version__
from fairslm.audit._result import write_json_atomic
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.training._checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from fairslm.training._config import TrainConfig, load_train_config
from fairslm.training._data import (
    Rows,
    balanced_draw,
    epoch_batches,
    read_rows,
    strata,
    stratified_split,
)
from fairslm.training._evaluate import criterion_ratios, predict_proba, validation_audit
from fairslm.training._model import load_trainable, model_fingerprint
from fairslm.training._result import TrainResult
from fairslm.training._selection import Candidate, Selector, violation

__all__ = ["train"]

_MARKERS = ("fairslm.json", "train_log.jsonl", "checkpoints")


def _prepare_output(out: Path, *, resume: bool, overwrite: bool) -> None:
    if resume:
        if latest_checkpoint(out / "checkpoints") is None:
            raise ConfigError(
                f"nothing to resume: {out} has no checkpoint; run without --resume "
                "(add --overwrite to start over in that directory)"
            )
        return
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise ConfigError(
                f"output directory {out} already exists and is not empty; pass --overwrite "
                "(overwrite=True) to replace it, or --resume (resume=True) to continue its run"
            )
        if not any((out / m).exists() for m in _MARKERS):
            raise ConfigError(
                f"refusing to overwrite {out}: it does not look like a fairslm training directory "
                "(no fairslm.json, train_log.jsonl or checkpoints/); choose another output_dir"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up to 1 over ``warmup`` steps, then linear decay to 0 at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def _diff_keys(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            keys += _diff_keys(va, vb, f"{prefix}{k}.")
        elif va != vb:
            keys.append(f"{prefix}{k}")
    return keys


def _rows(cfg: TrainConfig, data: Any, which: str, like: Rows | None = None) -> Rows | None:
    d = cfg.data
    src = data if data is not None else getattr(d, which)
    if src is None:
        if which == "train":
            raise ConfigError("no training data: pass train_data= or set data.train in the config")
        return None
    return read_rows(
        src, text=d.text, label=d.label, sensitive=d.sensitive, weight=d.weight,
        pos_label=d.pos_label if like is None else like.classes[like.pos_index],
        classes=None if like is None else like.classes,
        group_labels=None if like is None else like.group_labels,
    )


@contextlib.contextmanager
def _closing(log: _Log) -> Iterator[None]:
    try:
        yield
    finally:
        log.close()


class _Log:
    """The JSON Lines training log; on resume, lines after the checkpoint are dropped."""

    def __init__(self, path: Path, resume_step: int | None) -> None:
        self.path = path
        if resume_step is not None and path.exists():
            kept = [ln for ln in path.read_text().splitlines()
                    if ln.strip() and json.loads(ln).get("step", 0) <= resume_step]
            path.write_text("".join(f"{ln}\n" for ln in kept))
        self.fh = path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self.fh.write(json.dumps(record, allow_nan=True) + "\n")
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()


def train(
    config: Any = None,
    *,
    train_data: Any = None,
    validation_data: Any = None,
    resume: bool = False,
    overwrite: bool = False,
    **overrides: Any,
) -> TrainResult:
    """Fine-tune a Hugging Face classifier, optionally under fairness penalties or constraints.

    Parameters
    ----------
    config : TrainConfig, mapping, or path to a TOML file, optional
        The run configuration (see :class:`~fairslm.training.TrainConfig`).
    train_data, validation_data : Dataset, DataFrame or mapping of columns, optional
        Rows to use instead of ``data.train`` / ``data.validation`` from the config. A fairslm
        ``Dataset`` brings its own labels, sensitive features and weights; a DataFrame is read
        with the column names in ``config.data``.
    resume : bool
        Continue from the newest checkpoint in ``output_dir`` (same config required).
    overwrite : bool
        Replace an existing ``output_dir`` written by an earlier run.
    **overrides
        Config keys to change, dotted for sections: ``**{"penalty.weight": 2.0}``.

    Returns
    -------
    TrainResult
        ``output_dir`` then holds the model (``config.json``, ``model.safetensors``, tokenizer),
        ``fairslm.json`` (config, provenance, selection), ``train_log.jsonl`` and ``audit.json``.
    """
    import torch

    cfg = load_train_config(config, **overrides)
    out = Path(cfg.output_dir)
    tr_all = _rows(cfg, train_data, "train")
    assert tr_all is not None
    val = _rows(cfg, validation_data, "validation", like=tr_all)
    labels = tr_all.group_labels
    pos_name = repr(tr_all.classes[tr_all.pos_index])
    n_groups = len(labels)

    from fairslm.mitigation.inprocessing import (
        FairnessPenalty,
        ProxyLagrangian,
        build_adversary,
        check_support,
    )

    penalty = lagrangian = selection = None
    if cfg.penalty is not None:
        penalty = FairnessPenalty(cfg.penalty.criterion, n_groups=n_groups,
                                  weight=cfg.penalty.weight, momentum=cfg.penalty.momentum)
        check_support(penalty.metrics, tr_all.y_pos, tr_all.group, labels, positive_name=pos_name)
    if cfg.constraints is not None:
        c = cfg.constraints
        lagrangian = ProxyLagrangian(c.targets, labels, multiplier_lr=c.multiplier_lr,
                                     max_multiplier=c.max_multiplier, momentum=c.momentum)
        lagrangian.check_support(tr_all.y_pos, tr_all.group, positive_name=pos_name)
    if cfg.selection and val is None:
        raise ConfigError("selection = [...] picks a checkpoint on validation data; pass "
                          "validation_data= or set data.validation")
    # Without validation data a constrained run keeps its last weights (nothing to select on).
    sel_targets = cfg.selection or (cfg.constraints.targets if cfg.constraints and val is not None else [])
    if sel_targets:
        selection = ProxyLagrangian(sel_targets, labels)
    if cfg.adversary is not None and cfg.adversary.criterion not in ("statistical_parity", "equal_opportunity", "equalized_odds"):
        raise ConfigError(f"unknown adversary criterion {cfg.adversary.criterion!r}")

    _prepare_output(out, resume=resume, overwrite=overwrite)

    # Rows the multipliers are measured on are held out of training (Cotter et al. 2019).
    if lagrangian is not None and cfg.constraints is not None:
        keep, held = stratified_split(tr_all, cfg.constraints.holdout_fraction, cfg.seed)
        tr, hold = tr_all.subset(keep), tr_all.subset(held)
    else:
        tr, hold = tr_all, None

    stack = ExitStack()
    prev_det = torch.are_deterministic_algorithms_enabled()
    if cfg.deterministic:
        torch.use_deterministic_algorithms(True)
        stack.callback(torch.use_deterministic_algorithms, prev_det)
    with stack:
        return _run(cfg, out, tr, hold, val, tr_all, penalty, lagrangian, selection, resume,
                    build_adversary)


def _run(cfg: TrainConfig, out: Path, tr: Rows, hold: Rows | None, val: Rows | None, tr_all: Rows,
         penalty: Any, lagrangian: Any, selection: Any, resume: bool, build_adversary: Any) -> TrainResult:
    import torch

    t_start = time.perf_counter()
    tm, base_path = load_trainable(cfg.model, tr.classes, max_length=cfg.max_length,
                                   lora=cfg.lora, seed=cfg.seed)
    model = tm.model
    adversary = None
    if cfg.adversary is not None:
        width = len(tr.classes) if cfg.adversary.source == "prediction" else tm.hidden_size
        adversary = build_adversary(width, len(tr.group_labels), criterion=cfg.adversary.criterion,
                                    n_classes=len(tr.classes), hidden=cfg.adversary.hidden,
                                    alpha=cfg.adversary.alpha)
    ids = tm.encode(tr.texts)
    lengths = np.array([len(x) for x in ids])
    cells = strata(tr, cfg.stratify)
    hold_ids = tm.encode(hold.texts) if hold is not None else None
    hold_cells = strata(hold, True) if hold is not None else []
    val_ids = tm.encode(val.texts) if val is not None else None

    n_batches = math.ceil(len(tr) / cfg.batch_size)
    steps_per_epoch = math.ceil(n_batches / cfg.gradient_accumulation)
    total = cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    warmup = int(cfg.warmup_ratio * total)

    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for n, p in named if not n.endswith(no_decay)], "weight_decay": cfg.weight_decay,
         "lr": cfg.learning_rate, "base_lr": cfg.learning_rate},
        {"params": [p for n, p in named if n.endswith(no_decay)], "weight_decay": 0.0,
         "lr": cfg.learning_rate, "base_lr": cfg.learning_rate},
    ]
    if adversary is not None and cfg.adversary is not None:
        groups.append({"params": list(adversary.parameters()), "weight_decay": 0.0,
                       "lr": cfg.adversary.learning_rate, "base_lr": cfg.adversary.learning_rate})
    groups = [g for g in groups if g["params"]]
    optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate)

    fingerprint = cfg.fingerprint()
    data_hash = tr_all.content_hash()
    selector = Selector(selection is not None)
    step, epoch0, batch0, resumed_from, updates = 0, 0, 0, None, 0
    step_times: list[float] = []
    ck_root = out / "checkpoints"
    if resume:
        ck_path = latest_checkpoint(ck_root)
        assert ck_path is not None
        ck = load_checkpoint(ck_path)
        st = ck["state"]
        if st["config_fingerprint"] != fingerprint:
            diff = _diff_keys(st["config"], cfg.identity())
            raise ConfigError(
                f"cannot resume: checkpoint {ck_path} was written by a different configuration "
                f"(differs in: {', '.join(diff) or 'unknown keys'}); resume with the same config, "
                "or start a new run with --overwrite or another output_dir"
            )
        if st["data_sha256"] != data_hash:
            raise ConfigError(f"cannot resume: the training data differ from those of checkpoint {ck_path}")
        tm.load_trainable_state(ck["model"])
        if adversary is not None and ck["adversary"] is not None:
            adversary.load_state_dict(ck["adversary"])
        optimizer.load_state_dict(ck["optimizer"])
        torch.set_rng_state(ck["rng"])
        if penalty is not None:
            penalty.load_state_dict(st["penalty"])
        if lagrangian is not None:
            lagrangian.load_state_dict(st["lagrangian"])
        selector.load(st["selector"])
        step, epoch0, batch0, updates = st["step"], st["epoch"], st["batch"], st["dual_updates"]
        step_times = list(st.get("step_times", []))
        resumed_from = step
    pos = tr.pos_index
    best_dir = out / "best"

    def checkpoint(epoch: int, batch: int) -> Path:
        state = {
            "step": step, "epoch": epoch, "batch": batch, "dual_updates": updates,
            "config_fingerprint": fingerprint, "config": cfg.identity(), "data_sha256": data_hash,
            "penalty": penalty.state_dict() if penalty is not None else None,
            "lagrangian": lagrangian.state_dict() if lagrangian is not None else None,
            "selector": selector.state(), "step_times": step_times,
        }
        return save_checkpoint(ck_root, step, model_state=tm.trainable_state(),
                               adversary_state=adversary.state_dict() if adversary is not None else None,
                               optimizer=optimizer, state=state, keep=cfg.keep_checkpoints)

    def evaluate() -> None:
        if val is None:
            return
        proba = predict_proba(tm, val_ids)
        pred = proba.argmax(1)
        acc = float(np.mean(pred == val.y))
        values, feasible, viol = {}, None, 0.0
        if selection is not None:
            values = selection.evaluate((pred == pos).astype(np.int64), val.y_pos, val.group)
            feasible = selection.satisfied(values)
            viol = violation(values, selection.constraints)
        cand = Candidate(step=step, accuracy=acc, constraints=values, feasible=feasible, violation=viol)
        log.write({"event": "eval", "step": step, **cand.to_dict()})
        if selector.offer(cand) and selection is not None:
            from safetensors.torch import save_file

            best_dir.mkdir(exist_ok=True)
            tmp = best_dir / ".model.safetensors.tmp"
            save_file(tm.trainable_state(), str(tmp))
            tmp.replace(best_dir / "model.safetensors")

    def dual_update() -> dict[str, float]:
        nonlocal updates
        assert hold is not None and hold_ids is not None and lagrangian is not None
        idx, scale = balanced_draw(hold_cells, updates, cfg.batch_size, cfg.seed)
        updates += 1
        proba = predict_proba(tm, [hold_ids[i] for i in idx])
        dec = (proba.argmax(1) == pos).astype(np.int64)
        return lagrangian.update(dec, hold.y_pos[idx], hold.group[idx], hold.weight[idx] * scale)

    from rich.progress import Progress

    show = cfg.progress if cfg.progress is not None else sys.stderr.isatty()
    model.train()
    if adversary is not None:
        adversary.train()
    adv_reads_rep = adversary is not None and cfg.adversary is not None and cfg.adversary.source == "representation"
    last_ck: Path | None = latest_checkpoint(ck_root)
    y_t = torch.as_tensor(tr.y)
    ypos_t = torch.as_tensor(tr.y_pos)
    g_t = torch.as_tensor(tr.group)
    w_t = torch.as_tensor(tr.weight, dtype=torch.float32)
    done = step >= total
    log = _Log(out / "train_log.jsonl", resumed_from)
    with Progress(disable=not show, transient=True) as bar, _closing(log):
        task = bar.add_task("fine-tuning", total=total, completed=step)
        for epoch in range(epoch0, cfg.epochs):
            if done:
                break
            batches = epoch_batches(cells, lengths, cfg.batch_size, seed=cfg.seed, epoch=epoch,
                                    length_buckets=cfg.length_buckets)
            b = batch0 if epoch == epoch0 else 0
            while b < len(batches) and not done:
                t0 = time.perf_counter()
                for gp in optimizer.param_groups:
                    gp["lr"] = gp["base_lr"] * _lr_factor(step, total, warmup)
                group_end = min(b + cfg.gradient_accumulation, len(batches))
                parts: dict[str, float] = {"loss": 0.0, "task_loss": 0.0, "penalty": 0.0,
                                           "constraint_penalty": 0.0, "adversary_loss": 0.0}
                adv_acc = float("nan")
                for bi in range(b, group_end):
                    idx = torch.as_tensor(batches[bi])
                    input_ids, mask = tm.collate([ids[i] for i in batches[bi]])
                    logits, rep = tm.forward(input_ids, mask, need_representation=adv_reads_rep)
                    w = w_t[idx]
                    ce = torch.nn.functional.cross_entropy(logits.float(), y_t[idx], reduction="none")
                    task_loss = (ce * w).sum() / w.sum().clamp_min(1e-12)
                    p_pos = torch.softmax(logits.float(), dim=-1)[:, pos]
                    loss = task_loss
                    terms = {"task_loss": task_loss}
                    if penalty is not None:
                        terms["penalty"] = penalty(p_pos, ypos_t[idx], g_t[idx], w)
                        loss = loss + terms["penalty"]
                    if lagrangian is not None:
                        terms["constraint_penalty"] = lagrangian.penalty(p_pos, ypos_t[idx], g_t[idx], w)
                        loss = loss + terms["constraint_penalty"]
                    if adversary is not None:
                        seen = rep if adv_reads_rep else torch.log_softmax(logits.float(), dim=-1)
                        terms["adversary_loss"], adv_acc = adversary.loss(seen, g_t[idx], y=y_t[idx], sample_weight=w)
                        loss = loss + terms["adversary_loss"]
                    if not torch.isfinite(loss):
                        log.write({"event": "nan", "step": step, "epoch": epoch, "batch": bi,
                                   **{k: v.item() for k, v in terms.items()}})
                        where = (f"the last good checkpoint is {last_ck}" if last_ck is not None
                                 else "no checkpoint had been written yet")
                        raise InvalidDataError(
                            f"the training loss became {loss.item()} at step {step + 1} (epoch {epoch}, "
                            f"batch {bi}); training stopped and {where}. Lower learning_rate, check "
                            "the inputs and sample weights, then resume with --resume"
                        )
                    (loss / (group_end - b)).backward()
                    parts["loss"] += loss.item() / (group_end - b)
                    for k, v in terms.items():
                        parts[k] += v.item() / (group_end - b)
                params = [p for g in optimizer.param_groups for p in g["params"]]
                gnorm = (float(torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm))
                         if cfg.max_grad_norm is not None else float("nan"))
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                b = group_end
                record: dict[str, Any] = {"step": step, "epoch": epoch, **parts,
                                          "lr": optimizer.param_groups[0]["lr"], "grad_norm": gnorm}
                if adversary is not None:
                    record["adversary_accuracy"] = adv_acc
                if penalty is not None:
                    record["group_rates"] = penalty.last_rates
                if cfg.constraints is not None and step % cfg.constraints.update_every == 0:
                    record["constraints"] = dual_update()
                if lagrangian is not None:
                    record["multipliers"] = lagrangian.multipliers
                dt = time.perf_counter() - t0
                step_times.append(dt)
                record["step_time"] = dt
                log.write(record)
                bar.update(task, completed=step)
                done = step >= total
                end_of_epoch = b >= len(batches)
                if (cfg.eval_every and step % cfg.eval_every == 0) or (end_of_epoch and not cfg.eval_every) or done:
                    if not selector.candidates or selector.candidates[-1].step != step:
                        evaluate()
                if (cfg.checkpoint_every and step % cfg.checkpoint_every == 0) or done:
                    last_ck = checkpoint(epoch + 1 if end_of_epoch else epoch, 0 if end_of_epoch else b)
    return _finish(cfg, out, tm, base_path, tr, val, tr_all, val_ids, selector, step, step_times,
                   resumed_from, t_start, best_dir)


def _finish(cfg: TrainConfig, out: Path, tm: Any, base_path: str, tr: Rows, val: Rows | None,
            tr_all: Rows, val_ids: Any, selector: Selector, step: int, step_times: list[float],
            resumed_from: int | None, t_start: float, best_dir: Path) -> TrainResult:
    best = selector.best
    selected = step
    if selector.has_constraints and best is not None and best.step != step:
        from safetensors.torch import load_file

        tm.load_trainable_state(load_file(str(best_dir / "model.safetensors")))
        selected = best.step
    tm.save(out)
    provenance = {
        "fairslm_version": __version__,
        "dataset_sha256": tr_all.content_hash(),
        "validation_sha256": val.content_hash() if val is not None else None,
        "seed": cfg.seed,
        "base_model": str(base_path),
        "base_model_sha256": model_fingerprint(base_path),
        "config_fingerprint": cfg.fingerprint(),
    }
    validation: dict[str, Any] = {}
    if val is not None:
        proba = predict_proba(tm, val_ids)
        audit = validation_audit(val, proba, threshold=cfg.audit_threshold,
                                 min_group_size=cfg.audit_min_group_size, provenance=provenance)
        audit.to_json(out / "audit.json")
        validation = {"accuracy": float(np.mean(proba.argmax(1) == val.y)), **criterion_ratios(audit)}
        if best is not None:
            validation["constraints"] = dict(best.constraints)
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
        "training": {"steps": step, "epochs": cfg.epochs, "resumed_from": resumed_from,
                     "mean_step_time_s": float(np.mean(step_times)) if step_times else 0.0},
        "validation": validation,
    }
    if tm.kind == "label_words" and cfg.lora is not None:
        # as the causal-LM adapter reads them: word -> class
        meta["label_words"] = {w: c for c, w in cfg.lora.label_words.items()}
        meta["template"] = cfg.lora.template
    write_json_atomic(meta, out / "fairslm.json")
    return TrainResult(
        output_dir=out, steps=step, epochs=cfg.epochs, validation=validation,
        selected_step=selected, feasible=selector.feasible,
        candidates=[c.to_dict() for c in selector.candidates],
        train_time_s=time.perf_counter() - t_start,
        mean_step_time_s=float(np.mean(step_times)) if step_times else 0.0,
        resumed_from=resumed_from, config=cfg.model_dump(mode="json"),
    )
