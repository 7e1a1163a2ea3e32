"""The fine-tuning loop behind :func:`fairslm.train`.

It reads like a minimal PyTorch training script. :func:`train` checks the configuration and the
data, then hands a :class:`FineTuning` run the rows and the objective; the run keeps everything
that changes while training in one :class:`TrainState` and spells out each part as a method:
:meth:`~FineTuning.step` (one optimizer step over accumulated batches),
:meth:`~FineTuning.dual_update` (constraint multipliers on held-out rows),
:meth:`~FineTuning.evaluate` (validation and checkpoint selection) and
:meth:`~FineTuning.checkpoint`. :meth:`~FineTuning.fit` calls them in order;
:func:`~fairslm.training._finish.finish` writes the model and its record.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.training._checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from fairslm.training._checks import Splits, checked, prepare_output
from fairslm.training._config import TrainConfig
from fairslm.training._data import balanced_draw, epoch_batches, strata
from fairslm.training._ddp import Ranks, joined, world_size_from_env
from fairslm.training._evaluate import predict_proba
from fairslm.training._finish import finish
from fairslm.training._model import load_trainable
from fairslm.training._objective import FairnessObjective
from fairslm.training._result import TrainResult
from fairslm.training._selection import Candidate, Selector, violation

__all__ = ["FineTuning", "TrainState", "train"]


def train(
    config: Any = None,
    *,
    train_data: Any = None,
    validation_data: Any = None,
    resume: bool = False,
    overwrite: bool = False,
    backend: str | None = None,
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
    backend : {"nccl", "gloo"}, optional
        Under torchrun: the process group's backend; NCCL when GPUs are visible, else gloo.
        Every rank trains on its shard of each global batch (``batch_size``), every group
        statistic is summed over the ranks, and rank 0 writes (see "Fine-tune at scale").
    **overrides
        Config keys to change, dotted for sections: ``**{"penalty.weight": 2.0}``.

    Returns
    -------
    TrainResult
        ``output_dir`` then holds the model (``config.json``, ``model.safetensors``, tokenizer),
        ``fairslm.json`` (config, provenance, selection), ``train_log.jsonl`` and ``audit.json``.
    """
    import torch

    cfg, data = checked(config, train_data, validation_data, resume=resume, overwrite=overwrite,
                        world_size=world_size_from_env(), overrides=overrides)
    out = Path(cfg.output_dir)
    with joined(backend) as ranks, contextlib.ExitStack() as stack:
        # Every rank has checked the directory above; only then does rank 0 change it.
        ranks.barrier()
        if ranks.main:
            prepare_output(out, resume=resume, overwrite=overwrite)
        ranks.barrier()
        if cfg.deterministic:
            if ranks.device().type == "cuda":
                # cuBLAS is deterministic only with a fixed workspace (CUDA docs, "Reproducibility").
                os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            stack.callback(torch.use_deterministic_algorithms, torch.are_deterministic_algorithms_enabled())
            torch.use_deterministic_algorithms(True)
        run = FineTuning(cfg, data, resume=resume, ranks=ranks)
        run.fit()
        result = finish(run)
        ranks.barrier()
        return result


@dataclass
class TrainState:
    """Everything about a run that changes while it trains, besides tensors.

    ``epoch`` and ``batch`` say where the next optimizer step starts: batch ``batch`` of the
    (seeded, hence reproducible) batch order of epoch ``epoch``.
    """

    step: int = 0
    epoch: int = 0
    batch: int = 0
    dual_updates: int = 0
    step_times: list[float] = field(default_factory=list)
    resumed_from: int | None = None


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


class _Silent:
    """The log of ranks other than 0: rank 0 alone writes (every rank holds the same values)."""

    def write(self, record: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


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


def _replica(tm: Any, adversary: Any, ranks: Ranks) -> Any:
    """The model (and adversary) under ``DistributedDataParallel``, called like ``tm.forward``."""
    import torch

    class Replica(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model, self.adversary = tm.model, adversary

        def forward(self, input_ids: Any, mask: Any, *, need_representation: bool = False) -> Any:
            return tm.forward(input_ids, mask, need_representation=need_representation)

    device = ranks.device()
    return torch.nn.parallel.DistributedDataParallel(
        Replica(), device_ids=[device] if device.type == "cuda" else None,
        # Every parameter takes part in every step; transformers' buffers (position ids) are
        # constants, so there is nothing to broadcast before each forward pass.
        find_unused_parameters=False, forward_sync_buffers=False)


class FineTuning:
    """One fine-tuning run: model, objective, optimizer, data and :class:`TrainState`.

    Under data parallelism (``ranks.active``) every rank builds the same run, trains on its
    shard of each global batch and holds the same state; rank 0 alone writes.
    """

    def __init__(self, cfg: TrainConfig, data: Splits, *, resume: bool = False,
                 ranks: Ranks | None = None) -> None:
        import torch

        from fairslm.mitigation.inprocessing import ProxyLagrangian

        self.t_start = time.perf_counter()
        self.cfg, self.data = cfg, data
        self.ranks = ranks = ranks or Ranks()
        self.out = Path(cfg.output_dir)
        tr = data.train
        self.tm, self.base_path = load_trainable(cfg.model, tr.classes, max_length=cfg.max_length,
                                                 lora=cfg.lora, seed=cfg.seed)
        self.tm.model.to(ranks.device())
        self.objective = FairnessObjective.from_config(
            cfg, classes=tr.classes, group_labels=tr.group_labels, pos_index=tr.pos_index,
            hidden_size=self.tm.hidden_size, across_ranks=ranks.active)
        if self.objective.adversary is not None:
            self.objective.adversary.to(ranks.device())
        self.forward: Any = _replica(self.tm, self.objective.adversary, ranks) if ranks.active else self.tm.forward
        # Checkpoint selection measures the constraints on validation data; without validation
        # data a constrained run keeps its last weights (nothing to select on).
        targets = cfg.selection or (cfg.constraints.targets if cfg.constraints and data.validation is not None else [])
        self.selection = ProxyLagrangian(targets, tr.group_labels) if targets else None
        self.selector = Selector(self.selection is not None)

        self.ids = tr_ids = self.tm.encode(tr.texts)
        self.lengths = np.array([len(x) for x in tr_ids])
        self.cells = strata(tr, cfg.stratify)
        self.hold_ids = self.tm.encode(data.held_out.texts) if data.held_out is not None else None
        self.hold_cells = strata(data.held_out, True) if data.held_out is not None else []
        self.val_ids = self.tm.encode(data.validation.texts) if data.validation is not None else None
        self.y, self.group = torch.as_tensor(tr.y), torch.as_tensor(tr.group)
        self.weight = torch.as_tensor(tr.weight, dtype=torch.float32)

        steps_per_epoch = math.ceil(math.ceil(len(tr) / cfg.batch_size) / cfg.gradient_accumulation)
        self.total_steps = cfg.epochs * steps_per_epoch
        if cfg.max_steps is not None:
            self.total_steps = min(self.total_steps, cfg.max_steps)
        self.warmup_steps = int(cfg.warmup_ratio * self.total_steps)
        self.optimizer = self._adamw()

        self.state = TrainState()
        self.fingerprint = cfg.fingerprint()
        self.data_hash = data.full_train.content_hash()
        self.checkpoints = self.out / "checkpoints"
        self.best_dir = self.out / "best"
        if resume:
            self.resume()
        self.last_checkpoint = latest_checkpoint(self.checkpoints)

    def _adamw(self) -> Any:
        """AdamW without weight decay on biases and norms; the adversary at its own rate."""
        import torch

        cfg = self.cfg
        no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
        named = [(n, p) for n, p in self.tm.model.named_parameters() if p.requires_grad]
        groups = [
            {"params": [p for n, p in named if not n.endswith(no_decay)], "weight_decay": cfg.weight_decay,
             "lr": cfg.learning_rate, "base_lr": cfg.learning_rate},
            {"params": [p for n, p in named if n.endswith(no_decay)], "weight_decay": 0.0,
             "lr": cfg.learning_rate, "base_lr": cfg.learning_rate},
        ]
        adversary = self.objective.adversary
        if adversary is not None and cfg.adversary is not None:
            groups.append({"params": list(adversary.parameters()), "weight_decay": 0.0,
                           "lr": cfg.adversary.learning_rate, "base_lr": cfg.adversary.learning_rate})
        return torch.optim.AdamW([g for g in groups if g["params"]], lr=cfg.learning_rate)

    # -- the loop -------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.state.step >= self.total_steps

    def fit(self) -> None:
        """Train to ``max_steps`` or the last epoch: step, dual update, log, evaluate, checkpoint."""
        from rich.progress import Progress

        cfg, state = self.cfg, self.state
        show = cfg.progress if cfg.progress is not None else sys.stderr.isatty()
        self.tm.model.train()
        if self.objective.adversary is not None:
            self.objective.adversary.train()
        self.log = _Log(self.out / "train_log.jsonl", state.resumed_from) if self.ranks.main else _Silent()
        with Progress(disable=not (show and self.ranks.main), transient=True) as bar, contextlib.closing(self.log):
            task = bar.add_task("fine-tuning", total=self.total_steps, completed=state.step)
            for epoch in range(state.epoch, cfg.epochs):
                batches = epoch_batches(self.cells, self.lengths, cfg.batch_size, seed=cfg.seed,
                                        epoch=epoch, length_buckets=cfg.length_buckets)
                for start in range(state.batch, len(batches), cfg.gradient_accumulation):
                    if self.done:
                        return
                    t0 = time.perf_counter()
                    accumulated = batches[start : start + cfg.gradient_accumulation]
                    record = self.step(accumulated, epoch=epoch, first_batch=start)
                    end_of_epoch = start + len(accumulated) >= len(batches)
                    state.epoch, state.batch = (epoch + 1, 0) if end_of_epoch else (epoch, start + len(accumulated))
                    if cfg.constraints is not None and state.step % cfg.constraints.update_every == 0:
                        record["constraints"] = self.dual_update()
                    if self.objective.lagrangian is not None:
                        record["multipliers"] = self.objective.lagrangian.multipliers
                    record["step_time"] = time.perf_counter() - t0
                    state.step_times.append(record["step_time"])
                    self.log.write(record)
                    bar.update(task, completed=state.step)
                    if self._due(cfg.eval_every, end_of_epoch):
                        self.evaluate()
                    if (cfg.checkpoint_every and state.step % cfg.checkpoint_every == 0) or self.done:
                        self.checkpoint()

    def _due(self, every: int, end_of_epoch: bool) -> bool:
        """Whether to evaluate now: every ``every`` steps, else at each epoch's end; always last."""
        due = (every and self.state.step % every == 0) or (end_of_epoch and not every) or self.done
        last = self.selector.candidates[-1].step if self.selector.candidates else None
        return bool(due) and last != self.state.step

    def step(self, batches: list[np.ndarray], *, epoch: int, first_batch: int) -> dict[str, Any]:
        """One optimizer step over ``batches`` (accumulated); returns its log record."""
        import torch

        cfg, objective, state = self.cfg, self.objective, self.state
        for g in self.optimizer.param_groups:
            g["lr"] = g["base_lr"] * _lr_factor(state.step, self.total_steps, self.warmup_steps)
        parts = dict.fromkeys(("loss", "task_loss", "penalty", "constraint_penalty", "adversary_loss"), 0.0)
        adversary_accuracy = float("nan")
        for i, global_rows in enumerate(batches):
            rows, factor = self.ranks.shard(global_rows)
            idx = torch.as_tensor(rows)
            input_ids, mask = self.tm.collate([self.ids[j] for j in rows])
            # Gradients are averaged over ranks once, after the last accumulated batch.
            last = i == len(batches) - 1
            with contextlib.nullcontext() if last or not self.ranks.active else self.forward.no_sync():
                logits, rep = self.forward(input_ids, mask, need_representation=objective.needs_representation)
                weight = self.weight[idx] if factor == 1.0 else self.weight[idx] * factor
                loss = objective(logits, self.y[idx], self.group[idx], weight, representation=rep)
                if not torch.isfinite(loss.total):
                    self._stop_on_nan(loss.total, loss.terms, epoch=epoch, batch=first_batch + i)
                (loss.total / len(batches)).backward()
            parts["loss"] += loss.total.item() / len(batches)
            for k, v in loss.terms.items():
                parts[k] += v.item() / len(batches)
            adversary_accuracy = loss.adversary_accuracy
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        grad_norm = (float(torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm))
                     if cfg.max_grad_norm is not None else float("nan"))
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        state.step += 1
        record: dict[str, Any] = {"step": state.step, "epoch": epoch, **parts,
                                  "lr": self.optimizer.param_groups[0]["lr"], "grad_norm": grad_norm}
        if objective.adversary is not None:
            record["adversary_accuracy"] = adversary_accuracy
        if objective.penalty is not None:
            record["group_rates"] = objective.penalty.last_rates
        return record

    def _stop_on_nan(self, loss: Any, terms: dict[str, Any], *, epoch: int, batch: int) -> None:
        step = self.state.step
        self.log.write({"event": "nan", "step": step, "epoch": epoch, "batch": batch,
                        **{k: v.item() for k, v in terms.items()}})
        where = (f"the last good checkpoint is {self.last_checkpoint}" if self.last_checkpoint is not None
                 else "no checkpoint had been written yet")
        raise InvalidDataError(
            f"the training loss became {loss.item()} at step {step + 1} (epoch {epoch}, "
            f"batch {batch}); training stopped and {where}. Lower learning_rate, check "
            "the inputs and sample weights, then resume with --resume"
        )

    def dual_update(self) -> dict[str, float]:
        """Move the constraint multipliers on the hard rates of a balanced held-out draw."""
        hold, lagrangian = self.data.held_out, self.objective.lagrangian
        assert hold is not None and self.hold_ids is not None and lagrangian is not None
        idx, scale = balanced_draw(self.hold_cells, self.state.dual_updates, self.cfg.batch_size, self.cfg.seed)
        self.state.dual_updates += 1
        # Each rank scores its share of the draw; the update sums the counts over ranks.
        r, n = self.ranks.rank, self.ranks.world_size
        idx, scale = idx[r::n], scale[r::n]
        proba = predict_proba(self.tm, [self.hold_ids[i] for i in idx])
        decisions = (proba.argmax(1) == hold.pos_index).astype(np.int64)
        return lagrangian.update(decisions, hold.y_pos[idx], hold.group[idx], hold.weight[idx] * scale)

    def predict_validation(self) -> np.ndarray:
        """Class probabilities of every validation row, on every rank (each scores a share)."""
        assert self.val_ids is not None
        r, n = self.ranks.rank, self.ranks.world_size
        return self.ranks.gather(predict_proba(self.tm, self.val_ids[r::n]), len(self.val_ids))

    def evaluate(self) -> None:
        """Score validation data; keep the weights when they are the best candidate so far."""
        val = self.data.validation
        if val is None:
            return
        pred = self.predict_validation().argmax(1)
        values, feasible, viol = {}, None, 0.0
        if self.selection is not None:
            values = self.selection.evaluate((pred == val.pos_index).astype(np.int64), val.y_pos, val.group)
            feasible = self.selection.satisfied(values)
            viol = violation(values, self.selection.constraints)
        cand = Candidate(step=self.state.step, accuracy=float(np.mean(pred == val.y)),
                         constraints=values, feasible=feasible, violation=viol)
        self.log.write({"event": "eval", "step": self.state.step, **cand.to_dict()})
        if self.selector.offer(cand) and self.selection is not None and self.ranks.main:
            from safetensors.torch import save_file

            self.best_dir.mkdir(exist_ok=True)
            tmp = self.best_dir / ".model.safetensors.tmp"
            save_file(self.tm.trainable_state(), str(tmp))
            tmp.replace(self.best_dir / "model.safetensors")

    # -- checkpoints ----------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Write the state of the run atomically (see :mod:`fairslm.training._checkpoint`)."""
        objective, state = self.objective, self.state
        record = {
            "step": state.step, "epoch": state.epoch, "batch": state.batch,
            "dual_updates": state.dual_updates,
            "config_fingerprint": self.fingerprint, "config": self.cfg.identity(),
            "data_sha256": self.data_hash,
            "penalty": objective.penalty.state_dict() if objective.penalty is not None else None,
            "lagrangian": objective.lagrangian.state_dict() if objective.lagrangian is not None else None,
            "selector": self.selector.state(), "step_times": state.step_times,
            "world_size": self.ranks.world_size,
        }
        rng_states = self.ranks.rng_states()  # every rank takes part; rank 0 writes
        if not self.ranks.main:
            self.last_checkpoint = self.checkpoints / f"step-{state.step:08d}"
            return
        adversary = objective.adversary
        self.last_checkpoint = save_checkpoint(
            self.checkpoints, state.step, model_state=self.tm.trainable_state(),
            adversary_state=adversary.state_dict() if adversary is not None else None,
            optimizer=self.optimizer, state=record, keep=self.cfg.keep_checkpoints,
            rng_states=rng_states)

    def resume(self) -> None:
        """Restore weights, optimizer, RNG, multipliers and :class:`TrainState` from the newest checkpoint."""
        import torch

        path = latest_checkpoint(self.checkpoints)
        assert path is not None
        ck = load_checkpoint(path, rank=self.ranks.rank)
        saved = ck["state"]
        if saved.get("world_size", 1) != self.ranks.world_size:
            raise ConfigError(
                f"cannot resume: checkpoint {path} was written by {saved.get('world_size', 1)} "
                f"process(es) and this run has {self.ranks.world_size}; each process resumes its "
                "own random state, so resume with the same number of processes"
            )
        if saved["config_fingerprint"] != self.fingerprint:
            diff = _diff_keys(saved["config"], self.cfg.identity())
            raise ConfigError(
                f"cannot resume: checkpoint {path} was written by a different configuration "
                f"(differs in: {', '.join(diff) or 'unknown keys'}); resume with the same config, "
                "or start a new run with --overwrite or another output_dir"
            )
        if saved["data_sha256"] != self.data_hash:
            raise ConfigError(f"cannot resume: the training data differ from those of checkpoint {path}")
        objective = self.objective
        self.tm.load_trainable_state(ck["model"])
        if objective.adversary is not None and ck["adversary"] is not None:
            objective.adversary.load_state_dict(ck["adversary"])
        self.optimizer.load_state_dict(ck["optimizer"])
        torch.set_rng_state(ck["rng"])
        if ck["cuda_rng"] is not None and self.ranks.device().type == "cuda":
            torch.cuda.set_rng_state(ck["cuda_rng"], self.ranks.device())
        if objective.penalty is not None:
            objective.penalty.load_state_dict(saved["penalty"])
        if objective.lagrangian is not None:
            objective.lagrangian.load_state_dict(saved["lagrangian"])
        self.selector.load(saved["selector"])
        self.state = TrainState(step=saved["step"], epoch=saved["epoch"], batch=saved["batch"],
                                dual_updates=saved["dual_updates"],
                                step_times=list(saved.get("step_times", [])), resumed_from=saved["step"])
