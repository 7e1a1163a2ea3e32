"""Head-only rows of the mitigation benchmark: every method on frozen, cached MiniLM embeddings.

Each method's grid is swept inside the run and its setting chosen on validation data only (the
benchmark's rule, :func:`choose`); one call fits every row for one seed (a few seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

POS = "surgeon"


def labels_and_groups(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A split's 0/1 labels (1 = surgeon) and gender column."""
    return (df.profession == POS).to_numpy().astype(int), df.gender.to_numpy()


def gap_rms(y: np.ndarray, g: np.ndarray, pred: np.ndarray) -> float:
    """TPR-gap RMS over the two classes (De-Arteaga et al. 2019): fairslm's ``class_gap_rms``."""
    from fairslm.mitigation.postprocessing import class_gap_rms

    return class_gap_rms(y, pred, g)


def choose(cands: list[tuple[str, Any, np.ndarray]], yv: np.ndarray, gv: np.ndarray,
           max_gap: float) -> tuple[str, Any, str]:
    """Most accurate candidate with validation gap RMS <= max_gap (else the smallest gap)."""
    from fairslm.mitigation.comparison import select_most_accurate

    names = [c[0] for c in cands]
    acc = [float((c[2] == yv).mean()) for c in cands]
    gap = [gap_rms(yv, gv, c[2]) for c in cands]
    sel = select_most_accurate(names, acc, gap, target=max_gap, kind="difference", criterion="TPR-gap RMS")
    if sel.index is None:
        i = int(np.argmin(gap))
        return names[i], cands[i][1], "none met; smallest gap"
    return names[sel.index], cands[sel.index][1], "met"


def fairlearn_thresholds(score: np.ndarray, y: np.ndarray, g: np.ndarray) -> Any:
    """Fairlearn's ThresholdOptimizer (equalized odds) fit on a model's positive-class scores.

    The fitted optimizer predicts from a one-column array of scores, ``score[:, None]``.
    """
    from fairlearn.postprocessing import ThresholdOptimizer
    from sklearn.base import BaseEstimator, ClassifierMixin

    class ScoreColumn(ClassifierMixin, BaseEstimator):
        """A model's positive-class probability, given as the only feature."""

        def fit(self, X: Any, y: Any) -> ScoreColumn:
            self.classes_ = np.array([0, 1])
            return self

        def predict_proba(self, X: Any) -> np.ndarray:
            p = np.asarray(X, dtype=float)[:, 0]
            return np.column_stack([1 - p, p])

        def predict(self, X: Any) -> np.ndarray:
            return (np.asarray(X, dtype=float)[:, 0] >= 0.5).astype(int)

    fl = ThresholdOptimizer(estimator=ScoreColumn().fit(score[:2, None], [0, 1]), constraints="equalized_odds",
                            objective="accuracy_score", prefit=True, predict_method="predict_proba")
    return fl.fit(score[:, None], y, sensitive_features=g)


def thresholds_on_validation(sv: np.ndarray, yv: np.ndarray, gv: np.ndarray, limit: float,
                             grid: list[float], keep_plain: bool) -> tuple[Callable[..., np.ndarray], str]:
    """Group thresholds (equalized odds) fitted on a model's validation scores ``sv``, the
    difference bound chosen on validation by :func:`choose`; with ``keep_plain`` the model's own
    0.5 cut-off is a candidate too (kept when no threshold set is more accurate there).

    Returns ``decide(scores, genders) -> decisions`` and a note naming the choice.
    """
    from fairslm.mitigation.postprocessing import GroupThresholdOptimizer

    cands: list[tuple[str, Any, np.ndarray]] = []
    if keep_plain:
        cands.append(("cut-off 0.5", None, (sv >= 0.5).astype(int)))
    for d in grid:
        o = GroupThresholdOptimizer(constraint="equalized_odds", max_difference=d).fit(yv, sv, sensitive_features=gv)
        cands.append((f"EOdds diff <= {d}", o, o.predict(sv, sensitive_features=gv)))
    name, opt, status = choose(cands, yv, gv, limit)

    def decide(s: np.ndarray, g: np.ndarray) -> np.ndarray:
        return (s >= 0.5).astype(int) if opt is None else opt.predict(s, sensitive_features=g)

    return decide, f"{name} ({status})"


Report = Callable[[str, np.ndarray, np.ndarray, float, str], None]


def head_only_rows(E: dict[str, np.ndarray], D: dict[str, pd.DataFrame], args: Any, seed: int,
                   report: Report) -> None:
    """Fit every head-only row for one seed; ``report(name, test pred, swapped pred, s, note)``."""
    from fairslm.mitigation.head_only import (
        ExponentiatedGradientHead,
        HeadOnlyClassifier,
        LeaceHead,
    )
    from fairslm.mitigation.preprocessing import Reweighing

    ytr, gtr = labels_and_groups(D["train"])
    yv, gv = labels_and_groups(D["validation"])
    gap = float("inf")

    def sweep(label: str, make: Any, grid: list[Any], X: np.ndarray = E["train"], y: np.ndarray = ytr,
              g: np.ndarray = gtr, w: Any = None) -> Any:
        t0 = time.perf_counter()
        cands = []
        for p in grid:
            m = make(p).fit(X, y, sensitive_features=g, **({} if w is None else {"sample_weight": w}))
            cands.append((str(p), m, m.predict(E["validation"])))
        name, model, status = choose(cands, yv, gv, gap)
        per_fit = (time.perf_counter() - t0) / len(grid)
        report(f"head: {label}", model.predict(E["test"]), model.predict(E["test_swap"]), per_fit,
               f"{name} ({status})" if len(grid) > 1 else "")
        return model

    base = sweep("baseline", lambda _: HeadOnlyClassifier(seed=seed), [None])
    gap = (1 - args.cut) * gap_rms(yv, gv, base.predict(E["validation"]))
    # Reweighing (Kamiran & Calders 2012): w = P(g) P(y) / P(g, y).
    w = Reweighing().fit(None, ytr, sensitive_features=gtr).transform(None, ytr, sensitive_features=gtr)
    sweep("reweighing", lambda _: HeadOnlyClassifier(seed=seed), [None], w=w)
    Xa = np.vstack([E["train"], E["train_swap"]])
    ga = np.concatenate([gtr, np.where(gtr == "M", "F", "M")])
    aug = sweep("counterfactual augmentation", lambda _: HeadOnlyClassifier(seed=seed), [None],
          X=Xa, y=np.concatenate([ytr, ytr]), g=ga)
    sweep("penalty (equalized odds)", lambda p: HeadOnlyClassifier(
        fairness="penalty", constraint="equalized_odds", penalty_weight=p, seed=seed), args.penalty_grid)
    sweep("constraint target (eq. odds diff)", lambda d: HeadOnlyClassifier(
        fairness="constraint", constraint="equalized_odds", max_difference=d, seed=seed), args.difference_grid)
    sweep("adversary (equalized odds)", lambda a: HeadOnlyClassifier(
        fairness="adversary", constraint="equalized_odds", adversary_weight=a, seed=seed), args.adversary_grid)

    # Group thresholds on the baseline head's validation scores.
    sv, st, ss = (base.predict_proba(E[k])[:, 1] for k in ("validation", "test", "test_swap"))
    gt = D["test"].gender.to_numpy()
    t0 = time.perf_counter()
    decide, note = thresholds_on_validation(sv, yv, gv, gap, args.difference_grid, keep_plain=False)
    report("head: group thresholds (fairslm)", decide(st, gt), decide(ss, gt),
           (time.perf_counter() - t0) / len(args.difference_grid), note)
    # Counterfactual augmentation, then group thresholds (the recipe's former third step).
    t0 = time.perf_counter()
    av = aug.predict_proba(E["validation"])[:, 1]
    decide, note = thresholds_on_validation(av, yv, gv, gap, args.difference_grid, keep_plain=True)
    report("head: augmentation + group thresholds", decide(aug.predict_proba(E["test"])[:, 1], gt),
           decide(aug.predict_proba(E["test_swap"])[:, 1], gt), (time.perf_counter() - t0), note)

    t0 = time.perf_counter()
    fl = fairlearn_thresholds(sv, yv, gv)
    elapsed = time.perf_counter() - t0
    report("head: Fairlearn ThresholdOptimizer", fl.predict(st[:, None], sensitive_features=gt, random_state=seed),
           fl.predict(ss[:, None], sensitive_features=gt, random_state=seed), elapsed, "equalized_odds")
    sweep("Fairlearn ExponentiatedGradient", lambda b: ExponentiatedGradientHead(
        constraint="equalized_odds", difference_bound=b, C=10.0, seed=seed), args.eg_grid)
    sweep("LEACE", lambda c: LeaceHead(C=c, seed=seed), args.c_grid)
    sweep("LEACE (label-balanced eraser fit)", lambda c: LeaceHead(
        C=c, fit_eraser_on="label_balanced", seed=seed), args.c_grid)
