"""One view of an audit: the groups of one grouping, for one positive class.

:func:`prepare_view` derives every number of a view from the count table;
:func:`build_view` turns them (with optional intervals and tests) into a :class:`GroupView`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.audit._result import CriterionResult, DisparityResult, GroupResult, GroupView
from fairslm.metrics import (
    BINARY_METRICS,
    CRITERIA,
    LOWER_IS_BETTER,
    SCORE_METRICS,
    CountTable,
    DisparityArrays,
    compute_rates,
    disparity,
    expected_calibration_error,
    fold_ratio,
    roc_auc_from_bins,
    undefined_reason,
)

__all__ = ["ViewData", "build_view", "criterion_summary", "prepare_view", "score_rates"]

Array = NDArray[np.float64]
Interval = tuple[Array, Array]


@dataclass
class ViewData:
    """Everything derived for one view before it is frozen into a :class:`GroupView`."""

    name: str
    label: str | None
    table: CountTable
    pos: object
    root_index: NDArray[np.int64]
    conf: Array
    conf_sq: Array | None
    counts: Array
    weights: Array
    sufficient: NDArray[np.bool_]
    rates: dict[str, Array]
    overall: dict[str, float]
    ref: str | int
    arrays: dict[str, DisparityArrays]
    # filled by the uncertainty pass
    group_ci: dict[str, Interval] = field(default_factory=dict)
    disp_ci: dict[str, dict[str, Any]] = field(default_factory=dict)
    crit_ci: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    tests: dict[str, tuple[Array, Array, NDArray[np.str_]]] = field(default_factory=dict)


def score_rates(table: CountTable, pos: object, n_calibration_bins: int) -> dict[str, Array]:
    """ROC AUC and calibration error per group of ``table`` for the positive class ``pos``."""
    if table.score_weight_sums is None:
        return {}
    p = table.classes.index(pos)
    w = table.score_weight_sums
    pos_w = w[:, p, :]
    neg_w = w.sum(axis=1) - pos_w
    out = {"roc_auc": roc_auc_from_bins(pos_w, neg_w)}
    if table.score_sums is not None:
        out["calibration_error"] = expected_calibration_error(
            w.sum(axis=1), pos_w, table.score_sums.sum(axis=1), n_calibration_bins
        )
    return out


def prepare_view(
    name: str,
    label: str | None,
    table: CountTable,
    root: CountTable,
    pos: object,
    *,
    ref: str | int,
    overall: dict[str, float],
    min_group_size: int,
    n_calibration_bins: int,
) -> ViewData:
    """Rates, eligibility and point disparities of one view."""
    conf = table.binary(pos)
    conf_sq = table.binary(pos, source=table.weight_sq_sums) if table.weighted else None
    counts = table.counts.sum(axis=(1, 2))
    rates = compute_rates(conf)
    rates.update(score_rates(table, pos, n_calibration_bins))
    sufficient = counts >= min_group_size
    arrays = {
        m: disparity(
            v, eligible=sufficient, sizes=counts, reference=ref,
            overall_value=overall.get(m, np.nan), lower_is_better=m in LOWER_IS_BETTER,
        )
        for m, v in rates.items()
    }
    return ViewData(
        name=name,
        label=label,
        table=table,
        pos=pos,
        root_index=root.group_index(table.features),
        conf=conf,
        conf_sq=conf_sq,
        counts=counts,
        weights=table.weight_sums.sum(axis=(1, 2)),
        sufficient=sufficient,
        rates=rates,
        overall=overall,
        ref=ref,
        arrays=arrays,
    )


def criterion_summary(
    ratios: list[Any], diffs: list[Any]
) -> tuple[Any, Any]:
    """The worse of component disparities: smallest ratio, largest difference (NaN-aware).

    Fairlearn's ``equalized_odds_ratio``/``_difference`` with ``agg="worst_case"``.
    """
    r, d = ratios[0], diffs[0]
    for x, y in zip(ratios[1:], diffs[1:], strict=True):
        r = np.fmin(r, x)
        d = np.fmax(d, y)
    return r, d


# What a group's ratio of each metric measures, for the readings; a phrase of a rate of
# mistakes says how often the group suffers the mistake.
_METRIC_PHRASES = {
    "selection_rate": "receives positive decisions",
    "true_positive_rate": "has its qualified members (actual positives) selected",
    "false_positive_rate": "gets false positives (actual negatives decided positive)",
    "precision": "has its positive decisions turn out correct",
    "error_rate": "has decisions that are wrong",
}


def _reading(
    criterion: str, metric: str, worst: str, ref: str, r: float, r_worst: float,
    threshold: float,
) -> str:
    """One sentence naming the group worse off, how much worse, and the policy's threshold.

    ``r`` is the criterion's (folded) ratio, ``r_worst`` the worst group's own ratio of
    ``metric`` against the reference. For a rate of mistakes (lower is better) the group
    worse off has the higher rate, so the sentence says how many times as often.
    """
    phrase = _METRIC_PHRASES.get(metric, CRITERIA[criterion][1])
    if not np.isfinite(r):
        return f"The {criterion.replace('_', ' ')} ratio is undefined for these groups."
    if worst == ref or r_worst == 1.0:
        core = f"every group {CRITERIA[criterion][1]} at the rate of {ref} (ratio {r:.2f})"
        core = core[0].upper() + core[1:]
    elif metric in LOWER_IS_BETTER and r_worst > 1:
        times = "infinitely" if not np.isfinite(r_worst) else f"{r_worst:.1f}\u00d7"
        how = f"where {ref} has none" if not np.isfinite(r_worst) else f"{times} as often as {ref}"
        core = f"{worst} {phrase} {how} (ratio {r:.2f})"
    elif r_worst <= 1:
        core = f"{worst} {phrase} {abs(1 - r_worst) * 100:.0f}% less often than {ref} (ratio {r:.2f})"
    else:
        core = f"{worst} {phrase} {(r_worst - 1) * 100:.0f}% more often than {ref} (ratio {r:.2f})"
    if criterion == "equalized_odds":
        which = "FPR" if metric == "false_positive_rate" else "TPR"
        core += f", on the {which}: the worse of the TPR and FPR ratios"
    rule = f"the policy asks for a ratio of at least {threshold:g} (1.0 is parity)"
    return f"{core}; {rule}."


def build_view(
    vd: ViewData, *, crit_names: tuple[str, ...], threshold: float, min_group_size: int
) -> GroupView:
    """Freeze one view's numbers, intervals and tests into a :class:`GroupView`."""
    t = vd.table
    labels = t.group_labels
    values = t.group_values
    n_total = float(vd.counts.sum())
    # Plain Python lists, converted once: per-element numpy indexing dominates at 10,000 groups.
    rates = {m: v.tolist() for m, v in vd.rates.items()}
    reasons = {m: undefined_reason(m) if m in BINARY_METRICS else SCORE_METRICS[m] for m in rates}
    group_ci = {m: (lo.tolist(), hi.tolist()) for m, (lo, hi) in vd.group_ci.items()}
    counts, weights, sufficient = vd.counts.tolist(), vd.weights.tolist(), vd.sufficient.tolist()
    tp, fp = vd.conf[:, 1, 1].tolist(), vd.conf[:, 0, 1].tolist()
    fn, tn = vd.conf[:, 1, 0].tolist(), vd.conf[:, 0, 0].tolist()
    groups = []
    metric_names = list(rates)
    metric_rows = zip(*rates.values(), strict=True) if rates else iter(() for _ in labels)
    interval_names = list(group_ci)
    interval_rows = (
        zip(*(zip(lo, hi, strict=True) for lo, hi in group_ci.values()), strict=True)
        if group_ci else iter(() for _ in labels)
    )
    for lab, vals, row, ci_row, n_i, w_i, ok_i, tp_i, fp_i, fn_i, tn_i in zip(
        labels, values, metric_rows, interval_rows, counts, weights, sufficient, tp, fp, fn, tn,
        strict=True,
    ):
        metrics = dict(zip(metric_names, row, strict=True))
        groups.append(
            GroupResult(
                label=lab,
                values=dict(zip(t.features, vals, strict=True)),
                count=int(round(n_i)),
                share=n_i / n_total,
                weight=w_i,
                sufficient=ok_i,
                metrics=metrics,
                undefined={m: reasons[m] for m, v in metrics.items() if v != v},  # v != v: NaN
                confusion={"tp": tp_i, "fp": fp_i, "fn": fn_i, "tn": tn_i},
                intervals=dict(zip(interval_names, ci_row, strict=True)),
            )
        )
    disp: dict[str, DisparityResult] = {}
    for m, d in vd.arrays.items():
        ci = vd.disp_ci.get(m)
        test = vd.tests.get(m)
        ratio, difference = d.ratio.tolist(), d.difference.tolist()
        # Dict literals over zipped columns: this loop runs once per group and metric.
        if ci is not None and test is not None:
            entries = [
                {"ratio": r, "difference": df, "ratio_interval": [rl, rh],
                 "difference_interval": [dl, dh], "p_value": p, "p_value_holm": ph, "test": tn}
                for r, df, rl, rh, dl, dh, p, ph, tn in zip(
                    ratio, difference, ci["ratio"][0].tolist(), ci["ratio"][1].tolist(),
                    ci["difference"][0].tolist(), ci["difference"][1].tolist(),
                    test[0].tolist(), test[1].tolist(), test[2].tolist(), strict=True,
                )
            ]
        elif ci is not None:
            entries = [
                {"ratio": r, "difference": df, "ratio_interval": [rl, rh],
                 "difference_interval": [dl, dh]}
                for r, df, rl, rh, dl, dh in zip(
                    ratio, difference, ci["ratio"][0].tolist(), ci["ratio"][1].tolist(),
                    ci["difference"][0].tolist(), ci["difference"][1].tolist(), strict=True,
                )
            ]
        elif test is not None:
            entries = [
                {"ratio": r, "difference": df, "p_value": p, "p_value_holm": ph, "test": tn}
                for r, df, p, ph, tn in zip(
                    ratio, difference, test[0].tolist(), test[1].tolist(), test[2].tolist(),
                    strict=True,
                )
            ]
        else:
            entries = [{"ratio": r, "difference": df}
                       for r, df in zip(ratio, difference, strict=True)]
        by_group: dict[str, dict[str, Any]] = dict(zip(labels, entries, strict=True))
        ref_label = "overall" if d.reference_index is None else labels[d.reference_index]
        disp[m] = DisparityResult(
            metric=m,
            reference=ref_label,
            reference_value=d.reference_value,
            ratio=d.summary_ratio,
            difference=d.summary_difference,
            worst_group=None if d.worst_index is None else labels[d.worst_index],
            by_group=by_group,
            ratio_interval=None if ci is None else ci["summary_ratio"],
            difference_interval=None if ci is None else ci["summary_difference"],
        )
    crits = [
        _criterion(vd, c, labels, threshold=threshold, min_group_size=min_group_size)
        for c in crit_names
    ]
    return GroupView(
        name=vd.name,
        features=t.features,
        groups=tuple(groups),
        disparities=disp,
        criteria=tuple(crits),
        label=vd.label,
    )


def _criterion(
    vd: ViewData, c: str, labels: list[str], *, threshold: float, min_group_size: int
) -> CriterionResult:
    mets = CRITERIA[c][0]
    ds = [vd.arrays[m] for m in mets]
    r, diff = criterion_summary([x.summary_ratio for x in ds], [x.summary_difference for x in ds])
    rs = [x.summary_ratio for x in ds]
    pick = int(np.nanargmin(rs)) if len(ds) > 1 and not all(np.isnan(rs)) else 0
    worst_idx = ds[pick].worst_index
    failing: set[str] = set()
    for d in ds:
        folded = fold_ratio(d.ratio)
        for i in np.flatnonzero(vd.sufficient & (folded < threshold)):
            failing.add(labels[i])
    if int(vd.sufficient.sum()) < 2:
        verdict = "insufficient"
    elif np.isnan(r):
        verdict = "undefined"
    else:
        verdict = "pass" if r >= threshold else "fail"
    # The reference of the component that decides the verdict (with "min_max" the best-off
    # group can differ between TPR and FPR).
    first = ds[pick]
    ref_label = "overall" if first.reference_index is None else labels[first.reference_index]
    worst_label = None if worst_idx is None else labels[worst_idx]
    if verdict == "insufficient":
        reading = (
            f"Fewer than two groups have at least {min_group_size} rows, so "
            f"{c.replace('_', ' ')} cannot be judged."
        )
    else:
        # The summary ratio is two-sided: a group far above the reference (1.8 times its
        # selection rate folds to 0.56) can decide it rather than the group worst off. The
        # reading then names that group, so that its numbers are the ones that decide.
        shown_idx = worst_idx
        folded = fold_ratio(first.ratio)
        judged = np.flatnonzero(vd.sufficient & ~np.isnan(folded))
        if worst_idx is not None and judged.size:
            drive = int(judged[np.argmin(folded[judged])])
            if folded[drive] < folded[worst_idx]:
                shown_idx = drive
        shown = labels[shown_idx] if shown_idx is not None else "?"
        r_shown = float(first.ratio[shown_idx]) if shown_idx is not None else float("nan")
        reading = _reading(c, mets[pick], shown, ref_label, float(r), r_shown, threshold)
    if vd.label is not None:
        reading = f"For class {vd.label}: {reading}"
    ci = vd.crit_ci.get(c)
    return CriterionResult(
        name=c,
        metrics=mets,
        ratio=float(r),
        difference=float(diff),
        threshold=float(threshold),
        verdict=verdict,
        reference=ref_label,
        worst_group=worst_label,
        failing_groups=tuple(sorted(failing)),
        reading=reading,
        ratio_interval=None if ci is None else ci["ratio"],
        difference_interval=None if ci is None else ci["difference"],
    )
