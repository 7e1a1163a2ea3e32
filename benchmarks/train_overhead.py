"""Per-step time of each fairness method against plain fine-tuning, on the packaged MiniLM.

Each method trains a few steps on the same batches (Bias in Bios surgeon/nurse when present,
else a synthetic corpus); methods run interleaved in rounds so load on a shared machine hits
all of them alike. Reports the mean optimizer-step time (forward, backward, fairness terms,
dual updates on held-out rows, optimizer) and its ratio to plain fine-tuning (target <= 1.10).
The mean, not the median, since a dual update every few steps is part of the cost.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/train_overhead.py [--steps 12 --rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = Path(os.environ.get(
    "FAIRSLM_BIOSBIAS_DIR",
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "biosbias-surgeon-nurse"))

METHODS: dict[str, dict] = {
    "plain": {},
    "penalty (equalized odds)": {"penalty": {"criterion": "equalized_odds", "weight": 1.0}},
    "constraint (proxy-Lagrangian)": {"constraints": {"targets": ["equal_opportunity ratio >= 0.9"]}},
    "adversary (gradient reversal)": {"adversary": {"criterion": "equalized_odds"}},
    "all three": {"penalty": {"criterion": "equalized_odds"},
                  "constraints": {"targets": ["equal_opportunity ratio >= 0.9"]},
                  "adversary": {"criterion": "equalized_odds"}},
}


def synthetic(n: int = 800) -> dict[str, list[str]]:
    rng = random.Random(0)
    words = "the a patient surgery hospital care team years clinic ward operating medical".split()
    out: dict[str, list[str]] = {"text": [], "profession": [], "gender": []}
    for i in range(n):
        surgeon = i % 2 == 0
        out["text"].append(" ".join(rng.choices(words, k=rng.randint(20, 90))))
        out["profession"].append("surgeon" if surgeon else "nurse")
        out["gender"].append("M" if rng.random() < (0.85 if surgeon else 0.1) else "F")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()
    from fairslm.training import train

    source = str(DATA / "train.jsonl") if (DATA / "train.jsonl").exists() else None
    data = None if source else synthetic()
    times: dict[str, list[float]] = {m: [] for m in METHODS}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name, extra in METHODS.items():
                cfg = {"output_dir": f"{tmp}/{r}-{len(times[name])}",
                       "data": {"train": source, "label": "profession", "sensitive": ["gender"],
                                "pos_label": "surgeon"},
                       "max_length": args.max_length, "batch_size": args.batch_size,
                       "max_steps": args.steps, "checkpoint_every": 0, "seed": r, **extra}
                res = train(cfg, train_data=data, overwrite=True)
                log = [json.loads(x) for x in res.log_path.read_text().splitlines()]
                # the first steps pay for allocator warm-up
                times[name] += [x["step_time"] for x in log if "event" not in x][2:]
    base = float(np.mean(times["plain"]))
    print(f"MiniLM, batch {args.batch_size}, max_length {args.max_length}, "
          f"{args.rounds} rounds x {args.steps} steps, data: {'Bias in Bios' if source else 'synthetic'}")
    print(f"{'method':32s} {'mean ms/step':>13s} {'vs plain':>9s}")
    for name, ts in times.items():
        mean = float(np.mean(ts))
        print(f"{name:32s} {1000 * mean:13.0f} {mean / base:9.3f}")


if __name__ == "__main__":
    main()
