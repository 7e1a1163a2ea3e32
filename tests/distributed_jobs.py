"""Jobs that tests/test_train_distributed.py runs under ``torchrun --standalone`` (2 ranks, gloo).

    python -m torch.distributed.run --standalone --nproc_per_node 2 tests/distributed_jobs.py JOB DIR

``equivalence`` trains every config of :data:`CONFIGS` with :func:`fairslm.train`, runs
:func:`trainer_run` (a Trainer script with ``FairnessTrainer``) and writes the statistics of
:func:`group_on_one_rank`; ``stop-at STEP`` trains ``all`` until rank 0 has logged
step STEP, then waits to be killed (each rank writes its pid to ``DIR/pids/RANK``).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load_test_train() -> Any:
    """The module tests/test_train.py (its toy rows and run settings)."""
    spec = importlib.util.spec_from_file_location("test_train", HERE / "test_train.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# 20 optimizer steps each; "all" also accumulates 2 batches a step and checkpoints every 2 steps.
CONFIGS: dict[str, dict[str, Any]] = {
    "plain": {},
    "penalty": {"penalty": {"criterion": "equalized_odds", "weight": 5.0}},
    "constraint": {"constraints": {"targets": ["statistical_parity ratio >= 0.8"], "update_every": 2},
                   "eval_every": 5},
    "adversary": {"adversary": {"criterion": "equalized_odds", "alpha": 1.0}},
    "all": {"penalty": {"criterion": "equalized_odds", "weight": 1.0},
            "constraints": {"targets": ["equal_opportunity ratio >= 0.9"], "update_every": 2},
            "adversary": {"criterion": "equalized_odds", "alpha": 0.5, "source": "prediction"},
            "gradient_accumulation": 2, "eval_every": 3, "checkpoint_every": 2, "epochs": 4},
}


def config(name: str, model: Path, out: Path) -> dict[str, Any]:
    """The run ``name``: 20 steps on 96 toy rows in global batches of 8."""
    tt = load_test_train()
    cfg = tt.base(model, out, max_steps=20, **CONFIGS[name])
    cfg["data"] = {**cfg["data"], "train": str(model.parent / "train.jsonl"),
                   "validation": str(model.parent / "validation.jsonl")}
    return cfg


def group_on_one_rank_rows() -> dict[str, Any]:
    """A global batch of 8 rows whose group 1 lies on rank 0's shard only (rows 0 and 2)."""
    return {
        "score": [0.9, 0.2, 0.7, 0.4, 0.6, 0.3, 0.8, 0.1],
        "y": [1, 0, 1, 1, 0, 1, 0, 1],
        "group": [1, 0, 1, 0, 0, 0, 0, 0],
        "weight": [1.0, 2.0, 1.0, 1.0, 0.5, 1.0, 1.0, 3.0],
    }


def group_on_one_rank(rank: int, world: int) -> dict[str, Any]:
    """Penalty, constraint and adversary statistics of :func:`group_on_one_rank_rows`, computed
    on this rank's shard (rows ``rank::world``) with the sums taken across ranks."""
    import torch

    from fairslm.mitigation.inprocessing import FairnessPenalty, ProxyLagrangian, build_adversary

    rows = {k: v[rank::world] for k, v in group_on_one_rank_rows().items()}
    score = torch.tensor(rows["score"], requires_grad=True)
    y, g = torch.tensor(rows["y"]), torch.tensor(rows["group"])
    w = torch.tensor(rows["weight"])
    pen = FairnessPenalty("equalized_odds", n_groups=2, momentum=0.0, across_ranks=world > 1)
    loss = pen(score, y, g, w)
    loss.backward()
    lag = ProxyLagrangian(["equal_opportunity ratio >= 0.9"], ["A", "B"], across_ranks=world > 1)
    values = lag.update((score > 0.5).long(), y, g, w)
    torch.manual_seed(0)
    adv = build_adversary(1, 2, criterion="equalized_odds", hidden=3, across_ranks=world > 1)
    adv_loss, adv_acc = adv.loss(score.detach()[:, None], g, y=y, sample_weight=w)
    return {"penalty": loss.item(), "rates": pen.last_rates, "score_grad": score.grad.tolist(),
            "constraint": values, "multipliers": lag.multipliers,
            "adversary_loss": adv_loss.item(), "adversary_accuracy": adv_acc}


def main(job: str, root: Path, *args: str) -> None:
    import torch.distributed as dist

    from fairslm.training import train

    model = root / "model"
    if job == "equivalence":
        dist.init_process_group("gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        stats = group_on_one_rank(rank, world)
        gathered: list[Any] = [None] * world
        dist.all_gather_object(gathered, stats)
        if rank == 0:
            (root / "group_on_one_rank.json").write_text(json.dumps(gathered))
        for name in CONFIGS:  # train() uses the process group opened above
            train(config(name, model, root / f"ddp-{name}"))
        ran = trainer_run(root, root / "trainer-ddp", per_device_batch=TRAINER_BATCH // world)
        if rank == 0:
            (root / "trainer-ddp.json").write_text(json.dumps(ran))
        dist.destroy_process_group()
    elif job == "stop-at":
        import os

        from fairslm.training import _loop

        # torchrun starts each rank in a session of its own: the test kills them by pid
        (root / "pids").mkdir(exist_ok=True)
        (root / "pids" / os.environ["RANK"]).write_text(str(os.getpid()))

        stop, real = int(args[0]), _loop._Log.write

        def write(self: Any, record: dict[str, Any]) -> None:
            real(self, record)
            if record.get("step") == stop and "event" not in record:
                print("READY", flush=True)
                time.sleep(600)

        _loop._Log.write = write  # type: ignore[method-assign]
        train(config("all", model, root / "cut"))
    else:
        raise SystemExit(f"unknown job {job!r}")



TRAINER_FAIRNESS = {
    "penalty": {"criterion": "equalized_odds", "weight": 1.0},
    "constraints": {"targets": ["equal_opportunity ratio >= 0.9"], "update_every": 2},
    "adversary": {"criterion": "equalized_odds", "alpha": 0.5, "source": "prediction"},
}


TRAINER_BATCH = 16  # the global batch: 16 rows in one process, 8 on each of 2 ranks


def write_toy_files(root: Path) -> Path:
    """A dropout-free tiny BERT (each rank would draw its own dropout masks) and the toy rows,
    as files under ``root``."""
    from fairslm.models._testing import make_tiny_bert_classifier

    tt = load_test_train()
    model = make_tiny_bert_classifier(root / "model")
    cfg = json.loads((model / "config.json").read_text())
    cfg.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (model / "config.json").write_text(json.dumps(cfg))
    for name, rows in (("train", tt.toy_rows(96, 0)), ("validation", tt.toy_rows(48, 1))):
        with (root / f"{name}.jsonl").open("w") as fh:
            for t, lab, g in zip(rows["text"], rows["label"], rows["gender"], strict=True):
                fh.write(json.dumps({"text": t, "label": lab, "gender": g}) + "\n")
    return root


def trainer_inputs(root: Path) -> tuple[Any, Any, Any, Any]:
    """What a Trainer script loads: model, tokenizer, tokenized train and validation datasets."""
    import datasets
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from fairslm.training._model import quiet_transformers

    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(root / "model")
        model = AutoModelForSequenceClassification.from_pretrained(
            root / "model", num_labels=2, id2label={0: "nurse", 1: "surgeon"},
            label2id={"nurse": 0, "surgeon": 1})

    def load(name: str) -> Any:
        ds = datasets.Dataset.from_json(str(root / f"{name}.jsonl"), keep_in_memory=True)
        ds = ds.map(lambda b: tokenizer(b["text"], truncation=True, max_length=32), batched=True,
                    keep_in_memory=True)
        return ds.map(lambda b: {"label": [int(x == "surgeon") for x in b["label"]]}, batched=True,
                      keep_in_memory=True)

    return model, tokenizer, load("train"), load("validation")


def trainer_run(root: Path, out: Path, *, per_device_batch: int, steps: int = 30) -> dict[str, Any]:
    """A Hugging Face Trainer script with fairness added: FairnessTrainer on datasets.Dataset."""
    from transformers import TrainingArguments

    from fairslm.training import FairnessTrainer

    model, tokenizer, train, validation = trainer_inputs(root)
    # drop_last also cuts evaluation: 48 validation rows fill 6 batches of 8 here, 3 rounds of 2 x 8 there
    args = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=per_device_batch, max_steps=steps,
        learning_rate=3e-3, warmup_steps=0, seed=0, logging_steps=1, report_to=[], use_cpu=True,
        save_strategy="no",
        dataloader_drop_last=True, disable_tqdm=True, per_device_eval_batch_size=8)
    trainer = FairnessTrainer(model=model, args=args, train_dataset=train,
                              eval_dataset=validation, processing_class=tokenizer,
                              group_column="gender", pos_label="surgeon", fairness=TRAINER_FAIRNESS,
                              audit_min_group_size=5)
    trainer.train()
    metrics = trainer.evaluate()
    if trainer.is_world_process_zero():
        trainer.save_model(str(out / "final"))
    lag = trainer.fairness_objective.lagrangian
    return {"metrics": metrics, "multipliers": lag.multipliers,
            "log": [r for r in trainer.state.log_history if "loss" in r]}


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), *sys.argv[3:])
