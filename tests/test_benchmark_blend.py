"""The score blends of benchmarks/mitigation.py: weight and combination chosen on validation by fixed rules."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
mitigation = pytest.importorskip("mitigation_blend")


def _case(make, seed: int = 0):
    y, g, fair, base = make(seed=seed)
    return y, g, {"validation": base}, {"validation": fair}


def test_the_weight_is_the_most_accurate_one_that_reaches_the_cut(leaning_scores) -> None:
    y, g, base, aug = _case(leaning_scores)
    base_rms = mitigation.gap_rms(y, g, (base["validation"] >= 0.5).astype(int))
    w = mitigation.blend_on_validation(base, aug, y, g)
    limit = (1 - mitigation.BLEND_CUT) * base_rms

    def decide(weight: float) -> np.ndarray:
        return ((weight * aug["validation"] + (1 - weight) * base["validation"]) >= 0.5).astype(int)

    assert mitigation.gap_rms(y, g, decide(w)) <= limit
    meeting = [v for v in mitigation.BLEND_WEIGHTS if mitigation.gap_rms(y, g, decide(v)) <= limit]
    assert (decide(w) == y).mean() == max((decide(v) == y).mean() for v in meeting)
    assert 0.0 < w < 1.0  # the baseline's accuracy is worth some of its gap here


def test_without_a_weight_that_reaches_the_cut_the_augmented_model_is_kept(leaning_scores) -> None:
    y, g, base, _ = _case(leaning_scores)
    # Blending a model with itself cuts nothing.
    w = mitigation.blend_on_validation(base, base, y, g)
    assert w == 1.0



def test_cross_validation_scores_every_combination_out_of_sample(leaning_scores) -> None:
    y, g, base, aug = _case(leaning_scores)  # the same labels and groups for every seed, as the splits are
    results = {}
    for s in range(2):
        _, _, _, other = _case(leaning_scores, seed=1 + s)  # another fair model: same rows, its own noise
        results[("baseline", s)] = {"scores": base}
        results[(mitigation.AUG, s)] = {"scores": aug}
        results[(mitigation.PEN, s)] = {"scores": other}
        results[(mitigation.AUG, s + mitigation.ENSEMBLE_OFFSETS[0])] = {"scores": other}
    rows = mitigation.cross_validate(results, [0, 1], y, g, repeats=3)
    # The constraint's fine-tunes and the third ensemble members are missing, so three
    # combinations are compared, each both ways; the ensemble's second run is the seed's partner
    # (seed + 5).
    partner = f"{mitigation.AUG} (seed + 5)"
    assert [(r["combination"], r["blended"]) for r in rows] == [
        ((mitigation.AUG,), False), ((mitigation.AUG,), True),
        ((mitigation.AUG, mitigation.PEN), False), ((mitigation.AUG, mitigation.PEN), True),
        ((mitigation.AUG, partner), False), ((mitigation.AUG, partner), True)]
    # With the third members (seed + 10), the three-member ensemble is compared as well.
    for s in range(2):
        results[(mitigation.AUG, s + 10)] = {"scores": base}
    rows = mitigation.cross_validate(results, [0, 1], y, g, repeats=3)
    assert [r["combination"] for r in rows[-2:]] == [(mitigation.AUG, partner, f"{mitigation.AUG} (seed + 10)")] * 2
    assert all(len(r["cut"]) == len(r["dacc"]) == 2 for r in rows)
    alone, blended = rows[0], rows[1]
    # The augmented model alone cuts most of the gap; blending gives some cut back for accuracy.
    assert min(alone["cut"]) > 60
    assert np.mean(blended["dacc"]) > np.mean(alone["dacc"])
    assert np.mean(blended["cut"]) < np.mean(alone["cut"])


def test_mean_scores_averages_the_named_runs() -> None:
    results = {("a", 0): {"scores": {"test": np.array([0.2, 0.6])}},
               ("b", 0): {"scores": {"test": np.array([0.4, 1.0])}}}
    np.testing.assert_allclose(mitigation.mean_scores(results, [("a", 0), ("b", 0)])["test"], [0.3, 0.8])
