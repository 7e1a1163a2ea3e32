"""Fine-tuning at scale: fairness inside Hugging Face Trainer, and 1 process vs 2 DDP ranks.

Part 1 -- per-step time of ``FairnessTrainer`` against plain ``transformers.Trainer`` on the
packaged MiniLM (Bias in Bios surgeon/nurse when present, else a synthetic corpus). Every method
trains its own copy of the model with its own Trainer, in threads that take turns one optimizer
step at a time (the order rotates every round), so load on a shared machine hits all methods
alike -- a paired design. A step is what runs between Trainer's ``on_step_begin`` and
``on_step_end``: forward, loss, backward, clipping, AdamW, and the fairness callback (the
constraint's held-out dual update every ``update_every`` steps, the adversary's optimizer); the
first step (AdamW's state allocation) is not timed. Target: <= 1.10 x plain Trainer.

Part 2 -- ``fairslm train``, plain and with penalty + constraint + adversary, in one process and
under ``torchrun --nproc_per_node 2`` (gloo, loopback) on the same global batches, from a copy of
MiniLM with dropout off (with dropout each rank draws its own masks): the validation metrics, the
largest weight difference, time per step, and the bytes the fairness statistics add to each
step's communication -- what passes through ``torch.distributed.all_reduce`` in the fairness run
minus the plain run (the task loss's two sums); DistributedDataParallel's gradient buckets do not
pass through it, their volume is the parameters' size.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/train_distributed.py [--trainer-steps 30] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_overhead import DATA, synthetic  # noqa: E402  (the same data as the loop's benchmark)

PENALTY = {"criterion": "equalized_odds", "weight": 1.0}
CONSTRAINTS = {"targets": ["equal_opportunity ratio >= 0.9"]}
ADVERSARY = {"criterion": "equalized_odds"}
# method -> the fairness= of FairnessTrainer (None: plain transformers.Trainer)
METHODS: dict[str, dict[str, Any] | None] = {
    "Trainer": None,
    "FairnessTrainer, no terms": {},
    "penalty": {"penalty": PENALTY},
    "constraint": {"constraints": CONSTRAINTS},
    "adversary": {"adversary": ADVERSARY},
    "all three": {"penalty": PENALTY, "constraints": CONSTRAINTS, "adversary": ADVERSARY},
}


def rows(split: str, n: int) -> dict[str, list[str]]:
    """``n`` rows of Bias in Bios ``split`` (text, profession, gender), else synthetic ones."""
    path = DATA / f"{split}.jsonl"
    if path.exists():
        recs = [json.loads(x) for x in path.read_text().splitlines()[:n]]
        return {k: [str(r[k]) for r in recs] for k in ("text", "profession", "gender")}
    return synthetic(n)


# ---- part 1: Trainer -----------------------------------------------------------------------


def trainer_overhead(steps: int, batch: int, max_length: int) -> None:
    import threading

    import datasets
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        PrinterCallback,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from fairslm.models import default_model_path
    from fairslm.training import ConstraintsConfig, FairnessTrainer
    from fairslm.training._model import quiet_transformers

    torch.set_num_threads(1)
    path = default_model_path()
    names = list(METHODS)
    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(path)
        models = {m: AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=2, id2label={0: "nurse", 1: "surgeon"}, label2id={"nurse": 0, "surgeon": 1})
            for m in names}
    data = rows("train", batch * (steps + 1) * 2)
    ds = datasets.Dataset.from_dict({"text": data["text"], "gender": data["gender"],
                                     "label": [int(p == "surgeon") for p in data["profession"]]})
    ds = ds.map(lambda b: tokenizer(b["text"], truncation=True, max_length=max_length), batched=True)

    # The trainers run in threads that take turns one optimizer step at a time (the order
    # rotates every round): each step runs alone, and neighbouring steps of all methods see
    # the same load -- the paired design of train_overhead.py, inside Trainer's own loop.
    turn = threading.Condition()
    baton: dict[str, Any] = {"round": 0, "at": 0, "failed": False}
    times: dict[str, list[float]] = {m: [] for m in names}

    def order() -> list[str]:
        r = baton["round"] % len(names)
        return names[r:] + names[:r]

    class TakeTurns(TrainerCallback):
        def __init__(self, method: str) -> None:
            self.method = method

        def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            with turn:
                turn.wait_for(lambda: baton["failed"] or order()[baton["at"]] == self.method)
                if baton["failed"]:
                    raise RuntimeError("another method's trainer failed")
            self.t0 = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step > 1:  # the first step allocates AdamW's state
                times[self.method].append(time.perf_counter() - self.t0)
            with turn:
                baton["at"] += 1
                if baton["at"] == len(names):
                    baton["round"], baton["at"] = baton["round"] + 1, 0
                turn.notify_all()

    failures: list[BaseException] = []

    def run(trainer: Any) -> None:
        try:
            trainer.train()
        except BaseException as exc:  # surfaced below; the other threads would wait forever
            failures.append(exc)
            with turn:
                baton["failed"] = True
                turn.notify_all()

    with tempfile.TemporaryDirectory() as tmp:
        # Every Trainer is built here, before any trains: building TrainingArguments resets
        # accelerate's process-wide state, which would pull it from under a running trainer.
        trainers = []
        for i, method in enumerate(names):
            args = TrainingArguments(output_dir=f"{tmp}/{i}", per_device_train_batch_size=batch,
                                     max_steps=steps + 1, learning_rate=1e-5, seed=0, report_to=[],
                                     use_cpu=True, disable_tqdm=True, save_strategy="no",
                                     logging_strategy="no")
            kw: dict[str, Any] = {"model": models[method], "args": args, "train_dataset": ds,
                                  "processing_class": tokenizer, "callbacks": [TakeTurns(method)]}
            fairness = METHODS[method]
            trainer = (Trainer(**kw) if fairness is None else
                       FairnessTrainer(**kw, group_column="gender", pos_label="surgeon", fairness=fairness))
            trainer.remove_callback(PrinterCallback)
            trainers.append(trainer)
        threads = [threading.Thread(target=run, args=(tr,)) for tr in trainers]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    if failures:
        raise failures[0]
    plain = np.asarray(times["Trainer"])
    print(f"\nPart 1: MiniLM in transformers.Trainer, batch {batch}, max_length {max_length}, "
          f"{steps} paired steps per method (one step each in turn), data: "
          f"{'Bias in Bios' if (DATA / 'train.jsonl').exists() else 'synthetic'}; the constraint's "
          f"dual update every {ConstraintsConfig(**CONSTRAINTS).update_every} steps", flush=True)
    print(f"{'method':28s} {'mean ms/step':>13s} {'vs Trainer':>11s} {'median ratio':>13s}")
    for m, ts in times.items():
        t = np.asarray(ts)
        print(f"{m:28s} {1000 * t.mean():13.0f} {t.mean() / plain.mean():11.3f} {np.median(t / plain):13.3f}",
              flush=True)


# ---- part 2: 1 process vs 2 ranks ----------------------------------------------------------

# the runs of part 2: fairslm train config sections (plain: none)
RUNS: dict[str, dict[str, Any]] = {"plain": {}, "fairness": METHODS["all three"] or {}}


def run_config(model: Path, data: Path, out: Path, name: str, steps: int, batch: int,
               max_length: int) -> dict[str, Any]:
    return {
        "output_dir": str(out), "model": str(model), "max_length": max_length, "batch_size": batch,
        "max_steps": steps, "epochs": 1, "learning_rate": 5e-5, "checkpoint_every": 0, "progress": False,
        "data": {"train": str(data / "train.jsonl"), "validation": str(data / "validation.jsonl"),
                 "label": "profession", "sensitive": ["gender"], "pos_label": "surgeon"},
        **RUNS[name],
    }


def worker(job_path: str) -> None:
    """One rank of part 2: train every run of the job, counting what ``all_reduce`` sends.

    Only the statistics the objective sums across ranks pass through ``torch.distributed.
    all_reduce`` (forward and backward); DistributedDataParallel reduces gradients in C++.
    """
    import torch.distributed as dist

    from fairslm.training import train

    sent = {"calls": 0, "bytes": 0}
    real = dist.all_reduce

    def counted(tensor: Any, *args: Any, **kw: Any) -> Any:
        sent["calls"] += 1
        sent["bytes"] += tensor.numel() * tensor.element_size()
        return real(tensor, *args, **kw)

    dist.all_reduce = counted  # type: ignore[assignment]
    dist.init_process_group("gloo")  # train() joins the open group
    for cfg in json.loads(Path(job_path).read_text()):
        sent.update(calls=0, bytes=0)
        result = train(cfg)
        if dist.get_rank() == 0:
            Path(cfg["output_dir"], "all_reduce.json").write_text(json.dumps({**sent, "steps": result.steps}))
    dist.destroy_process_group()


def _num(v: Any, width: int) -> str:
    return f"{v:{width}.4f}" if isinstance(v, float) else f"{'n/a':>{width}s}"


def one_vs_two(steps: int, batch: int, max_length: int, n_train: int, n_val: int) -> None:
    import torch
    from safetensors.numpy import load_file

    from fairslm.models import default_model_path
    from fairslm.training import train

    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="fairslm-ddp-bench-"))
    try:
        model = tmp / "minilm"
        shutil.copytree(default_model_path(), model)
        mcfg = json.loads((model / "config.json").read_text())
        mcfg.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        (model / "config.json").write_text(json.dumps(mcfg))
        for split, n in (("train", n_train), ("validation", n_val)):
            r = rows(split, n)
            (tmp / f"{split}.jsonl").write_text("".join(
                json.dumps({"text": t, "profession": p, "gender": g}) + "\n"
                for t, p, g in zip(r["text"], r["profession"], r["gender"], strict=True)))
        wall = {}
        for name in RUNS:
            t0 = time.perf_counter()
            train(run_config(model, tmp, tmp / f"one-{name}", name, steps, batch, max_length))
            wall[f"one-{name}"] = time.perf_counter() - t0
        job = [run_config(model, tmp, tmp / f"two-{name}", name, steps, batch, max_length) for name in RUNS]
        (tmp / "job.json").write_text(json.dumps(job))
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1",
               "GLOO_SOCKET_IFNAME": os.environ.get("GLOO_SOCKET_IFNAME", "lo")}
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        "--local-addr", "127.0.0.1", __file__, "--worker", str(tmp / "job.json")],
                       env=env, check=True)
        wall_two = time.perf_counter() - t0
        meta = {k: json.loads((tmp / k / "fairslm.json").read_text())
               for k in [f"{w}-{n}" for n in RUNS for w in ("one", "two")]}
        sent = {n: json.loads((tmp / f"two-{n}" / "all_reduce.json").read_text()) for n in RUNS}
        diff, n_params = {}, 0
        for n in RUNS:
            w1 = load_file(str(tmp / f"one-{n}" / "model.safetensors"))
            w2 = load_file(str(tmp / f"two-{n}" / "model.safetensors"))
            # attention key biases have a zero true gradient: AdamW steps on rounding noise there
            diff[n] = max(float(np.abs(w1[k] - w2[k]).max()) for k in w1 if not k.endswith("key.bias"))
            n_params = sum(v.size for v in w1.values())

        cols = [f"{w}-{n}" for n in RUNS for w in ("one", "two")]
        print(f"\nPart 2: fairslm train, MiniLM (dropout off), {steps} steps of global batch {batch}, "
              f"max_length {max_length}, {n_train} training / {n_val} validation rows; fairness = "
              f"penalty + constraint + adversary", flush=True)
        print(f"{'':28s}" + "".join(f"{h:>15s}" for h in
              ("plain, 1 proc", "plain, 2 ranks", "fair., 1 proc", "fair., 2 ranks")))
        for k in ("accuracy", "statistical_parity", "equal_opportunity", "equalized_odds"):
            print(f"{'validation ' + k:28s}" + "".join(_num(meta[c]["validation"].get(k), 15) for c in cols))
        print(f"{'mean s/step':28s}" + "".join(f"{meta[c]['training']['mean_step_time_s']:15.3f}" for c in cols))
        print(f"{'world size':28s}" + "".join(f"{meta[c]['training']['world_size']:15d}" for c in cols))
        print("largest weight difference, 2 ranks vs 1 process (all but attention key biases): "
              + ", ".join(f"{n} {d:.1e}" for n, d in diff.items()))
        print(f"wall: 1 process {wall['one-plain']:.0f} s + {wall['one-fairness']:.0f} s; 2 ranks, both runs "
              f"in one torchrun job {wall_two:.0f} s (incl. start, model load, validation)")
        per = {n: sent[n]["bytes"] / sent[n]["steps"] for n in RUNS}
        print(f"all_reduce outside DDP's gradient buckets, bytes/step: plain {per['plain']:.0f} (task-loss "
              f"sums), fairness {per['fairness']:.0f} -> added by the fairness statistics: "
              f"{per['fairness'] - per['plain']:.0f} bytes/step ({sent['fairness']['calls']} calls in "
              f"{sent['fairness']['steps']} steps, forward + backward + dual updates); DDP's gradient "
              f"all-reduce: {4 * n_params / 1e6:.1f} MB/step ({n_params} float32 parameters)")
        print("On 2 shared CPU cores two ranks are not faster than one process: DDP here checks "
              "correctness; the speed-up needs one device per rank.")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trainer-steps", type=int, default=30, help="part 1: timed steps per method")
    ap.add_argument("--steps", type=int, default=20, help="part 2: optimizer steps")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--train-rows", type=int, default=1000)
    ap.add_argument("--validation-rows", type=int, default=1000)
    ap.add_argument("--part", choices=("1", "2", "both"), default="both")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker)
        return
    if args.part in ("1", "both"):
        trainer_overhead(args.trainer_steps, args.batch_size, args.max_length)
    if args.part in ("2", "both"):
        one_vs_two(args.steps, args.batch_size, args.max_length, args.train_rows, args.validation_rows)


if __name__ == "__main__":
    main()
