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
            overall_value=overall.get(m, np.nan),
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


def _reading(criterion: str, worst: str, ref: str, r: float, threshold: float) -> str:
    phrase = CRITERIA[criterion][1]
    if not np.isfinite(r):
        return f"The {criterion.replace('_', ' ')} ratio is undefined for these groups."
    pct = abs(1.0 - r) * 100
    if worst == ref:
        core = f"every group {phrase} at the rate of {ref} (ratio {r:.2f})"
        core = core[0].upper() + core[1:]
    elif criterion == "equalized_odds":
        core = (
            f"{worst} {phrase} from {ref}'s by a ratio of {r:.2f} "
            f"(the worse of the TPR and FPR ratios)"
        )
    elif r <= 1:
        core = f"{worst} {phrase} {pct:.0f}% less often than {ref} (ratio {r:.2f})"
    else:
        core = f"{worst} {phrase} {pct:.0f}% more often than {ref} (ratio {r:.2f})"
    rule = f"the policy asks for a ratio of at least {threshold:g} (1.0 is parity)"
    return f"{core}; {rule}."


def _pair(lo: Any, hi: Any) -> tuple[float, float]:
    return (float(lo), float(hi))


def build_view(
    vd: ViewData, *, crit_names: tuple[str, ...], threshold: float, min_group_size: int
) -> GroupView:
    """Freeze one view's numbers, intervals and tests into a :class:`GroupView`."""
    t = vd.table
    labels = t.group_labels
    values = t.group_values
    n_total = float(vd.counts.sum())
    groups = []
    for i, lab in enumerate(labels):
        metrics = {m: float(v[i]) for m, v in vd.rates.items()}
        undefined = {
            m: (undefined_reason(m) if m in BINARY_METRICS else SCORE_METRICS[m])
            for m, v in metrics.items()
            if np.isnan(v)
        }
        intervals = {m: _pair(lo[i], hi[i]) for m, (lo, hi) in vd.group_ci.items()}
        groups.append(
            GroupResult(
                label=lab,
                values=dict(zip(t.features, values[i], strict=True)),
                count=int(round(vd.counts[i])),
                share=float(vd.counts[i] / n_total),
                weight=float(vd.weights[i]),
                sufficient=bool(vd.sufficient[i]),
                metrics=metrics,
                undefined=undefined,
                confusion={
                    "tp": float(vd.conf[i, 1, 1]),
                    "fp": float(vd.conf[i, 0, 1]),
                    "fn": float(vd.conf[i, 1, 0]),
                    "tn": float(vd.conf[i, 0, 0]),
                },
                intervals=intervals,
            )
        )
    disp: dict[str, DisparityResult] = {}
    for m, d in vd.arrays.items():
        ci = vd.disp_ci.get(m)
        test = vd.tests.get(m)
        by_group: dict[str, dict[str, Any]] = {}
        for i, lab in enumerate(labels):
            entry: dict[str, Any] = {"ratio": float(d.ratio[i]), "difference": float(d.difference[i])}
            if ci is not None:
                entry["ratio_interval"] = list(_pair(ci["ratio"][0][i], ci["ratio"][1][i]))
                entry["difference_interval"] = list(
                    _pair(ci["difference"][0][i], ci["difference"][1][i])
                )
            if test is not None:
                entry["p_value"] = float(test[0][i])
                entry["p_value_holm"] = float(test[1][i])
                entry["test"] = str(test[2][i])
            by_group[lab] = entry
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
        reading = _reading(c, worst_label or "?", ref_label, float(r), threshold)
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
