"""Mitigation benchmark on Bias in Bios (surgeon vs nurse) with the packaged MiniLM, over seeds.

Every method runs on the same splits for each seed (``--seeds 5``: seeds 0-4): fine-tuned
MiniLM (baseline, reweighing, counterfactual augmentation, penalty, constraint target,
adversary on the representation and on the prediction; the augmentation row is the recipe of
``docs/mitigation-recipe.md``, and one more row adds group thresholds to it; group thresholds
and Fairlearn's ThresholdOptimizer on the
baseline's scores) and the head-only mode on frozen, cached embeddings (the same fairness
methods, plus Fairlearn's ExponentiatedGradient and ThresholdOptimizer and LEACE). A seed sets
the fine-tune's initialisation and data order, the head's initialisation and the randomised
thresholds of Fairlearn's ThresholdOptimizer; the splits are the data set's own.

The table gives, per method, the mean over seeds and its 95% Student-t interval
(``fairslm.metrics.seed_interval``) of accuracy, accuracy change against the same-seed baseline,
TPR-gap RMS = sqrt(mean over the two classes of (TPR_M - TPR_F)^2) (De-Arteaga et al., "Bias in
Bios", FAT* 2019), its cut against the same-seed baseline, the equal opportunity ratio (surgeon
TPR, min/max over genders) and the counterfactual flip rate (gender-swapped test texts), and how many seeds meet the per-seed bar
(cut >= 60% at <= 1.5 points lost).

Settings are chosen on validation data only. Head-only methods sweep their grids inside the run:
the most accurate setting whose validation TPR-gap RMS is at most ``(1 - --cut)`` times the
baseline's, else the smallest gap. A fine-tuning row trains one setting, chosen earlier by that
rule from separate full-data fine-tunes scored on validation data (plain fine-tuning: accuracy
0.961, TPR-gap RMS 0.216): penalty weight 5 (0.944, 0.057) over 2 (0.950, 0.145, short of the
cut); prediction adversary alpha 0.5 (0.947, 0.083) over 1.0 (0.943, 0.050); constraint
multiplier step 0.25 (0.949, 0.045) over 1.0 (0.844, 0.043). The constraint row keeps the most
accurate checkpoint that meets its target on validation data. The "augmentation + group
thresholds" row (the recipe's former third step) takes the counterfactual-augmentation
fine-tune and fits group thresholds (equalized odds) on its validation scores, the difference bound chosen by the same rule from ``--difference-grid``
with the model's own 0.5 cut-off as one more candidate; it trains nothing of its own. The
"augmentation blended with baseline" row averages the two same-seed fine-tunes' scores,
w * augmented + (1 - w) * baseline, with the most accurate w on validation whose validation cut
reaches 70% (``blend_on_validation``); it also trains nothing of its own. "Augmentation and
penalty averaged, blended with baseline" does the same with the mean of the augmentation and
penalty fine-tunes' scores in place of the augmented one: of four such averages, the one that
cross-validation within the validation split (``benchmarks/mitigation_blend.py``, printed after
the tables) found the most accurate at a 70% cut. "Two augmentation fine-tunes averaged" is an
ensemble (Breiman 1996; Lakshminarayanan et al. 2017): the mean of the scores of seed s's
augmentation fine-tune and a second one trained the same way with seed s + 5; "three ..." adds
a third with seed s + 10 (``ENSEMBLE_OFFSETS``, so that with ``--seeds 5`` no fine-tune serves
two seeds); "..., blended with baseline" blends each mean with the baseline by the same
validation rule. The pipeline builds the same models with ``[train] seeds = [s, s + 5]`` (or
``[s, s + 5, s + 10]``) and ``[postprocess] method = "blend"``.

A full-data fine-tune takes ~5 minutes on a quiet core and took 10-37 (baseline) to 21-50
minutes (augmentation, twice the rows) on two shared, busy ones; runs are stored in a step cache as they finish
(``benchmarks/mitigation_finetune.py``), so the grid runs in chunks: ``--budget-minutes 28``
starts no run that would end past the budget, and the same command continues later.

    env OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python \\
        benchmarks/mitigation.py --seeds 5 --budget-minutes 28
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mitigation_blend import (  # noqa: E402
    AUG,
    ENSEMBLE_MEMBERS,
    ENSEMBLE_OFFSETS,
    PEN,
    blend_on_validation,
    cross_validate,
    mean_scores,
    print_cross_validation,
)
from mitigation_bounds import bounds_for_seed, print_bounds  # noqa: E402
from mitigation_finetune import Job, StepCache, run_jobs  # noqa: E402
from mitigation_head import (  # noqa: E402
    POS,
    fairlearn_thresholds,
    gap_rms,
    head_only_rows,
    labels_and_groups,
    thresholds_on_validation,
)

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "biosbias-surgeon-nurse"
FT_BASELINE, HEAD_BASELINE = "fine-tune: baseline", "head: baseline"
# The recipe (docs/mitigation-recipe.md) is this fine-tuning row; one more row adds group
# thresholds fitted on validation to it (the recipe's former third step).
RECIPE_BASE, RECIPE = "counterfactual augmentation", "fine-tune: augmentation + group thresholds"
BLEND = "fine-tune: augmentation blended with baseline"
BLEND_AVG = "fine-tune: augmentation and penalty averaged, blended with baseline"
ENSEMBLE = "fine-tune: two augmentation fine-tunes averaged"
ENSEMBLE_BLEND = "fine-tune: two augmentation fine-tunes averaged, blended with baseline"
ENSEMBLE3 = "fine-tune: three augmentation fine-tunes averaged"
ENSEMBLE3_BLEND = "fine-tune: three augmentation fine-tunes averaged, blended with baseline"
# The ensemble rows: (row, its blend with the baseline, how the note names the members, the
# seed offsets of its augmentation fine-tunes).
ENSEMBLES = ((ENSEMBLE, ENSEMBLE_BLEND, "the two", ENSEMBLE_MEMBERS[0]),
             (ENSEMBLE3, ENSEMBLE3_BLEND, "the three", ENSEMBLE_MEMBERS[1]))


def swap_gender(texts: list[str]) -> list[str]:
    """The texts with their gender words and names swapped (fairslm's perturber)."""
    from fairslm.data import CounterfactualPerturber

    return list(CounterfactualPerturber(seed=0).perturb(texts).texts)


def load_split(d: Path, split: str) -> pd.DataFrame:
    return pd.read_json(d / f"{split}.jsonl", lines=True)


def row_metrics(y: np.ndarray, g: np.ndarray, pred: np.ndarray, pred_swap: np.ndarray) -> dict[str, float]:
    out: dict[str, float] = {"accuracy": float((pred == y).mean())}
    for cls, name in ((1, "S"), (0, "N")):
        for sex in ("M", "F"):
            m = (y == cls) & (g == sex)
            out[f"tpr_{name}_{sex}"] = float((pred[m] == cls).mean())
    out["rms"] = gap_rms(y, g, pred)
    s = [out["tpr_S_M"], out["tpr_S_F"]]  # equal opportunity: surgeon TPR, min/max over genders
    out["eo_ratio"] = min(s) / max(s) if max(s) > 0 else 1.0
    out["flip"] = float((pred != pred_swap).mean())
    return out


# ---------------------------------------------------------------- fine-tuning rows
def finetune_runs(args: argparse.Namespace, D: dict[str, pd.DataFrame], swapped_train: list[str]
                  ) -> list[tuple[str, dict[str, Any], pd.DataFrame]]:
    """(row label, config additions, training rows) of every fine-tuning row."""
    from fairslm.mitigation.preprocessing import Reweighing

    tr = D["train"]
    target = f"equalized_odds difference <= {args.ft_max_difference}"
    ytr = (tr.profession == POS).to_numpy().astype(int)
    rw = tr.assign(weight=Reweighing().fit(None, ytr, sensitive_features=tr.gender.to_numpy()).transform(
        None, ytr, sensitive_features=tr.gender.to_numpy()))
    aug = pd.concat([tr, tr.assign(text=swapped_train, gender=tr.gender.map({"M": "F", "F": "M"}))],
                    ignore_index=True)
    return [
        ("baseline", {}, tr),
        ("counterfactual augmentation", {}, aug),
        ("reweighing", {"data": {"weight": "weight"}}, rw),
        ("penalty (equalized odds)", {"penalty": {"criterion": "equalized_odds", "weight": args.ft_penalty}}, tr),
        # The constraint's iterates oscillate (a two-player game): evaluate every --ft-eval-every
        # steps and keep the most accurate checkpoint that meets the target on validation.
        ("constraint target", {"constraints": {"targets": [target], "multiplier_lr": args.ft_multiplier_lr},
                               "selection": [target], "eval_every": args.ft_eval_every}, tr),
        ("adversary (representation)", {"adversary": {"criterion": "equalized_odds", "alpha": args.ft_alpha}}, tr),
        ("adversary (prediction)", {"adversary": {"criterion": "equalized_odds", "alpha": args.ft_pred_alpha,
                                                  "source": "prediction"}}, tr),
    ]


def candidate_runs(args: argparse.Namespace, D: dict[str, pd.DataFrame], swapped_train: list[str]
                   ) -> list[tuple[str, dict[str, Any], pd.DataFrame]]:
    """Recipe candidates, trained only when named in --finetune-rows (shortlisting on validation)."""
    tr = D["train"]
    aug = pd.concat([tr, tr.assign(text=swapped_train, gender=tr.gender.map({"M": "F", "F": "M"}))],
                    ignore_index=True)
    rng = np.random.default_rng(0)
    half = rng.random(len(tr)) < 0.5  # counterfactual substitution: each row swapped or not
    cds = tr.assign(text=np.where(half, swapped_train, tr.text),
                    gender=np.where(half, tr.gender.map({"M": "F", "F": "M"}), tr.gender))
    return [
        # Two epochs over the augmented rows is twice the baseline's steps per original row; the
        # baseline trained as long is its like-for-like reference.
        ("baseline, 2 epochs", {"epochs": 2}, tr),
        ("counterfactual augmentation, 2 epochs", {"epochs": 2}, aug),
        ("counterfactual augmentation + penalty", {"penalty": {"criterion": "equalized_odds", "weight": 2.0}}, aug),
        ("counterfactual substitution", {}, cds),
    ]


def finetune_jobs(args: argparse.Namespace, D: dict[str, pd.DataFrame], swapped_train: list[str],
                  seeds: list[int]) -> list[Job]:
    base = {
        "data": {"text": "text", "label": "profession", "sensitive": ["gender"], "pos_label": POS},
        "max_length": args.max_length, "epochs": args.epochs, "batch_size": args.batch_size,
        "learning_rate": args.learning_rate, "checkpoint_every": 0, "progress": False,
    }
    runs = finetune_runs(args, D, swapped_train)
    if args.finetune_rows:
        runs += candidate_runs(args, D, swapped_train)
        known = [r[0] for r in runs]
        missing = [x for x in args.finetune_rows if x not in known]
        if missing:
            raise SystemExit(f"unknown --finetune-rows {missing}; choose from: {', '.join(known)}")
        runs = [r for r in runs if r[0] in args.finetune_rows]
    jobs = []
    planned: set[int] = set()  # ensemble partners already queued (seeds 0-9 share some)
    # Seed by seed, so a chunk finishes whole seeds: a row's cut needs its same-seed baseline.
    # The augmentation row also trains its ensemble partners (seed + each ENSEMBLE_OFFSETS).
    for seed in seeds:
        partner_seeds = [seed + off for off in ENSEMBLE_OFFSETS if seed + off not in seeds
                         and seed + off not in planned]
        planned.update(partner_seeds)
        partners = [(lab, extra, data, s) for s in partner_seeds for lab, extra, data in runs
                    if lab == RECIPE_BASE]
        for label, extra, data, run_seed in [(*r, seed) for r in runs] + partners:
            cfg = {**base, **extra, "seed": run_seed,
                   "data": {**base["data"], **extra.get("data", {})},
                   "output_dir": str(Path(args.results_dir) / "finetune" / f"{label.replace(' ', '-')}-seed{run_seed}")}
            # The weight column named in the config is read from both splits.
            val = D["validation"].assign(weight=1.0) if "weight" in data.columns else D["validation"]
            jobs.append(Job(label, run_seed, cfg, data, val))
    return jobs


def finetune_rows(results: dict[tuple[str, int], dict[str, Any]], seed: int, labels: list[str],
                  D: dict[str, pd.DataFrame], args: argparse.Namespace, report: Any) -> None:
    """Report one seed's fine-tuned rows, the post-processing rows on the baseline's scores and
    counterfactual augmentation followed by group thresholds fitted on validation."""
    yv, gv = labels_and_groups(D["validation"])
    gt = D["test"].gender.to_numpy()
    # The thresholds' gap bound and the blends need the same-seed baseline; without it (rows run
    # on their own, e.g. --finetune-rows 'counterfactual augmentation') those rows are left out.
    base_run = results.get(("baseline", seed))
    limit = None if base_run is None else (1 - args.cut) * gap_rms(
        yv, gv, (base_run["scores"]["validation"] >= 0.5).astype(int))
    for label in labels:
        r = results[(label, seed)]
        scores = r["scores"]
        note = f"kept step {r['selected_step']} of {r['steps']}" if r.get("selected_step") is not None else ""
        report(f"fine-tune: {label}", (scores["test"] >= 0.5).astype(int), (scores["swap"] >= 0.5).astype(int),
               r["train_s"], note)
        if label == RECIPE_BASE:
            if limit is not None:
                decide, note = thresholds_on_validation(scores["validation"], yv, gv, limit, args.difference_grid,
                                                        keep_plain=True)
                report(RECIPE, decide(scores["test"], gt), decide(scores["swap"], gt), r["train_s"], note)
            # Each blend: (row, fair fine-tunes whose scores are averaged, how the note names them).
            blends = [(BLEND, [(AUG, seed)], "augmentation"),
                      (BLEND_AVG, [(AUG, seed), (PEN, seed)], "the average")]
            ensembles = []
            for row, blend_row, name, offsets in ENSEMBLES:
                runs = [(AUG, seed + off) for off in offsets]
                ensembles.append((row, runs))
                blends.append((blend_row, runs, name))
            # The mean scores of every set of fine-tunes whose runs are all present, computed once.
            means = {tuple(runs): mean_scores(results, runs) for _, runs, _ in blends
                     if all(run in results for run in runs)}
            for row, runs in ensembles:
                if (avg := means.get(tuple(runs))) is None:
                    continue
                *first, last = (str(s) for _, s in runs)
                report(row, (avg["test"] >= 0.5).astype(int), (avg["swap"] >= 0.5).astype(int),
                       sum(results[run]["train_s"] for run in runs), f"seeds {', '.join(first)} and {last}")
            if base_run is not None:
                for row, fair_runs, name in blends:
                    if (fair := means.get(tuple(fair_runs))) is None:
                        continue
                    w = blend_on_validation(base_run["scores"], fair, yv, gv)
                    blend = {k: (w * fair[k] + (1 - w) * base_run["scores"][k] >= 0.5).astype(int)
                             for k in ("test", "swap")}
                    train_s = base_run["train_s"] + sum(results[run]["train_s"] for run in fair_runs)
                    report(row, blend["test"], blend["swap"], train_s, f"weight {w:.2f} on {name}")
        if label != "baseline" or limit is None:
            continue
        decide, note = thresholds_on_validation(scores["validation"], yv, gv, limit, args.difference_grid,
                                                keep_plain=False)
        report("fine-tune: group thresholds", decide(scores["test"], gt), decide(scores["swap"], gt),
               r["train_s"], note)
        fl = fairlearn_thresholds(scores["validation"], yv, gv)
        col = {k: v[:, None] for k, v in scores.items()}
        report("fine-tune: Fairlearn ThresholdOptimizer",
               fl.predict(col["test"], sensitive_features=gt, random_state=seed),
               fl.predict(col["swap"], sensitive_features=gt, random_state=seed), r["train_s"], "equalized_odds")


# ---------------------------------------------------------------- tables
def _fmt(iv: Any, scale: float = 1.0, digits: int = 3, sign: str = "") -> str:
    if iv.n == 0:
        return "n/a"
    if iv.n < 2:
        return f"{iv.mean * scale:{sign}.{digits}f}"
    half = (iv.high - iv.low) / 2 * scale
    return f"{iv.mean * scale:{sign}.{digits}f} ± {half:.{digits}f}"


def reference(method: str, rows: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The same-seed row ``method`` is measured against.

    A fine-tune trained longer than the default (label ending ", N epochs") is measured against
    the baseline trained as long, so more training is not counted as mitigation; that baseline
    itself, and every other fine-tuned row, against the default baseline; head-only rows against
    the head-only baseline.
    """
    if not method.startswith("fine-tune"):
        return rows.get(HEAD_BASELINE)
    _, sep, epochs = method.rpartition(", ")
    longer = f"{FT_BASELINE}, {epochs}"
    if sep and epochs.endswith(" epochs") and method != longer:
        return rows.get(longer)
    return rows.get(FT_BASELINE)


def aggregate(per_seed: dict[int, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per method: mean and 95% interval over seeds of each column, against same-seed baselines."""
    from fairslm.metrics import seed_interval

    methods: list[str] = []
    for rows in per_seed.values():
        methods += [m for m in rows if m not in methods]
    out = []
    for m in methods:
        cols: dict[str, list[float]] = {k: [] for k in ("accuracy", "dacc", "rms", "cut", "eo_ratio", "flip", "train_s")}
        meets = 0
        seeds = []
        for seed, rows in sorted(per_seed.items()):
            if m not in rows:
                continue
            r = rows[m]
            base = reference(m, rows)
            dacc = (r["accuracy"] - base["accuracy"]) * 100 if base else float("nan")
            cut = (1 - r["rms"] / base["rms"]) * 100 if base and base["rms"] > 0 else float("nan")
            for k, v in (("accuracy", r["accuracy"]), ("dacc", dacc), ("rms", r["rms"]), ("cut", cut),
                         ("eo_ratio", r["eo_ratio"]), ("flip", r["flip"]), ("train_s", r["train_s"])):
                cols[k].append(v)
            meets += bool(cut >= 60 and dacc >= -1.5)
            seeds.append(seed)
        out.append({"method": m, "seeds": seeds, "meets_per_seed": meets,
                    **{k: seed_interval(v)._asdict() for k, v in cols.items()},
                    "per_seed": {k: v for k, v in cols.items()}})
    return out


def print_table(agg: list[dict[str, Any]]) -> None:
    from fairslm.metrics import SeedInterval

    print()
    print("| method | seeds | accuracy | Δacc pts | gap RMS | RMS cut % | EOpp ratio | flip | seeds ≥60% at ≤1.5 pts | train s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for a in agg:
        iv = {k: SeedInterval(**a[k]) for k in ("accuracy", "dacc", "rms", "cut", "eo_ratio", "flip", "train_s")}
        base = a["method"] in (FT_BASELINE, HEAD_BASELINE)
        meets = "n/a" if iv["dacc"].n == 0 else f"{a['meets_per_seed']}/{len(a['seeds'])}"  # no baseline run
        print(f"| {a['method']} | {len(a['seeds'])} | {_fmt(iv['accuracy'])} | "
              f"{'—' if base else _fmt(iv['dacc'], digits=2, sign='+')} | {_fmt(iv['rms'])} | "
              f"{'—' if base else _fmt(iv['cut'], digits=0, sign='+')} | {_fmt(iv['eo_ratio'])} | "
              f"{_fmt(iv['flip'])} | {'—' if base else meets} | "
              f"{iv['train_s'].mean:.1f} |")


def print_seed_table(per_seed: dict[int, dict[str, dict[str, Any]]]) -> None:
    print()
    print("| seed | method | accuracy | TPR surg M/F | TPR nurse M/F | gap RMS | EOpp ratio | flip | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for seed, rows in sorted(per_seed.items()):
        for m, r in rows.items():
            print(f"| {seed} | {m} | {r['accuracy']:.4f} | {r['tpr_S_M']:.3f}/{r['tpr_S_F']:.3f} | "
                  f"{r['tpr_N_M']:.3f}/{r['tpr_N_F']:.3f} | {r['rms']:.3f} | {r['eo_ratio']:.3f} | "
                  f"{r['flip']:.3f} | {r['note']} |")


# ---------------------------------------------------------------- main
def parse_seeds(text: str) -> list[int]:
    """``5`` -> seeds 0-4 (a count, as in ``--seeds 5``); a list ``0,3`` or a range ``2-4`` as
    ``fairslm sweep --seeds`` reads them."""
    from fairslm.exceptions import ConfigError
    from fairslm.training import parse_seeds as parse_seed_list

    if text.strip().isdigit():
        if int(text) < 1:
            raise SystemExit(f"--seeds {text} names no seed: give a count of at least 1 (5 -> seeds 0-4), "
                             "a list 0,3 or a range 2-4")
        return list(range(int(text)))
    try:
        return parse_seed_list(text)
    except ConfigError as e:
        raise SystemExit(f"--seeds: {e}") from None


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's options (``benchmarks/mitigation_probes.py`` reads its runs with them)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DATA)
    ap.add_argument("--results-dir", type=Path, default=REPO / "benchmarks" / "results")
    ap.add_argument("--seeds", default="5", help="N (seeds 0..N-1), a list 0,3 or a range 2-4.")
    ap.add_argument("--head-only", action="store_true", help="Run only the fast head-only rows.")
    ap.add_argument("--finetune-only", action="store_true", help="Run only the fine-tuning rows.")
    ap.add_argument("--finetune-rows", nargs="+", default=None, metavar="LABEL",
                    help="Fine-tuning rows to run (e.g. baseline 'counterfactual augmentation'); default all.")
    ap.add_argument("--budget-minutes", type=float, default=None,
                    help="Start no fine-tune that would end past this many minutes; rerun to continue.")
    ap.add_argument("--per-seed", action="store_true", help="Also print every seed's rows.")
    ap.add_argument("--keep-models", action="store_true", help="Keep fine-tuned weights (~90 MB a run).")
    ap.add_argument("--cut", type=float, default=0.6,
                    help="Share of the baseline's validation TPR-gap RMS a chosen setting must remove.")
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--learning-rate", type=float, default=5e-5)
    ap.add_argument("--max-rows", type=int, default=None,
                    help="Use only this many rows of each split (a quick check of the script, not a result).")
    ap.add_argument("--jobs", type=int, default=2, help="Fine-tunes trained at once (one process each).")
    ap.add_argument("--ft-eval-every", type=int, default=40)
    ap.add_argument("--ft-penalty", type=float, default=5.0)
    ap.add_argument("--ft-alpha", type=float, default=1.0, help="Representation adversary's alpha.")
    ap.add_argument("--ft-pred-alpha", type=float, default=0.5, help="Prediction adversary's alpha.")
    ap.add_argument("--ft-multiplier-lr", type=float, default=0.25)
    ap.add_argument("--ft-max-difference", type=float, default=0.1,
                    help="Fine-tuning constraint target: equalized_odds difference <= this.")
    ap.add_argument("--penalty-grid", type=float, nargs="+", default=[0.5, 1, 2, 5, 10, 20])
    ap.add_argument("--adversary-grid", type=float, nargs="+", default=[0.25, 0.5, 1, 2, 4])
    ap.add_argument("--difference-grid", type=float, nargs="+", default=[0.02, 0.05, 0.08, 0.1, 0.15])
    ap.add_argument("--eg-grid", type=float, nargs="+", default=[0.01, 0.02, 0.05, 0.08, 0.1])
    ap.add_argument("--c-grid", type=float, nargs="+", default=[1, 10, 100])
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not (args.data_dir / "train.jsonl").exists():
        print(f"skipped: Bias in Bios data not found at {args.data_dir}")
        return 0
    t_start = time.perf_counter()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # torch.jit.script in concept_erasure
    warnings.filterwarnings("ignore", module="fairlearn")
    warnings.filterwarnings("ignore", message=".*Pandas4Warning.*")
    import torch

    torch.set_num_threads(1)
    seeds = parse_seeds(args.seeds)
    D = {s: load_split(args.data_dir, s) for s in ("train", "validation", "test")}
    if args.max_rows is not None:
        D = {k: v.sample(n=min(args.max_rows, len(v)), random_state=0).reset_index(drop=True) for k, v in D.items()}
    swapped_test, swapped_train = swap_gender(D["test"].text.tolist()), swap_gender(D["train"].text.tolist())
    y, g = labels_and_groups(D["test"])
    per_seed: dict[int, dict[str, dict[str, Any]]] = {s: {} for s in seeds}

    def reporter(seed: int) -> Any:
        def report(name: str, pred: np.ndarray, pred_swap: np.ndarray, seconds: float, note: str = "") -> None:
            r = {**row_metrics(y, g, np.asarray(pred).astype(int), np.asarray(pred_swap).astype(int)),
                 "train_s": seconds, "note": note}
            per_seed[seed][name] = r
        return report

    finetune_s = 0.0
    complete = True
    bounds: dict[int, dict[str, dict[str, Any]]] = {}
    trained: list[int] = []  # seeds whose fine-tunes are all present
    if not args.head_only:
        jobs = finetune_jobs(args, D, swapped_train, seeds)
        texts = {"validation": D["validation"].text.tolist(), "test": D["test"].text.tolist(), "swap": swapped_test}
        budget = None if args.budget_minutes is None else args.budget_minutes * 60
        results = run_jobs(jobs, texts, StepCache(args.results_dir / "cache" / "finetune"),
                           n_jobs=args.jobs, budget_s=budget, keep_models=args.keep_models)
        labels = list(dict.fromkeys(j.label for j in jobs))
        finetune_s = sum(r["train_s"] for r in results.values())
        complete = all((j.label, j.seed) in results for j in jobs)
        for seed in seeds:
            if all((lab, seed) in results for lab in labels):
                trained.append(seed)
                finetune_rows(results, seed, labels, D, args, reporter(seed))
                if "baseline" in labels:
                    sc = {lab: results[(lab, seed)]["scores"]["test"] for lab in labels}
                    bounds[seed] = bounds_for_seed(
                        y, g, sc["baseline"],
                        {lab: ((v >= 0.5).astype(int), v) for lab, v in sc.items()}, seed)
    if not args.finetune_only:
        from fairslm.mitigation.head_only import embed_texts

        cache = args.results_dir / "embeddings"
        E = {k: embed_texts(D[k].text.tolist(), max_length=args.max_length, cache_dir=cache) for k in D}
        E["test_swap"] = embed_texts(swapped_test, max_length=args.max_length, cache_dir=cache)
        E["train_swap"] = embed_texts(swapped_train, max_length=args.max_length, cache_dir=cache)
        for seed in seeds:
            head_only_rows(E, D, args, seed, reporter(seed))
    per_seed = {s: rows for s, rows in per_seed.items() if rows}
    if args.per_seed:
        print_seed_table(per_seed)
    agg = aggregate(per_seed)
    print_table(agg)
    if bounds:
        print_bounds(bounds)
    combinations: list[dict[str, Any]] = []
    if not args.head_only and "baseline" in labels:
        combinations = cross_validate(results, trained, *labels_and_groups(D["validation"]))
        print_cross_validation(combinations, trained)
    wall = time.perf_counter() - t_start
    print(f"\nseeds {', '.join(map(str, sorted(per_seed)))}; training time of the cached fine-tunes "
          f"{finetune_s / 3600:.2f} h (wall, one core a run); this invocation {wall / 60:.1f} min wall"
          + ("" if complete else "; fine-tuning incomplete: rerun the same command to continue"))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / "mitigation.json"
    out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "per_seed": per_seed,
                               "aggregate": agg, "bounds": bounds,
                               "cross_validation": combinations, "finetune_cpu_s": finetune_s,
                               "wall_s": wall}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
