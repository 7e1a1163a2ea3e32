"""Per-step time of each fairness method against plain fine-tuning, on the packaged MiniLM.

One MiniLM, one stream of stratified, length-bucketed batches (Bias in Bios surgeon/nurse when
present, else a synthetic corpus). For each batch, every method takes one optimizer step on it
in turn (the order rotates), so load on a shared machine hits all methods alike -- a paired
design; timing whole runs one after another on a busy machine measured mostly the noise.
A step is what ``fairslm.train`` does per optimizer step: forward, task loss, fairness terms,
backward, clipping, AdamW; for the constraint, one held-out forward pass and a multiplier
update every ``update_every`` steps, as the loop does. Target: <= 1.10 x plain.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/train_overhead.py [--steps 30]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = Path(os.environ.get(
    "FAIRSLM_BIOSBIAS_DIR",
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "biosbias-surgeon-nurse"))
METHODS = ("plain", "penalty", "constraint", "adversary", "adversary (pred.)", "all three")


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
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()
    import torch

    from fairslm.mitigation.inprocessing import FairnessPenalty, ProxyLagrangian, build_adversary
    from fairslm.training._config import ConstraintsConfig
    from fairslm.training._data import (
        balanced_draw,
        epoch_batches,
        read_rows,
        strata,
        stratified_split,
    )
    from fairslm.training._evaluate import predict_proba
    from fairslm.training._model import load_trainable

    torch.set_num_threads(1)
    source = DATA / "train.jsonl"
    rows = read_rows(str(source) if source.exists() else synthetic(), label="profession",
                     sensitive=["gender"], pos_label="surgeon")
    keep, held = stratified_split(rows, 0.1, seed=0)
    tr, hold = rows.subset(keep), rows.subset(held)
    tm, _ = load_trainable(None, rows.classes, max_length=args.max_length, seed=0)
    ids = tm.encode(tr.texts)
    hold_ids = tm.encode(hold.texts)
    batches = epoch_batches(strata(tr, True), np.array([len(x) for x in ids]), args.batch_size,
                            seed=0, epoch=0, length_buckets=True)
    hold_cells = strata(hold, True)
    update_every = ConstraintsConfig(targets=["equal_opportunity ratio >= 0.9"]).update_every
    pos = tr.pos_index
    params = [p for p in tm.model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=1e-5)
    fair = {
        "penalty": FairnessPenalty("equalized_odds", n_groups=2),
        "constraint": ProxyLagrangian(["equal_opportunity ratio >= 0.9"], rows.group_labels,
                                      momentum=0.9),
        "adversary": build_adversary(tm.hidden_size, 2, criterion="equalized_odds"),
        "adversary (pred.)": build_adversary(len(rows.classes), 2, criterion="equalized_odds"),
    }
    adv_optim = {k: torch.optim.AdamW(fair[k].parameters(), lr=1e-3) for k in ("adversary", "adversary (pred.)")}
    y_t, ypos_t = torch.as_tensor(tr.y), torch.as_tensor(tr.y_pos)
    g_t, w_t = torch.as_tensor(tr.group), torch.as_tensor(tr.weight, dtype=torch.float32)
    tm.model.train()

    def step(method: str, b: np.ndarray, i: int) -> None:
        use = {"penalty", "constraint", "adversary"} if method == "all three" else {method}
        idx = torch.as_tensor(b)
        input_ids, mask = tm.collate([ids[j] for j in b])
        logits, rep = tm.forward(input_ids, mask, need_representation="adversary" in use)
        w = w_t[idx]
        loss = (torch.nn.functional.cross_entropy(logits, y_t[idx], reduction="none") * w).sum() / w.sum()
        p_pos = torch.softmax(logits, -1)[:, pos]
        if "penalty" in use:
            loss = loss + fair["penalty"](p_pos, ypos_t[idx], g_t[idx], w)
        if "constraint" in use:
            loss = loss + fair["constraint"].penalty(p_pos, ypos_t[idx], g_t[idx], w)
        if "adversary" in use:
            loss = loss + fair["adversary"].loss(rep, g_t[idx], y=y_t[idx], sample_weight=w)[0]
        if "adversary (pred.)" in use:
            seen = torch.log_softmax(logits, -1)
            loss = loss + fair["adversary (pred.)"].loss(seen, g_t[idx], y=y_t[idx], sample_weight=w)[0]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        optim.zero_grad(set_to_none=True)
        for k in use & set(adv_optim):
            adv_optim[k].step()
            adv_optim[k].zero_grad(set_to_none=True)
        _ = loss.item()
        if "constraint" in use and (i + 1) % update_every == 0:
            hb, scale = balanced_draw(hold_cells, i // update_every, args.batch_size, seed=0)
            proba = predict_proba(tm, [hold_ids[j] for j in hb])
            fair["constraint"].update((proba.argmax(1) == pos).astype(np.int64), hold.y_pos[hb],
                                      hold.group[hb], hold.weight[hb] * scale)

    times: dict[str, list[float]] = {m: [] for m in METHODS}
    step("plain", batches[0], 0)  # warm-up: allocator and first-call costs
    for i, b in enumerate(batches[1 : args.steps + 1]):
        order = METHODS[i % len(METHODS):] + METHODS[: i % len(METHODS)]
        for m in order:
            t0 = time.perf_counter()
            step(m, b, i)
            times[m].append(time.perf_counter() - t0)
    base = float(np.mean(times["plain"]))
    print(f"MiniLM, batch {args.batch_size}, max_length {args.max_length}, {args.steps} paired steps, "
          f"data: {'Bias in Bios' if source.exists() else 'synthetic'}; dual update every {update_every} steps")
    print(f"{'method':18s} {'mean ms/step':>13s} {'vs plain':>9s} {'median ratio':>13s}")
    for m, ts in times.items():
        ratio = np.median(np.asarray(ts) / np.asarray(times["plain"]))
        print(f"{m:18s} {1000 * np.mean(ts):13.0f} {np.mean(ts) / base:9.3f} {ratio:13.3f}")


if __name__ == "__main__":
    main()
