"""``FairnessTrainer``: Hugging Face ``Trainer`` with fairslm's fairness objective.

A ``Trainer`` script gains a penalty, constraint targets or an adversary by swapping the class
and naming the group column::

    trainer = FairnessTrainer(model=model, args=args, train_dataset=train, eval_dataset=val,
                              processing_class=tokenizer, group_column="gender",
                              fairness={"constraints": {"targets": ["equal_opportunity ratio >= 0.9"]}})

The loss is :class:`~fairslm.training._objective.FairnessObjective`, the one ``fairslm train``
uses; the constraint's multipliers move on held-out rows every ``update_every`` steps and the
adversary keeps its own optimizer (both in a callback); multipliers, measured rates and the
fairness terms go to the Trainer's log and to ``output_dir/train_log.jsonl``; evaluation adds
the audit's criterion ratios to the metrics. Under torchrun every statistic is summed over the
ranks before a rate is formed, as in ``fairslm train``.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.training._config import FairnessConfig, load_fairness_config
from fairslm.training._data import balanced_draw
from fairslm.training._model import class_logits
from fairslm.training._objective import FairnessObjective
from fairslm.training._trainer_data import TrainerRows, columns_of, select, with_columns

__all__ = ["fairness_trainer_class"]

GROUP = "fairslm_group"  # the group code column added to the datasets
WEIGHT = "fairslm_weight"
_STATE = "fairslm_state.json"
_TERMS = ("task_loss", "penalty", "constraint_penalty", "adversary_loss")


def _world() -> tuple[int, int]:
    import torch.distributed as dist

    from fairslm.training._ddp import world_size_from_env

    world = world_size_from_env()
    if world > 1 and not (dist.is_available() and dist.is_initialized()):
        raise ConfigError(
            f"WORLD_SIZE={world} says this is one of {world} processes, but no process group is "
            "open; build TrainingArguments under the launcher (torchrun) before the trainer, and "
            "leave ddp_backend unset so Trainer opens the group itself (gloo on CPU, nccl on GPU)"
        )
    return (dist.get_rank(), world) if world > 1 else (0, 1)


@functools.lru_cache(maxsize=1)
def fairness_trainer_class() -> type:
    """The ``FairnessTrainer`` class (built on first use: it subclasses ``transformers.Trainer``)."""
    import torch
    import transformers

    class FairnessTrainer(transformers.Trainer):  # type: ignore[misc]
        """A ``transformers.Trainer`` trained on fairslm's fairness objective.

        Parameters
        ----------
        model, args, train_dataset, eval_dataset, **kwargs
            As for ``transformers.Trainer``. Rows hold the model inputs, ``labels`` (or
            ``label``: class indices) and the group column(s). The group columns are kept in
            the batch whatever ``remove_unused_columns`` says.
        fairness : FairnessConfig or mapping
            ``penalty``, ``constraints`` and ``adversary`` sections, with the keys and defaults
            of the same sections of ``fairslm train``'s config.
        group_column : str or list of str, default "group"
            Column(s) holding the sensitive features; several make intersectional groups.
        pos_label : int or str, default 1
            The favourable class: an index, or a label of ``model.config.label2id``.
        label_words : sequence of str, optional
            For a causal LM scored through label words: one word per class, in class-index
            order, each a single token of ``processing_class``. Class scores are the
            next-token log-probabilities of these words at the last real token.
        weight_column : str, optional
            Column of row weights for the task loss and the group rates.
        audit_min_group_size : int, optional
            Smallest group whose rates the evaluation audit compares (the audit's default, 30,
            when omitted); smaller groups are reported without a ratio.

        Notes
        -----
        Constraints hold out ``holdout_fraction`` of each (group, label) cell of
        ``train_dataset`` for the multipliers (Cotter et al. 2019). Evaluation reports, next to
        ``eval_loss`` (cross-entropy), each audit criterion's ratio (``eval_equal_opportunity``,
        ...) and each constraint's measured value; the full audit is :attr:`fairness_audit`.
        """

        def __init__(
            self,
            model: Any = None,
            args: Any = None,
            train_dataset: Any = None,
            eval_dataset: Any = None,
            *,
            fairness: FairnessConfig | Mapping[str, Any] | None = None,
            group_column: str | Sequence[str] = "group",
            pos_label: int | str = 1,
            label_words: Sequence[str] | None = None,
            weight_column: str | None = None,
            audit_min_group_size: int | None = None,
            compute_metrics: Any = None,
            callbacks: list[Any] | None = None,
            **kwargs: Any,
        ) -> None:
            from fairslm.mitigation.inprocessing import (
                ProxyLagrangian,
                check_adversary_criterion,
                check_support,
                metrics_for,
            )

            fcfg = load_fairness_config(fairness)
            self.fairness_rank, world = _world()
            if model is None or train_dataset is None:
                raise ConfigError("FairnessTrainer needs model= and train_dataset=")
            columns = [group_column] if isinstance(group_column, str) else list(group_column)
            label = "labels" if "labels" in columns_of(train_dataset) else "label"
            rows = TrainerRows(train_dataset, "training", columns=columns, label=label,
                         weight=weight_column, group_labels=None)
            self.fairness_label_token_ids = _label_token_ids(label_words, kwargs.get("processing_class"))
            n_classes = (len(self.fairness_label_token_ids) if self.fairness_label_token_ids is not None
                         else int(model.config.num_labels))
            classes = _class_names(model, n_classes, label_words)
            pos = _pos_index(pos_label, model, n_classes)
            bad = sorted(set(np.unique(rows.y).tolist()) - set(range(n_classes)))
            if bad:
                raise InvalidDataError(f"labels {bad} are not class indices of a {n_classes}-class model")
            y_pos = (rows.y == pos).astype(np.int64)
            pos_name = repr(classes[pos])
            if fcfg.penalty is not None:
                check_support(metrics_for(fcfg.penalty.criterion), y_pos, rows.group, rows.group_labels,
                              positive_name=pos_name)
            if fcfg.constraints is not None:
                ProxyLagrangian(fcfg.constraints.targets, rows.group_labels).check_support(
                    y_pos, rows.group, positive_name=pos_name)
            if fcfg.adversary is not None:
                check_adversary_criterion(fcfg.adversary.criterion)
            self.fairness_config, self.fairness_classes = fcfg, classes
            self.fairness_columns = (columns, label, weight_column)
            self.fairness_group_name = ", ".join(columns)
            self.fairness_group_labels, self.fairness_pos = rows.group_labels, pos
            extra = {GROUP: rows.group.tolist(), **({WEIGHT: rows.weight.tolist()} if weight_column else {})}
            train_dataset = with_columns(train_dataset, extra)
            self.fairness_hold = None
            if fcfg.constraints is not None:
                train_dataset = self._hold_out(train_dataset, rows, fcfg, args)
            if eval_dataset is not None:
                eval_dataset = self._encode_eval(eval_dataset)
            self.fairness_world = world
            self.fairness_dual_updates = 0
            self.fairness_last: dict[str, Any] = {}
            self.fairness_sums: dict[str, Any] = {}
            self.fairness_audit: Any = None
            self.fairness_min_group_size = audit_min_group_size
            self._user_metrics = compute_metrics
            super().__init__(model=model, args=args, train_dataset=train_dataset, eval_dataset=eval_dataset,
                             compute_metrics=self._fairness_metrics,
                             callbacks=[_callback_class()(self), *(callbacks or [])], **kwargs)
            # compute_loss returns a per-batch mean: Trainer divides it by the accumulation steps
            self.loss_is_scaled_for_ga = False
            self.model_accepts_loss_kwargs = False
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.args.seed)  # the adversary's initial weights, on every rank
                self.fairness_objective = FairnessObjective.from_config(
                    fcfg, classes=classes, group_labels=rows.group_labels, pos_index=pos,
                    hidden_size=int(getattr(model.config, "hidden_size", 0) or 0), across_ranks=world > 1)
            adversary = self.fairness_objective.adversary
            self.fairness_adversary_optimizer = None
            if adversary is not None and fcfg.adversary is not None:
                adversary.to(self.args.device)
                self.fairness_adversary_optimizer = torch.optim.AdamW(
                    adversary.parameters(), lr=fcfg.adversary.learning_rate, weight_decay=0.0)

        # -- data ---------------------------------------------------------------------------
        def _hold_out(self, dataset: Any, rows: TrainerRows, fcfg: FairnessConfig, args: Any) -> Any:
            from fairslm.training._data import cells_of, stratified_indices

            seed = args.seed if args is not None else 42
            assert fcfg.constraints is not None
            keep, held = stratified_indices(rows.group, rows.y, fcfg.constraints.holdout_fraction, seed)
            self.fairness_hold = (select(dataset, held), rows.y[held], rows.group[held], rows.weight[held],
                                  cells_of(rows.group[held], rows.y[held]))
            return select(dataset, keep)

        def _encode_eval(self, dataset: Any) -> Any:
            if isinstance(dataset, Mapping):
                return {k: self._encode_eval(v) for k, v in dataset.items()}
            if GROUP in columns_of(dataset):
                return dataset
            columns, label, weight = self.fairness_columns
            rows = TrainerRows(dataset, "evaluation", columns=columns, label=label, weight=weight,
                               group_labels=self.fairness_group_labels)
            extra = {GROUP: rows.group.tolist(), **({WEIGHT: rows.weight.tolist()} if weight else {})}
            return with_columns(dataset, extra)

        def _set_signature_columns_if_needed(self) -> None:
            super()._set_signature_columns_if_needed()
            # keep the group codes and weights however remove_unused_columns is set
            columns: Any = self._signature_columns
            for name in (GROUP, WEIGHT):
                if name not in columns:
                    columns.append(name)

        # -- the loss -----------------------------------------------------------------------
        def _class_logits(self, model: Any, inputs: dict[str, Any], need_representation: bool) -> Any:
            out = model(**inputs, output_hidden_states=need_representation)
            return class_logits(out, inputs.get("attention_mask"), label_token_ids=self.fairness_label_token_ids,
                                need_representation=need_representation)

        def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            """Training: the fairness objective of the batch. Evaluation: weighted cross-entropy."""
            inputs = dict(inputs)
            group, labels = inputs.pop(GROUP), inputs.pop("labels")
            weight = inputs.pop(WEIGHT, None)
            weight = torch.ones(len(labels), device=labels.device) if weight is None else weight.float()
            objective = self.fairness_objective
            training = model.training
            logits, rep = self._class_logits(model, inputs, training and objective.needs_representation)
            if training:
                loss = objective(logits, labels, group, weight, representation=rep)
                for k, v in loss.terms.items():
                    self.fairness_sums[k] = self.fairness_sums.get(k, 0.0) + v.detach()
                self.fairness_sums["n"] = self.fairness_sums.get("n", 0) + 1
                if objective.adversary is not None:
                    self.fairness_last["adversary_accuracy"] = loss.adversary_accuracy
                total = loss.total
            else:
                ce = torch.nn.functional.cross_entropy(logits.float(), labels, reduction="none")
                total = (ce * weight).sum() / weight.sum().clamp_min(1e-12)
            if return_outputs:
                return total, {"logits": logits.detach(), GROUP: group}
            return total

        def evaluate(self, eval_dataset: Any = None, *args: Any, **kwargs: Any) -> dict[str, float]:
            """As ``Trainer.evaluate``, with the audit's criteria in the metrics."""
            if eval_dataset is not None and not isinstance(eval_dataset, str):
                eval_dataset = self._encode_eval(eval_dataset)
            return super().evaluate(eval_dataset, *args, **kwargs)

        def prediction_step(self, model: Any, inputs: dict[str, Any], prediction_loss_only: bool,
                            ignore_keys: list[str] | None = None) -> Any:
            if "labels" not in inputs:  # no loss to compute: the model sees its inputs only
                inputs = {k: v for k, v in inputs.items() if k not in (GROUP, WEIGHT)}
            return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys=ignore_keys)

        # -- the callbacks' work ----------------------------------------------------------------
        def fairness_dual_update(self) -> None:
            """Move the multipliers on the hard rates of a balanced draw of held-out rows."""
            assert self.fairness_hold is not None
            data, y, group, weight, cells = self.fairness_hold
            batch = self.args.per_device_train_batch_size * self.fairness_world
            idx, scale = balanced_draw(cells, self.fairness_dual_updates, batch, self.args.seed)
            self.fairness_dual_updates += 1
            r, n = self.fairness_rank, self.fairness_world
            idx, scale = idx[r::n], scale[r::n]
            decisions = self._decisions(data, idx)
            lagrangian = self.fairness_objective.lagrangian
            self.fairness_last["constraints"] = lagrangian.update(
                decisions, (y[idx] == self.fairness_pos).astype(np.int64), group[idx], weight[idx] * scale)

        def _decisions(self, data: Any, idx: np.ndarray) -> np.ndarray:
            if len(idx) == 0:
                return np.zeros(0, dtype=np.int64)
            self._set_signature_columns_if_needed()
            columns: Any = self._signature_columns
            keep = set(columns) - {GROUP, WEIGHT, "label", "labels", "label_ids"}
            features = [{k: v for k, v in data[int(i)].items() if k in keep} for i in idx]
            batch = self._prepare_inputs(self.data_collator(features))
            model: Any = self.model
            was_training = model.training
            model.eval()
            try:
                with torch.no_grad():
                    logits, _ = self._class_logits(model, batch, False)
            finally:
                model.train(was_training)
            return (logits.argmax(-1) == self.fairness_pos).long().cpu().numpy()

        def fairness_adversary_step(self) -> None:
            """One step of the adversary's own optimizer, its gradients averaged over ranks."""
            adversary, optimizer = self.fairness_objective.adversary, self.fairness_adversary_optimizer
            if optimizer is None:
                return
            grads = [p.grad for p in adversary.parameters() if p.grad is not None]
            if self.fairness_world > 1 and grads:
                import torch.distributed as dist

                flat = torch.cat([g.reshape(-1) for g in grads])
                dist.all_reduce(flat)
                flat /= self.fairness_world
                torch.nn.utils.vector_to_parameters(flat, grads)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)

        # -- log, metrics, state --------------------------------------------------------------
        def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
            """Add the fairness terms, multipliers and measured rates to training logs; write
            every log to ``output_dir/train_log.jsonl`` (rank 0)."""
            if "loss" in logs and self.fairness_sums.get("n"):
                n = self.fairness_sums.pop("n")
                logs.update({k: float(v) / n for k, v in self.fairness_sums.items()})
                self.fairness_sums.clear()
                logs.update(self._fairness_state_logs())
            super().log(logs, start_time)
            if self.is_world_process_zero():
                path = Path(self.args.output_dir) / "train_log.jsonl"
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"step": self.state.global_step, **logs}) + "\n")

        def _fairness_state_logs(self) -> dict[str, float]:
            out: dict[str, float] = {}
            objective = self.fairness_objective
            if "adversary_accuracy" in self.fairness_last:
                out["adversary_accuracy"] = self.fairness_last["adversary_accuracy"]
            if objective.penalty is not None:
                for m, rates in objective.penalty.last_rates.items():
                    out.update({f"rate/{m}/{g}": r for g, r in zip(self.fairness_group_labels, rates, strict=True)})
            if objective.lagrangian is not None:
                out.update({f"multiplier/{k}": v for k, v in objective.lagrangian.multipliers.items()})
                out.update({f"constraint/{k}": v for k, v in self.fairness_last.get("constraints", {}).items()})
            return out

        def _fairness_metrics(self, pred: Any) -> dict[str, float]:
            import pandas as pd

            from fairslm.training._evaluate import audit_proba, criterion_ratios

            logits, group = pred.predictions[0], np.asarray(pred.predictions[1]).astype(np.int64)
            labels = np.asarray(pred.label_ids).astype(np.int64)
            proba = torch.softmax(torch.as_tensor(logits, dtype=torch.float64), dim=-1).numpy()
            names = np.asarray(self.fairness_group_labels, dtype=object)[group]
            self.fairness_audit = audit_proba(
                labels, proba, pd.Series(names, name=self.fairness_group_name),
                classes=self.fairness_classes, pos_index=self.fairness_pos,
                min_group_size=self.fairness_min_group_size)
            metrics = {"accuracy": float(np.mean(proba.argmax(1) == labels)),
                       **criterion_ratios(self.fairness_audit)}
            if self.fairness_config.constraints is not None:
                from fairslm.mitigation.inprocessing import ProxyLagrangian

                lag = ProxyLagrangian(self.fairness_config.constraints.targets, self.fairness_group_labels)
                metrics.update({f"constraint/{k}": v for k, v in lag.evaluate(
                    (proba.argmax(1) == self.fairness_pos).astype(np.int64),
                    (labels == self.fairness_pos).astype(np.int64), group).items()})
            if self._user_metrics is not None:
                metrics.update(self._user_metrics(transformers.EvalPrediction(predictions=logits, label_ids=labels)))
            return metrics

        def fairness_state(self) -> dict[str, Any]:
            objective = self.fairness_objective
            return {"dual_updates": self.fairness_dual_updates,
                    "penalty": objective.penalty.state_dict() if objective.penalty is not None else None,
                    "lagrangian": objective.lagrangian.state_dict() if objective.lagrangian is not None else None}

        def save_fairness_state(self, directory: Path) -> None:
            """Write the penalty's running sums, the multipliers and the adversary into a checkpoint."""
            from fairslm.training._checkpoint import save_modules

            save_modules(directory, self.fairness_state(), self.fairness_objective.adversary,
                         self.fairness_adversary_optimizer, name=_STATE)

        def train(self, resume_from_checkpoint: str | bool | None = None, *args: Any, **kwargs: Any) -> Any:
            """As ``Trainer.train``; a resumed run also restores the fairness state of its checkpoint."""
            if resume_from_checkpoint:
                path = resume_from_checkpoint
                if path is True:
                    path = transformers.trainer_utils.get_last_checkpoint(self.args.output_dir)
                    if path is None:
                        raise ConfigError(f"nothing to resume: no checkpoint in {self.args.output_dir}")
                self._load_fairness_state(Path(path))
                resume_from_checkpoint = str(path)
            return super().train(resume_from_checkpoint, *args, **kwargs)

        def _load_fairness_state(self, directory: Path) -> None:
            from fairslm.training._checkpoint import load_modules

            state = load_modules(directory, self.fairness_objective.adversary,
                                 self.fairness_adversary_optimizer, name=_STATE)
            objective = self.fairness_objective
            self.fairness_dual_updates = int(state["dual_updates"])
            if objective.penalty is not None:
                objective.penalty.load_state_dict(state["penalty"])
            if objective.lagrangian is not None:
                objective.lagrangian.load_state_dict(state["lagrangian"])

    FairnessTrainer.__qualname__ = FairnessTrainer.__name__
    FairnessTrainer.__module__ = "fairslm.training"
    return FairnessTrainer


@functools.lru_cache(maxsize=1)
def _callback_class() -> type:
    import transformers

    class FairnessCallback(transformers.TrainerCallback):  # type: ignore[misc]
        """Dual updates, the adversary's optimizer step and the fairness part of checkpoints."""

        def __init__(self, trainer: Any) -> None:
            self.trainer = trainer

        def on_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.trainer.fairness_adversary_step()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            constraints = self.trainer.fairness_config.constraints
            if constraints is not None and state.global_step % constraints.update_every == 0:
                self.trainer.fairness_dual_update()

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.trainer.is_world_process_zero():
                folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
                self.trainer.save_fairness_state(folder)

    return FairnessCallback


def _label_token_ids(label_words: Sequence[str] | None, tokenizer: Any) -> list[int] | None:
    if label_words is None:
        return None
    if len(label_words) < 2 or isinstance(label_words, str):
        raise ConfigError(f"label_words need one word per class, in class-index order; got {label_words!r}")
    if tokenizer is None:
        raise ConfigError("label_words need the tokenizer: pass processing_class=tokenizer")
    ids = []
    for word in label_words:
        toks = tokenizer(word, add_special_tokens=False)["input_ids"]
        if len(toks) != 1:
            raise ConfigError(
                f"label word {word!r} is {len(toks)} tokens for this tokenizer; label words must be "
                "single tokens (try a leading space or a shorter word)")
        ids.append(int(toks[0]))
    if len(set(ids)) != len(ids):
        raise ConfigError(f"label words {list(label_words)} map to the same token; choose distinct words")
    return ids


def _class_names(model: Any, n_classes: int, label_words: Sequence[str] | None) -> list[str]:
    if label_words is not None:
        return [str(w).strip() for w in label_words]
    id2label = getattr(model.config, "id2label", None) or {}
    return [str(id2label.get(i, i)) for i in range(n_classes)]


def _pos_index(pos_label: int | str, model: Any, n_classes: int) -> int:
    if isinstance(pos_label, str):
        label2id = getattr(model.config, "label2id", None) or {}
        if pos_label not in label2id:
            raise ConfigError(f"pos_label {pos_label!r} is not a label of the model ({sorted(label2id)}); "
                              "pass the favourable class's index or label")
        return int(label2id[pos_label])
    if not 0 <= int(pos_label) < n_classes:
        raise ConfigError(f"pos_label {pos_label} is not a class index of a {n_classes}-class model")
    return int(pos_label)


def _env_rank() -> int:
    return int(os.environ.get("RANK", "0"))
