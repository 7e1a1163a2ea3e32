"""Fine-tuning runs of the mitigation benchmark, one process each, behind a step cache.

A run is keyed by its row, its training configuration (seed included) and a digest of its
training and validation rows; its scores on the validation, test and gender-swapped test texts
are stored under ``<results>/cache/finetune/`` once it finishes. A later invocation reuses every
stored run, so a grid of many hours runs as resumable chunks: ``--budget-minutes`` stops
starting new runs once the next one would end past the budget, and rerunning the same command
continues where the last chunk stopped.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

POS = "surgeon"

# A first run of a row has no measured duration yet: the baseline's on two busy cores, scaled
# by the rows it trains on (augmentation doubles them).
_DEFAULT_SECONDS_PER_ROW = 0.085


@dataclass(frozen=True)
class Job:
    """One fine-tuning run: a benchmark row at one seed."""

    label: str
    seed: int
    config: dict[str, Any]
    train: pd.DataFrame
    validation: pd.DataFrame

    @property
    def key(self) -> str:
        cfg = {k: v for k, v in self.config.items() if k not in ("output_dir", "progress")}
        h = hashlib.sha256(json.dumps({"label": self.label, "config": cfg}, sort_keys=True,
                                      default=str).encode())
        for frame in (self.train, self.validation):
            h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        return h.hexdigest()[:16]

    @property
    def slug(self) -> str:
        return f"{re.sub(r'[^A-Za-z0-9]+', '-', self.label).strip('-')}-seed{self.seed}"


class StepCache:
    """Stored runs: ``<slug>-<key>.npz`` (scores) and ``.json`` (timings, kept step)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _paths(self, job: Job) -> tuple[Path, Path]:
        stem = self.root / f"{job.slug}-{job.key}"
        return stem.with_suffix(".npz"), stem.with_suffix(".json")

    def get(self, job: Job) -> dict[str, Any] | None:
        npz, meta = self._paths(job)
        if not (npz.exists() and meta.exists()):
            return None
        with np.load(npz) as z:
            scores = {k: z[k] for k in z.files}
        return {**json.loads(meta.read_text()), "scores": scores}

    def put(self, job: Job, result: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        npz, meta = self._paths(job)
        tmp = npz.with_suffix(".tmp.npz")
        np.savez(tmp, **result["scores"])
        tmp.replace(npz)  # the scores first: a run counts as stored once its .json exists
        info = {k: v for k, v in result.items() if k != "scores"}
        meta.with_suffix(".tmp").write_text(json.dumps(info, indent=1))
        meta.with_suffix(".tmp").replace(meta)

    def seconds_per_row(self) -> float:
        """Training seconds per training row, from the runs stored so far."""
        rates = []
        for meta in self.root.glob("*.json"):
            info = json.loads(meta.read_text())
            if info.get("train_rows"):
                rates.append(info["train_s"] / info["train_rows"])
        return float(np.median(rates)) if rates else _DEFAULT_SECONDS_PER_ROW


def score_texts(model: Any, texts: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """A loaded model's positive-class (surgeon) scores on each named list of texts."""
    col = list(model.classes_).index(POS)
    return {k: model.predict_proba(t)[:, col] for k, t in texts.items()}


def _run(job: Job, texts: dict[str, list[str]], keep_model: bool) -> dict[str, Any]:
    """Train one job in this process and score the texts with the trained model."""
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from fairslm.models import load_model
    from fairslm.training import train

    res = train(job.config, train_data=job.train, validation_data=job.validation, overwrite=True)
    scores = score_texts(load_model(res.output_dir), texts)
    if not keep_model:  # the scores are what the benchmark reads; ~90 MB of weights a run
        for p in Path(res.output_dir).iterdir():
            if p.suffix == ".safetensors" or p.name.startswith("checkpoint"):
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    return {"label": job.label, "seed": job.seed, "scores": scores, "train_s": res.train_time_s,
            "step_s": res.mean_step_time_s, "steps": res.steps, "train_rows": len(job.train),
            "selected_step": res.selected_step if job.config.get("selection") else None}


def run_jobs(jobs: list[Job], texts: dict[str, list[str]], cache: StepCache, *, n_jobs: int,
             budget_s: float | None, keep_models: bool = False) -> dict[tuple[str, int], dict[str, Any]]:
    """Every job's result, training the ones not in the cache (``n_jobs`` at a time, in order).

    With ``budget_s``, a job starts only if it is expected to end within the budget (its rows
    times the measured seconds per row); the jobs left out are missing from the result and a
    later call trains them.
    """
    import concurrent.futures
    import multiprocessing

    done: dict[tuple[str, int], dict[str, Any]] = {}
    todo = []
    for job in jobs:
        hit = cache.get(job)
        if hit is not None:
            done[(job.label, job.seed)] = hit
        else:
            todo.append(job)
    if not todo:
        return done
    per_row = cache.seconds_per_row()
    t0 = time.monotonic()
    print(f"  fine-tuning: {len(done)} runs cached, {len(todo)} to train "
          f"(~{per_row * sum(len(j.train) for j in todo) / 60 / n_jobs:.0f} min on {n_jobs} workers)",
          flush=True)
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
        running: dict[Any, Job] = {}
        queue = list(todo)
        while queue or running:
            while queue and len(running) < n_jobs:
                elapsed = time.monotonic() - t0
                fits = [j for j in queue if budget_s is None or elapsed + per_row * len(j.train) <= budget_s]
                if not fits:
                    queue.clear()
                    break
                job = fits[0]
                queue.remove(job)
                running[pool.submit(_run, job, texts, keep_models)] = job
            if not running:
                break
            finished, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in finished:
                job = running.pop(fut)
                result = fut.result()
                cache.put(job, result)
                done[(job.label, job.seed)] = cache.get(job) or result
                print(f"  fine-tune: {job.label} (seed {job.seed}) finished in {result['train_s']:.0f} s",
                      flush=True)
    left = len(jobs) - len(done)
    if left:
        print(f"  fine-tuning: {left} runs left for the next chunk (rerun the same command)", flush=True)
    return done
