"""Does debiasing the training data help? Bias in Bios, surgeon vs nurse.

Two fast baselines are trained on the raw training split and on each debiased version of it:

* TF-IDF (unigrams and bigrams) + logistic regression;
* frozen packaged MiniLM sentence embeddings + logistic regression.

Each model is audited on the test split: accuracy, true positive rate of each class (surgeon,
nurse; one-vs-rest) for each gender, the TPR-gap RMS over the two classes (De-Arteaga et al.,
"Bias in Bios", FAT* 2019: sqrt of the mean over classes of (TPR_M - TPR_F)^2), and the
counterfactual flip rate: the share of test texts whose prediction changes when their gender
terms are swapped (over the texts the swap changes). The peer of every row is the same model
trained on the raw split, measured in the same run.

Run:  OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/debias_data.py
Skips (exit 0) when ../shared/data/biosbias-surgeon-nurse is absent. Embeddings are cached in
benchmarks/results/ (git-ignored).
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DATA = Path(
    os.environ.get("FAIRSLM_BIOSBIAS_DIR", REPO.parent / "shared" / "data" / "biosbias-surgeon-nurse")
)
RESULTS = REPO / "benchmarks" / "results"
POS = "surgeon"
CLASSES = ("nurse", "surgeon")

VARIANTS: dict[str, list[dict[str, Any]]] = {
    "raw": [],
    "reweigh": [{"method": "reweigh"}],
    "resample": [{"method": "resample", "target": "pooled_label_rate", "seed": 0}],
    "augment CDA": [{"method": "augment", "mode": "cda", "seed": 0}],
    "augment CDS": [{"method": "augment", "mode": "cds", "p": 0.5, "seed": 0}],
    "augment+reweigh": [{"method": "augment", "mode": "cda", "seed": 0}, {"method": "reweigh"}],
}


# -- encoders ---------------------------------------------------------------------------------
class _Embedder:
    """Frozen packaged MiniLM embeddings (fairslm.models.SentenceEncoder), cached on disk by text
    hash in one file per encoder fingerprint."""

    def __init__(self) -> None:
        from fairslm.models import SentenceEncoder

        self.encoder = SentenceEncoder(cache=False, show_progress=False)
        self.fingerprint = self.encoder.fingerprint()
        self.cache_path = RESULTS / f"minilm_embeddings_{self.fingerprint[:16]}.npz"
        self.cache: dict[str, np.ndarray] = {}
        if self.cache_path.exists():
            with np.load(self.cache_path) as z:
                self.cache = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self.cache}.items())
        if todo:
            t0 = time.perf_counter()
            vecs = np.asarray(self.encoder.encode([t for _, t in todo]), dtype=np.float32)
            print(f"  encoded {len(todo)} texts in {time.perf_counter() - t0:.0f}s", flush=True)
            for (k, _), v in zip(todo, vecs, strict=True):
                self.cache[k] = v
            RESULTS.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_path.with_suffix(".tmp.npz")
            np.savez(tmp, keys=np.array(list(self.cache)), vectors=np.stack(list(self.cache.values())))
            os.replace(tmp, self.cache_path)
        return np.stack([self.cache[k] for k in keys])


class _EmbeddingModel:
    """Logistic regression on frozen embeddings, with the ``predict_proba``/``classes_``
    interface that ``fairslm.audit.counterfactual_test`` expects."""

    def __init__(self, embedder: _Embedder, clf: Any) -> None:
        self.embedder, self.clf = embedder, clf
        self.classes_ = clf.classes_

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.clf.predict_proba(self.embedder.encode(list(texts)))

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.clf.predict(self.embedder.encode(list(texts)))


# -- models -------------------------------------------------------------------------------------
def _fit(kind: str, train: pd.DataFrame, embedder: _Embedder | None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    w = train["sample_weight"].to_numpy() if "sample_weight" in train.columns else None
    y = train["profession"].to_numpy()
    texts = train["text"].tolist()
    clf = LogisticRegression(max_iter=2000, C=1.0)
    if kind == "tfidf":
        pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True), clf)
        return pipe.fit(texts, y, logisticregression__sample_weight=w)
    assert embedder is not None
    clf.fit(embedder.encode(texts), y, sample_weight=w)
    return _EmbeddingModel(embedder, clf)


def _audit(model: Any, test: pd.DataFrame) -> dict[str, float]:
    from fairslm.audit import counterfactual_test

    texts = test["text"].tolist()
    y = test["profession"].to_numpy()
    g = test["gender"].to_numpy()
    pred = np.asarray(model.predict(texts))
    row: dict[str, float] = {"acc": float((pred == y).mean())}
    gaps = []
    for cls in CLASSES:
        tpr = {}
        for gender in ("F", "M"):
            m = (y == cls) & (g == gender)
            tpr[gender] = float((pred[m] == cls).mean())
            row[f"TPR {cls[:4]} {gender}"] = tpr[gender]
        gaps.append(tpr["M"] - tpr["F"])
    row["gap RMS"] = float(np.sqrt(np.mean(np.square(gaps))))
    cf = counterfactual_test(model, texts, attribute="gender", labels=y, groups=g, pos_label=POS)
    row["flip"] = float(cf.flip_rate)
    return row


def main() -> int:
    if not (DATA / "train.jsonl").exists():
        print(f"skipped: Bias in Bios data not found at {DATA}")
        return 0
    warnings.simplefilter("ignore", FutureWarning)
    from fairslm.mitigation import debias

    train = pd.read_json(DATA / "train.jsonl", lines=True)
    test = pd.read_json(DATA / "test.jsonl", lines=True)
    print(f"train {len(train)} rows, test {len(test)} rows")

    datasets: dict[str, pd.DataFrame] = {}
    for name, steps in VARIANTS.items():
        if not steps:
            datasets[name] = train
            continue
        t0 = time.perf_counter()
        res = debias(train, steps, y="profession", sensitive_features="gender", text="text",
                     pos_label=POS)
        datasets[name] = res.dataset
        rep = "; ".join(
            f"{r['method']} {r['rows_before']}->{r['rows_after']} rows"
            + (f" ({r['n_added']} counterfactual)" if r["method"] == "augment" else "")
            + (f" ({r['n_duplicated']} dup, {r['n_dropped']} dropped)" if r["method"] == "resample" else "")
            for r in res.report
        )
        print(f"{name:16s} {time.perf_counter() - t0:5.1f}s  {rep}; surgeon-rate gap across "
              f"gender (weighted) {res.before.label_rate_gap():.3f} -> {res.after.label_rate_gap():.3f}")

    embedder = _Embedder()
    rows = []
    for kind in ("tfidf", "minilm"):
        for name, data in datasets.items():
            model = _fit(kind, data, embedder)
            rows.append({"model": kind, "train data": name, **_audit(model, test)})
    table = pd.DataFrame(rows)
    for kind in ("tfidf", "minilm"):
        m = table["model"] == kind
        raw = table[m & (table["train data"] == "raw")].iloc[0]
        table.loc[m, "gap/raw"] = table.loc[m, "gap RMS"] / raw["gap RMS"]
        table.loc[m, "flip/raw"] = table.loc[m, "flip"] / raw["flip"] if raw["flip"] > 0 else np.nan
    print(f"\nembeddings: fairslm.models.SentenceEncoder ({embedder.fingerprint[:12]}); positive "
          f"class {POS!r}; TPR = recall of the class (one-vs-rest) within the gender; flip = "
          "fairslm.audit.counterfactual_test flip rate (gender swap on the test texts); "
          "x/raw = ratio to the same model trained on the raw split")
    with pd.option_context("display.width", 200, "display.max_columns", 30,
                           "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
