"""The ensemble rows of benchmarks/mitigation.py (two and three augmentation fine-tunes
averaged): which runs are trained and how the rows are scored."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
pytest.importorskip("fairlearn")
mitigation = pytest.importorskip("mitigation")


def _split(y: np.ndarray, g: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"bio {i}" for i in range(len(y))],
                         "profession": np.where(y == 1, "surgeon", "nurse"), "gender": g})


def _args(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{
        "max_length": 32, "epochs": 1, "batch_size": 8, "learning_rate": 5e-5, "results_dir": "r",
        "ft_max_difference": 0.1, "ft_penalty": 5.0, "ft_multiplier_lr": 0.25, "ft_eval_every": 40,
        "ft_alpha": 1.0, "ft_pred_alpha": 0.5, "finetune_rows": None, "cut": 0.6,
        "difference_grid": [0.05, 0.1], **kw})


def test_each_seed_trains_a_second_augmentation_fine_tune_with_its_own_seed(leaning_scores) -> None:
    y, g, _, _ = leaning_scores(n=40)
    D = {"train": _split(y, g), "validation": _split(y, g)}
    swapped = [f"swapped {i}" for i in range(len(y))]
    runs = {(j.label, j.seed) for j in mitigation.finetune_jobs(_args(), D, swapped, [0, 1])}
    aug = sorted(s for lab, s in runs if lab == mitigation.AUG)
    assert aug == [0, 1, 5, 6, 10, 11]
    assert {s for lab, s in runs if lab != mitigation.AUG} == {0, 1}
    # With ten seeds, seed 0's first partner is seed 5's own run and seed 5's first partner is
    # seed 0's second: none is trained twice (seeds 5-9 still get second partners, 15-19).
    jobs = mitigation.finetune_jobs(_args(), D, swapped, list(range(10)))
    assert len(jobs) == len({(j.label, j.seed) for j in jobs})
    assert sorted(j.seed for j in jobs if j.label == mitigation.AUG) == list(range(20))


def test_the_ensemble_rows_average_the_two_fine_tunes(leaning_scores) -> None:
    yv, gv, fair_v, base_v = leaning_scores(seed=0)
    yt, gt, fair_t, base_t = leaning_scores(seed=1)
    rng = np.random.default_rng(2)

    def another_fair_model(y: np.ndarray) -> np.ndarray:  # the same rows, noise of its own
        return 1 / (1 + np.exp(-(1.5 * np.where(y == 1, 1.0, -1.0) + rng.normal(0, 1.3, y.size))))

    other_v, other_t = another_fair_model(yv), another_fair_model(yt)
    third_v, third_t = another_fair_model(yv), another_fair_model(yt)
    D = {"validation": _split(yv, gv), "test": _split(yt, gt)}
    results = {
        ("baseline", 0): {"scores": {"validation": base_v, "test": base_t, "swap": base_t}, "train_s": 1.0},
        (mitigation.AUG, 0): {"scores": {"validation": fair_v, "test": fair_t, "swap": fair_t}, "train_s": 2.0},
        (mitigation.AUG, 5): {"scores": {"validation": other_v, "test": other_t, "swap": other_t}, "train_s": 3.0},
        (mitigation.AUG, 10): {"scores": {"validation": third_v, "test": third_t, "swap": third_t}, "train_s": 4.0},
    }
    rows = {}

    def report(name, pred, pred_swap, seconds, note=""):
        rows[name] = (np.asarray(pred), seconds, note)

    mitigation.finetune_rows(results, 0, ["baseline", mitigation.AUG], D, _args(), report)
    pred, seconds, note = rows[mitigation.ENSEMBLE]
    np.testing.assert_array_equal(pred, ((fair_t + other_t) / 2 >= 0.5).astype(int))
    assert seconds == 5.0 and note == "seeds 0 and 5"
    pred, seconds, note = rows[mitigation.ENSEMBLE_BLEND]
    w = float(note.split()[1])
    np.testing.assert_array_equal(pred, (w * (fair_t + other_t) / 2 + (1 - w) * base_t >= 0.5).astype(int))
    assert seconds == 6.0 and note.endswith("on the two")
    pred, seconds, note = rows[mitigation.ENSEMBLE3]
    np.testing.assert_array_equal(pred, ((fair_t + other_t + third_t) / 3 >= 0.5).astype(int))
    assert seconds == 9.0 and note == "seeds 0, 5 and 10"
    pred, seconds, note = rows[mitigation.ENSEMBLE3_BLEND]
    w = float(note.split()[1])
    np.testing.assert_array_equal(pred, (w * (fair_t + other_t + third_t) / 3 + (1 - w) * base_t >= 0.5
                                         ).astype(int))
    assert seconds == 10.0 and note.endswith("on the three")
    # Averaging two noisy fair models is more accurate than either (the synthetic models' noise
    # is independent).
    acc = {k: float((v[0] == yt).mean()) for k, v in rows.items()}
    assert acc[mitigation.ENSEMBLE] > acc[f"fine-tune: {mitigation.AUG}"]
    # Without the third member, the three-member rows are left out; without the second, all.
    del results[(mitigation.AUG, 10)]
    rows.clear()
    mitigation.finetune_rows(results, 0, ["baseline", mitigation.AUG], D, _args(), report)
    assert mitigation.ENSEMBLE in rows and mitigation.ENSEMBLE3 not in rows and mitigation.ENSEMBLE3_BLEND not in rows
    del results[(mitigation.AUG, 5)]
    rows.clear()
    mitigation.finetune_rows(results, 0, ["baseline", mitigation.AUG], D, _args(), report)
    assert not {mitigation.ENSEMBLE, mitigation.ENSEMBLE_BLEND, mitigation.ENSEMBLE3} & set(rows)


def test_rows_run_without_their_baseline_leave_out_what_needs_it(leaning_scores) -> None:
    """--finetune-rows 'counterfactual augmentation' alone: its rows and the ensemble are
    reported; the group thresholds and the blends, which need the baseline, are left out."""
    yv, gv, fair_v, _ = leaning_scores(seed=0)
    yt, gt, fair_t, _ = leaning_scores(seed=1)
    D = {"validation": _split(yv, gv), "test": _split(yt, gt)}
    run = {"scores": {"validation": fair_v, "test": fair_t, "swap": fair_t}, "train_s": 1.0}
    results = {(mitigation.AUG, 0): run, (mitigation.AUG, 5): run}
    rows: list[str] = []
    mitigation.finetune_rows(results, 0, [mitigation.AUG], D, _args(),
                             lambda name, *a, **k: rows.append(name))
    assert rows == [f"fine-tune: {mitigation.AUG}", mitigation.ENSEMBLE]
