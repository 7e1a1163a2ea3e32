"""Score blends of same-seed fine-tunes for ``benchmarks/mitigation.py``, chosen on validation.

A blend decides by ``w * fair + (1 - w) * baseline`` scores, where ``fair`` is the mean score
of one or more fine-tunes trained to be fair (counterfactual augmentation, alone or averaged
with the penalty and/or the constraint fine-tune: averaging separately trained models lowers
the variance of their errors, Breiman 1996, "Bagging predictors") and ``w`` the most accurate
of 0, 0.05, ..., 1 on validation whose validation TPR-gap cut reaches ``BLEND_CUT``.

Which combination to report is itself a choice, so it is made on validation data only:
``cross_validate`` splits the validation rows in two at random, picks ``w`` on one half and
scores it on the other (both ways, ``repeats`` times), and gives each combination's
out-of-sample cut and accuracy change per seed. The test split plays no part in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fairslm.mitigation.postprocessing import choose_blend_weight
from mitigation_head import gap_rms

# The recipe's mean target for the cut; a grid of 21 weights.
BLEND_CUT, BLEND_WEIGHTS = 0.7, np.linspace(0.0, 1.0, 21)
AUG, PEN, CON = "counterfactual augmentation", "penalty (equalized odds)", "constraint target"
# Seed s's further augmentation fine-tunes (the ensemble rows) are trained with seeds s + 5 and
# s + 10, so that with --seeds 5 (0-4) no fine-tune serves two seeds: the two-member ensemble
# takes the first offset, the three-member one both.
ENSEMBLE_OFFSETS = (5, 10)
# The seed offsets of each ensemble's augmentation fine-tunes: (0, 5) and (0, 5, 10).
ENSEMBLE_MEMBERS = tuple((0, *ENSEMBLE_OFFSETS[:k]) for k in range(1, len(ENSEMBLE_OFFSETS) + 1))
# The fair-score combinations compared by cross_validate: (fine-tune row label, seed offset) runs.
COMBINATIONS: tuple[tuple[tuple[str, int], ...], ...] = (
    ((AUG, 0),), ((AUG, 0), (PEN, 0)), ((AUG, 0), (CON, 0)), ((AUG, 0), (PEN, 0), (CON, 0)),
    *(tuple((AUG, off) for off in offsets) for offsets in ENSEMBLE_MEMBERS))


def combination_name(combo: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """The runs of a combination as the table names them."""
    return tuple(lab if not off else f"{lab} (seed + {off})" for lab, off in combo)


def blend_on_validation(base: dict[str, np.ndarray], fair: dict[str, np.ndarray], y: np.ndarray,
                        g: np.ndarray) -> float:
    """Weight w of the score blend w * fair + (1 - w) * baseline, chosen on validation by
    ``fairslm.mitigation.postprocessing.choose_blend_weight``: the most accurate w whose
    validation TPR-gap RMS is at most (1 - BLEND_CUT) times the baseline's; w = 1 (the fair
    scores alone) when none is."""
    return choose_blend_weight(y, fair["validation"], base["validation"], g, cut=BLEND_CUT,
                               weights=BLEND_WEIGHTS).weight


def mean_scores(results: dict[tuple[str, int], dict[str, Any]],
                runs: Sequence[tuple[str, int]]) -> dict[str, np.ndarray]:
    """Per split, the mean of the named fine-tunes' scores; a run is (row label, seed)."""
    scores = [results[run]["scores"] for run in runs]
    return {k: np.mean([r[k] for r in scores], axis=0) for k in scores[0]}


def cross_validate(results: dict[tuple[str, int], dict[str, Any]], seeds: list[int], y: np.ndarray,
                   g: np.ndarray, *, repeats: int = 20, seed: int = 0) -> list[dict[str, Any]]:
    """Out-of-sample cut (%) and accuracy change (points) of every combination, alone and blended
    with the baseline, by repeated 2-fold cross-validation within the validation split.

    Returns one row per (combination, blended) with the per-seed means (``cut``, ``dacc``) over
    the ``2 * repeats`` folds; combinations with a missing fine-tune are left out.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for combo in COMBINATIONS:
        if not all((lab, s + off) in results for lab, off in (*combo, ("baseline", 0)) for s in seeds):
            continue
        for blended in (False, True):
            rows.append({"combination": combination_name(combo), "runs": combo, "blended": blended,
                         "cut": [], "dacc": []})
    for s in seeds:
        base = results[("baseline", s)]["scores"]["validation"]
        fair = {c: mean_scores(results, [(lab, s + off) for lab, off in c])["validation"]
                for c in dict.fromkeys(r["runs"] for r in rows)}
        folds = []
        for _ in range(repeats):
            perm = rng.permutation(y.size)
            half = y.size // 2
            folds += [(perm[:half], perm[half:]), (perm[half:], perm[:half])]
        sums = {id(r): np.zeros(2) for r in rows}
        for fit, ev in folds:
            base_pred = (base[ev] >= 0.5).astype(int)
            base_rms, base_acc = gap_rms(y[ev], g[ev], base_pred), (base_pred == y[ev]).mean()
            for r in rows:
                f = fair[r["runs"]]
                w = 1.0
                if r["blended"]:
                    w = blend_on_validation({"validation": base[fit]}, {"validation": f[fit]},
                                            y[fit], g[fit])
                pred = ((w * f[ev] + (1 - w) * base[ev]) >= 0.5).astype(int)
                sums[id(r)] += (100 * (1 - gap_rms(y[ev], g[ev], pred) / base_rms),
                                100 * ((pred == y[ev]).mean() - base_acc))
        for r in rows:
            cut, dacc = sums[id(r)] / len(folds)
            r["cut"].append(float(cut))
            r["dacc"].append(float(dacc))
    return rows


def print_cross_validation(rows: list[dict[str, Any]], seeds: list[int]) -> None:
    if not rows:
        return
    print("\nScore combinations, out of sample within validation (2-fold, both ways, repeated; "
          "per seed: cut % / Δacc pts):\n")
    print("| fair scores | blended with baseline | " + " | ".join(f"seed {s}" for s in seeds)
          + " | mean cut % | mean Δacc pts |")
    print("|---|---|" + "---|" * len(seeds) + "---|---|")
    for r in rows:
        cells = " | ".join(f"{c:.0f} / {d:+.2f}" for c, d in zip(r["cut"], r["dacc"], strict=True))
        print(f"| {' + '.join(r['combination'])} | {'yes' if r['blended'] else 'no'} | {cells} | "
              f"{np.mean(r['cut']):.1f} | {np.mean(r['dacc']):+.2f} |")
