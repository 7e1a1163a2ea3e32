"""Inference throughput: fairslm's adapter vs ``transformers.pipeline("text-classification")``.

The same model (the packaged all-MiniLM-L6-v2 with a seeded, randomly initialised 2-class head,
saved to a temporary directory) scores the same texts through both, with the same torch thread
count. The runs are interleaved chunk by chunk so that a busy, shared CPU slows both alike.
Texts are real biographies from the Bias in Bios surgeon/nurse split when it is present (read
at run time, never stored), else generated texts of mixed length.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/inference.py [--n 5000] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "biosbias-surgeon-nurse"
WORDS = (
    "she he is was a an the surgeon nurse at in of and with for years experience hospital "
    "clinic patients care cardiac general emergency trained university medical school team "
    "leads works graduated degree practice department senior registered specialist"
).split()


def load_texts(n: int, seed: int) -> tuple[list[str], str]:
    texts: list[str] = []
    if DATA.is_dir():
        for split in ("train", "validation", "test"):
            with (DATA / f"{split}.jsonl").open(encoding="utf-8") as fh:
                texts += [json.loads(line)["text"] for line in fh]
        if len(texts) >= n:
            random.Random(seed).shuffle(texts)
            return texts[:n], f"Bias in Bios surgeon/nurse ({DATA})"
    rng = random.Random(seed)
    # Mixed lengths: mostly bio-sized texts, some very short, some long.
    lengths = [rng.choice([3, 8, 20, 40, 60, 80, 120, 250]) for _ in range(n)]
    return [" ".join(rng.choices(WORDS, k=k)) for k in lengths], "generated texts"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="number of texts")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for both")
    parser.add_argument("--batch-size", type=int, default=16, help="for both batched runners")
    parser.add_argument("--chunks", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch
    import transformers

    from fairslm.models import load_minilm_classifier, load_model

    torch.set_num_threads(args.threads)
    texts, source = load_texts(args.n, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        model, tokenizer = load_minilm_classifier(2, seed=args.seed)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        # Same truncation (512 tokens, the model's limit) on both sides.
        adapter = load_model(tmp, batch_size=args.batch_size, max_length=512, cache=False)
        tok = adapter.tokenizer
        pipes = {
            "pipeline (batch_size=1, default)": transformers.pipeline(
                "text-classification", model=tmp, device=-1, top_k=None
            ),
            f"pipeline (batch_size={args.batch_size})": transformers.pipeline(
                "text-classification",
                model=tmp,
                device=-1,
                top_k=None,
                batch_size=args.batch_size,
            ),
        }
        names = ["fairslm adapter", *pipes]
        seconds = dict.fromkeys(names, 0.0)
        cpu = dict.fromkeys(names, 0.0)
        proba = {name: [] for name in names}
        label_col = {"LABEL_0": 0, "LABEL_1": 1}
        chunks = np.array_split(np.arange(len(texts)), args.chunks)
        for r, idx in enumerate(chunks):
            part = [texts[i] for i in idx]
            order = names[r % len(names) :] + names[: r % len(names)]  # rotate who goes first
            for name in order:
                start, start_cpu = time.perf_counter(), time.process_time()
                if name == "fairslm adapter":
                    out = adapter.predict_proba(part)
                else:
                    rows = pipes[name](part, truncation=True, max_length=512)
                    out = np.zeros((len(part), 2))
                    for i, row in enumerate(rows):
                        for d in row:
                            out[i, label_col[d["label"]]] = d["score"]
                seconds[name] += time.perf_counter() - start
                cpu[name] += time.process_time() - start_cpu
                proba[name].append(out)
        n_tok = [len(ids) for ids in tok(texts, truncation=True, max_length=512)["input_ids"]]

    print(
        f"texts: {len(texts)} from {source}; tokens per text: median {int(np.median(n_tok))}, "
        f"max {max(n_tok)}; torch threads: {args.threads}; CPU cores visible: {os.cpu_count()}"
    )
    ours = np.concatenate(proba["fairslm adapter"])
    # Wall time is what a user waits; CPU time (process_time) is steadier on a shared machine.
    print(
        f"{'runner':<34}{'wall s':>8}{'texts/s':>9}{'ratio':>7}{'cpu s':>8}{'ratio':>7}"
        f"{'same preds':>12}{'max |dp|':>10}"
    )
    for name in names:
        got = np.concatenate(proba[name])
        same = int((got.argmax(1) == ours.argmax(1)).sum())
        print(
            f"{name:<34}{seconds[name]:>8.1f}{len(texts) / seconds[name]:>9.1f}"
            f"{seconds[name] / seconds['fairslm adapter']:>6.2f}x{cpu[name]:>8.1f}"
            f"{cpu[name] / cpu['fairslm adapter']:>6.2f}x{same:>7}/{len(texts)}"
            f"{np.abs(got - ours).max():>10.1e}"
        )
    print("ratio = runner's time / fairslm's time (above 1: fairslm is faster)")


if __name__ == "__main__":
    main()
