"""Jobs that tests/test_train_distributed.py runs under ``torchrun --standalone`` (2 ranks, gloo).

    python -m torch.distributed.run --standalone --nproc_per_node 2 tests/distributed_jobs.py JOB DIR

``equivalence`` trains every config of :data:`CONFIGS` with :func:`fairslm.train` and writes the
statistics of :func:`group_on_one_rank`; ``stop-at STEP`` trains ``all`` until rank 0 has logged
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
    """The module tests/test_train.py (its tiny BERT builder and toy rows)."""
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


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), *sys.argv[3:])
