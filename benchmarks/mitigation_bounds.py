"""How much of a fine-tuned row's result is test-split noise, and what the test split allows.

Two read-outs for the fine-tuned rows of ``benchmarks/mitigation.py``, one seed at a time:

* **Test-split noise.** A paired bootstrap over the test rows (each replicate resamples the
  rows once and scores both the model's and the same-seed baseline's decisions on it; Efron &
  Tibshirani 1993, ch. 16) gives a 95% percentile interval of the TPR-gap cut and of the
  accuracy change. When seeds differ by less than these intervals are wide, the seed-to-seed
  spread is what 1,278 test rows can resolve, not a property of the method.
* **Upper bound of group thresholds.** The most accurate pair of decision thresholds (one for
  women, one for men) whose TPR-gap cut reaches 60% and 70%, **fitted on the test split
  itself**. No method can choose them that way; the figures bound what any post-processing of
  that model's scores by group thresholds (Hardt et al., "Equality of Opportunity in Supervised
  Learning", 2016) could do, and show where a target lies against them.

TPR-gap RMS = sqrt(mean over the two classes of (TPR_M - TPR_F)^2) (De-Arteaga et al. 2019).
"""

from __future__ import annotations

from typing import Any

import numpy as np

CUTS = (0.6, 0.7)


def _cell_masks(y: np.ndarray, g: np.ndarray) -> list[tuple[np.ndarray, int]]:
    return [((y == cls) & (g == sex), cls) for cls in (1, 0) for sex in ("M", "F")]


def paired_interval(y: np.ndarray, g: np.ndarray, pred: np.ndarray, base: np.ndarray,
                    *, n_replicates: int = 2000, seed: int = 0) -> dict[str, list[float]]:
    """95% paired-bootstrap intervals of the cut (%) and accuracy change (points) vs ``base``."""
    rng = np.random.default_rng(seed)
    n = y.size
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=n_replicates).astype(np.float64)

    def rms(p: np.ndarray) -> np.ndarray:
        tpr = []
        for mask, cls in _cell_masks(y, g):
            hit = w @ (mask & (p == cls)).astype(np.float64)
            tot = w @ mask.astype(np.float64)
            tpr.append(np.divide(hit, tot, out=np.full(n_replicates, np.nan), where=tot > 0))
        gaps = np.stack([tpr[0] - tpr[1], tpr[2] - tpr[3]])
        return np.sqrt(np.mean(gaps * gaps, axis=0))

    cut = 100 * (1 - rms(pred) / rms(base))
    dacc = 100 * (w @ ((pred == y).astype(np.float64) - (base == y).astype(np.float64))) / n
    q = [2.5, 97.5]
    return {"cut": np.nanpercentile(cut, q).tolist(), "dacc": np.nanpercentile(dacc, q).tolist()}


def _per_group_curves(y: np.ndarray, scores: np.ndarray, thresholds: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each threshold: surgeon TPR, nurse TPR (TNR) and number of correct decisions."""
    pred = scores[None, :] >= thresholds[:, None]
    pos, neg = y == 1, y == 0
    tpr1 = (pred & pos).sum(axis=1) / max(pos.sum(), 1)
    tpr0 = (~pred & neg).sum(axis=1) / max(neg.sum(), 1)
    correct = (pred & pos).sum(axis=1) + (~pred & neg).sum(axis=1)
    return tpr1, tpr0, correct


def threshold_upper_bound(y: np.ndarray, g: np.ndarray, scores: np.ndarray, base: np.ndarray
                          ) -> dict[str, list[float] | None]:
    """Best accuracy change (points) and cut (%) of test-fitted group thresholds, per cut."""
    base_acc = float((base == y).mean())
    base_rms = float(np.sqrt(np.mean([
        ((base[(y == c) & (g == "M")] == c).mean() - (base[(y == c) & (g == "F")] == c).mean()) ** 2
        for c in (1, 0)])))
    curves = {}
    for sex in ("M", "F"):
        m = g == sex
        ts = np.concatenate([np.unique(scores[m]), [np.inf]])
        curves[sex] = _per_group_curves(y[m], scores[m], ts)
    m1, m0, mc = curves["M"]
    f1, f0, fc = curves["F"]
    rms = np.sqrt(((m1[:, None] - f1[None, :]) ** 2 + (m0[:, None] - f0[None, :]) ** 2) / 2)
    acc = (mc[:, None] + fc[None, :]) / y.size
    cut = 1 - rms / base_rms
    out: dict[str, list[float] | None] = {}
    for need in CUTS:
        ok = cut >= need
        if not ok.any():
            out[f"{need:.0%}"] = None
            continue
        i = np.flatnonzero(ok.ravel())[np.argmax(acc.ravel()[ok.ravel()])]
        out[f"{need:.0%}"] = [100 * (float(acc.ravel()[i]) - base_acc), 100 * float(cut.ravel()[i])]
    return out


def bounds_for_seed(y: np.ndarray, g: np.ndarray, base_scores: np.ndarray,
                    models: dict[str, tuple[np.ndarray, np.ndarray | None]], seed: int
                    ) -> dict[str, dict[str, Any]]:
    """Per model (decisions, scores or None): its noise interval and its threshold bound."""
    base = (base_scores >= 0.5).astype(int)
    out: dict[str, dict[str, Any]] = {}
    for name, (pred, scores) in models.items():
        row: dict[str, Any] = {}
        if name != "baseline":
            row["interval"] = paired_interval(y, g, pred, base, seed=seed)
        if scores is not None:
            row["threshold_bound"] = threshold_upper_bound(y, g, scores, base)
        out[name] = row
    return out


def print_bounds(bounds: dict[int, dict[str, dict[str, Any]]]) -> None:
    print()
    print("Test-split noise (95% paired bootstrap over test rows) and the upper bound of group "
          "thresholds fitted on the test split itself (not a method; see mitigation_bounds.py); "
          "every row against the one-epoch baseline")
    print("| seed | model | cut % [95%] | Δacc pts [95%] | best Δacc at cut ≥ 60% | best Δacc at cut ≥ 70% |")
    print("|---|---|---|---|---|---|")

    def fmt_bound(b: list[float] | None) -> str:
        return "unreachable" if b is None else f"{b[0]:+.2f} (cut {b[1]:.0f}%)"

    for seed, rows in sorted(bounds.items()):
        for name, r in rows.items():
            iv = r.get("interval")
            cut = "—" if iv is None else f"[{iv['cut'][0]:.0f}, {iv['cut'][1]:.0f}]"
            dacc = "—" if iv is None else f"[{iv['dacc'][0]:+.2f}, {iv['dacc'][1]:+.2f}]"
            tb = r.get("threshold_bound")
            b60 = "—" if tb is None else fmt_bound(tb["60%"])
            b70 = "—" if tb is None else fmt_bound(tb["70%"])
            print(f"| {seed} | {name} | {cut} | {dacc} | {b60} | {b70} |")
