"""Fine-tune the packaged MiniLM on Bias in Bios (surgeon vs nurse) with each fairness method.

Not a test: a real-data check. Prints test accuracy, TPR of each class by gender, the TPR-gap
RMS (De-Arteaga et al. 2019) and training time per method, with the ratio to plain fine-tuning.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/train_biosbias.py [--max-length 96] [--methods baseline,constraint]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = Path(os.environ.get("FAIRSLM_BIOSBIAS_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data" / "biosbias-surgeon-nurse"))

METHODS: dict[str, dict] = {
    "baseline": {},
    "constraint": {"constraints": {"targets": ["equalized_odds difference <= 0.1"]}, "eval_every": 40},
    "penalty": {"penalty": {"criterion": "equalized_odds", "weight": 5.0}},
    "adversary": {"adversary": {"criterion": "equalized_odds", "alpha": 1.0}},
    "adversary-prediction": {"adversary": {"criterion": "equalized_odds", "alpha": 0.5, "source": "prediction"}},
}


def predict(model_dir: Path, texts: list[str], max_length: int) -> np.ndarray:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from fairslm.training._model import quiet_transformers

    with quiet_transformers():
        model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
        tok = AutoTokenizer.from_pretrained(model_dir)
    order = np.argsort([len(t) for t in texts])
    out = np.zeros(len(texts), dtype=int)
    with torch.no_grad():
        for s in range(0, len(texts), 64):
            idx = order[s : s + 64]
            enc = tok([texts[i] for i in idx], truncation=True, max_length=max_length,
                      padding=True, return_tensors="pt")
            out[idx] = model(**enc).logits.argmax(-1).numpy()
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    return np.asarray(labels, dtype=object)[out]


def figures(test: pd.DataFrame, pred: np.ndarray) -> dict[str, float]:
    y, g = test["profession"].to_numpy(), test["gender"].to_numpy()
    res = {"accuracy": float(np.mean(pred == y))}
    gaps = []
    for cls in ("surgeon", "nurse"):
        tpr = {}
        for sex in ("M", "F"):
            m = (y == cls) & (g == sex)
            tpr[sex] = float(np.mean(pred[m] == cls))
            res[f"tpr_{cls}_{sex}"] = tpr[sex]
        gaps.append(tpr["F"] - tpr["M"])
    res["tpr_gap_rms"] = math.sqrt(float(np.mean(np.square(gaps))))
    res["eo_ratio"] = min(res["tpr_surgeon_M"], res["tpr_surgeon_F"]) / max(res["tpr_surgeon_M"], res["tpr_surgeon_F"])
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-length", type=int, default=96)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--out", default="/tmp/fairslm-biosbias")
    ap.add_argument("--max-steps", type=int, default=None)
    args = ap.parse_args()
    from fairslm.training import train

    test = pd.read_json(DATA / "test.jsonl", lines=True)
    rows = []
    for name in args.methods.split(","):
        cfg = {
            "output_dir": f"{args.out}/{name}",
            "data": {"train": str(DATA / "train.jsonl"), "validation": str(DATA / "validation.jsonl"),
                     "label": "profession", "sensitive": ["gender"], "pos_label": "surgeon"},
            "max_length": args.max_length, "epochs": args.epochs, "batch_size": 16,
            "learning_rate": 5e-5, "checkpoint_every": 100, "max_steps": args.max_steps,
            **METHODS[name],
        }
        t0 = time.perf_counter()
        res = train(cfg, overwrite=True)
        wall = time.perf_counter() - t0
        fig = figures(test, predict(res.output_dir, test["text"].tolist(), args.max_length))
        row = {"method": name, **fig, "val_accuracy": res.validation.get("accuracy"),
               "steps": res.steps, "ms_per_step": 1000 * res.mean_step_time_s, "train_s": wall}
        rows.append(row)
        print(json.dumps(row), flush=True)
    df = pd.DataFrame(rows).set_index("method")
    if "baseline" in df.index:
        b = df.loc["baseline"]
        df["gap_change_%"] = 100 * (df["tpr_gap_rms"] / b["tpr_gap_rms"] - 1)
        df["acc_change_pts"] = 100 * (df["accuracy"] - b["accuracy"])
        df["step_time_ratio"] = df["ms_per_step"] / b["ms_per_step"]
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(df.round(4).to_string())


if __name__ == "__main__":
    main()
