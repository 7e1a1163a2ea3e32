"""Group means, paired contrasts and similarity summaries of a generation audit.

Inputs are per-pair arrays: for each measure ``(x, y)``, its value on the original output and
on the counterfactual output of each pair, and ``side`` (pairs x 2), the group each version was
written for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.audit._paired import adjust_family, bootstrap_means, mean_interval, paired_test

__all__ = ["direction_summaries", "group_summaries", "measure_contrasts", "similarity_summary"]

Array = NDArray[np.float64]
PerPair = Mapping[str, tuple[Array, Array]]
_SIMILARITIES = ("embedding_cosine", "rouge_l", "decision_consistency")


def contrast_name(group: str, reference: str) -> str:
    return f"{group} - {reference}"


def measure_contrasts(
    per_pair: PerPair,
    side: NDArray[np.object_],
    groups: list[str],
    reference: str,
    binary: set[str],
    *,
    n_bootstrap: int,
    confidence: float,
    alpha: float,
    rng: np.random.Generator,
) -> dict[str, dict[str, Any]]:
    """Per measure and non-reference group: the paired difference ``group - reference``."""
    names = list(per_pair)
    out: dict[str, dict[str, Any]] = {k: {} for k in names}
    for g in groups:
        if g == reference:
            continue
        label = contrast_name(g, reference)
        mask = np.array([{a, b} == {g, reference} for a, b in side], dtype=bool)
        n = int(mask.sum())
        if n == 0:
            for k in names:
                out[k][label] = {"n": 0, "mean_difference": None, "interval": None,
                                 "p_value": None, "p_holm": None, "significant": False,
                                 "reason": f"no pair swaps {g} and {reference}"}
            continue
        g_first = side[mask, 0] == g
        cols, tests = [], {}
        for k in names:
            x, y = per_pair[k][0][mask], per_pair[k][1][mask]
            v_g, v_r = np.where(g_first, x, y), np.where(g_first, y, x)
            cols.append(v_g - v_r)
            tests[k] = {"n": n, "mean_group": float(v_g.mean()),
                        "mean_reference": float(v_r.mean()),
                        **paired_test(v_g - v_r, v_r, v_g, k in binary)}
        diffs = np.column_stack(cols)
        reps = bootstrap_means(diffs, n_bootstrap, rng)
        adjust_family(tests, alpha)
        for j, k in enumerate(names):
            summary = mean_interval(diffs[:, j], reps[:, j], confidence)
            out[k][label] = {"mean_difference": summary["mean"],
                             "interval": summary["interval"], **tests[k]}
    return out


def group_summaries(
    per_pair: PerPair,
    side: NDArray[np.object_],
    groups: list[str],
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> dict[str, dict[str, Any]]:
    """Per measure and group: mean over the outputs written for that group, with interval."""
    names = list(per_pair)
    out: dict[str, dict[str, Any]] = {k: {} for k in names}
    for g in groups:
        first, second = side[:, 0] == g, side[:, 1] == g
        cols = np.column_stack([np.concatenate([per_pair[k][0][first], per_pair[k][1][second]])
                                for k in names])
        reps = bootstrap_means(cols, n_bootstrap, rng) if cols.shape[0] else None
        for j, k in enumerate(names):
            out[k][g] = mean_interval(cols[:, j], None if reps is None else reps[:, j], confidence)
    return out


def direction_summaries(
    per_pair: PerPair, side: NDArray[np.object_], binary: set[str]
) -> dict[str, dict[str, Any]]:
    """Per measure and direction (``female->male``): mean change original -> counterfactual."""
    out: dict[str, dict[str, Any]] = {k: {} for k in per_pair}
    directions = sorted({f"{a}->{b}" for a, b in side})
    labels = np.array([f"{a}->{b}" for a, b in side], dtype=object)
    for d in directions:
        mask = labels == d
        for k, (x, y) in per_pair.items():
            test = paired_test(y[mask] - x[mask], x[mask], y[mask], k in binary)
            out[k][d] = {"n": int(mask.sum()), "mean_change": float((y[mask] - x[mask]).mean()),
                         "test": test["test"], "p_value": test.get("p_value")}
    return out


def similarity_summary(
    sims: Mapping[str, Array],
    side: NDArray[np.object_],
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Mean similarity of the pairs' outputs with intervals, by direction, and against chance."""
    labels = np.array([f"{a}->{b}" for a, b in side], dtype=object)
    out: dict[str, Any] = {"identical_share": float(sims["identical"].mean())}
    for key in _SIMILARITIES:
        if key not in sims:
            continue
        values = sims[key]
        reps = bootstrap_means(values[:, None], n_bootstrap, rng)[:, 0]
        entry = mean_interval(values, reps, confidence)
        entry["by_direction"] = {d: {"n": int((labels == d).sum()),
                                     "mean": float(values[labels == d].mean())}
                                 for d in sorted(set(labels.tolist()))}
        base = sims.get(f"{key}_resampling")
        if base is not None:
            gap = values - base
            gap_reps = bootstrap_means(np.column_stack([base, gap]), n_bootstrap, rng)
            entry["resampling"] = {
                **mean_interval(base, gap_reps[:, 0], confidence),
                "difference": mean_interval(gap, gap_reps[:, 1], confidence),
                **paired_test(gap, base, values, False),
            }
        out[key] = entry
    return out
