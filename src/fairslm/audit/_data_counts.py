"""The count sections of the data audit, derived from one count table.

Representation (who is in the data), label base rates (labeling bias) and aggregation bias (a
group's label distribution against the pooled one) are all functions of the
``(group, label) -> rows, weight sum`` table, the labels standing in for the decisions. So
they are computed from a :class:`~fairslm.metrics.CountTable`, whichever engine built it: numpy
for a ``Dataset`` in memory, Spark for data that stays on a cluster.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from fairslm.audit._predictions_audit import audit_count_table
from fairslm.metrics import CountTable

__all__ = ["SPLIT_FEATURE", "count_sections", "sensitive_views"]

# The split column rides along in the count table as one more feature under this name, so the
# shares per split come from the same table; it is never audited as a group.
SPLIT_FEATURE = "fairslm_split"
# The labels' statistical parity gets intervals from this many bootstrap replicates of the
# table (cheap: the draw is over cells, not rows).
LABEL_BOOTSTRAP = 1000
_Z95 = 1.959963984540054


def _wilson(rate: float, n: float) -> list[float] | None:
    """Wilson score interval for a proportion (Wilson, JASA 1927)."""
    if n <= 0 or not math.isfinite(rate):
        return None
    z2 = _Z95**2
    centre = (rate + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def _katz(r1: float, n1: float, r2: float, n2: float) -> list[float] | None:
    """Katz log interval for the ratio of two proportions r1/r2 (Katz et al., Biometrics 1978)."""
    a, c = r1 * n1, r2 * n2
    if a <= 0 or c <= 0 or n1 <= 0 or n2 <= 0:
        return None
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    ratio = r1 / r2
    return [ratio * math.exp(-_Z95 * se), ratio * math.exp(_Z95 * se)]


def sensitive_views(features: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    """The views of the audit: the intersection first (with several features), then each one."""
    views = [(f, (f,)) for f in features]
    if len(features) > 1:
        views.insert(0, (" & ".join(features), features))
    return views


def _by_label(table: CountTable) -> tuple[list[str], dict[str, int], np.ndarray, np.ndarray]:
    """Group labels (sorted as text), their rows in the table, rows and weight per group."""
    labels = table.group_labels
    index = {g: i for i, g in enumerate(labels)}
    return sorted(labels), index, table.counts.sum(axis=(1, 2)), table.weight_sums.sum(axis=(1, 2))


def _representation(table: CountTable, sensitive: tuple[str, ...], split: bool,
                    reference: dict[str, dict[str, float]], factor: float,
                    min_group_size: int) -> dict[str, Any]:
    total_w = float(table.weight_sums.sum())
    out: dict[str, Any] = {}
    split_sizes: dict[str, int] = {}
    if split:
        st = table.marginal((SPLIT_FEATURE,))
        split_sizes = dict(zip(st.group_labels, st.counts.sum(axis=(1, 2)).astype(int).tolist(),
                               strict=True))
    for name, feats in sensitive_views(sensitive):
        m = table.marginal(feats)
        order, index, counts, wsum = _by_label(m)
        per_split: dict[tuple[str, str], int] = {}
        if split:
            ms = table.marginal((*feats, SPLIT_FEATURE))
            for vals, n in zip(ms.group_values, ms.counts.sum(axis=(1, 2)), strict=True):
                per_split[(", ".join(str(v) for v in vals[:-1]), str(vals[-1]))] = int(n)
        groups: dict[str, dict[str, Any]] = {}
        for g in order:
            i = index[g]
            entry: dict[str, Any] = {"count": int(counts[i]), "share": float(wsum[i]) / total_w}
            if split:
                entry["by_split"] = {
                    sp: {"count": per_split.get((g, sp), 0),
                         "share": per_split.get((g, sp), 0) / size}
                    for sp, size in sorted(split_sizes.items())
                }
            groups[g] = entry
        view: dict[str, Any] = {"features": list(feats), "groups": groups}
        if len(feats) > 1:
            levels = [sorted(str(v) for v in m.levels[j]) for j in range(len(feats))]
            combos = [", ".join(c) for c in itertools.product(*levels)]
            view["empty"] = [c for c in combos if c not in groups]
            view["tiny"] = [g for g, e in groups.items() if e["count"] < min_group_size]
        if name in reference:
            under = []
            for g, exp in reference[name].items():
                obs = groups.get(g, {}).get("share", 0.0)
                ratio = obs / exp if exp > 0 else float("nan")
                flag = bool(exp > 0 and ratio < 1.0 / factor)
                entry = groups.setdefault(g, {"count": 0, "share": 0.0})
                entry.update(reference_share=exp, representation_ratio=ratio,
                             under_represented=flag)
                if flag:
                    under.append(g)
            view["under_represented"] = under
            view["not_in_reference"] = [g for g in groups if g not in reference[name]]
        out[name] = view
    return out


def _labeling(table: CountTable, pos_label: object | None, min_group_size: int,
              threshold: float, seed: int) -> dict[str, Any]:
    targets = [pos_label] if pos_label is not None else list(table.classes)
    out: dict[str, Any] = {}
    for c in targets:
        # Labels stand in for decisions, so every error rate is 0 or undefined (0/0) by
        # construction; only the selection rate is read below.
        with np.errstate(invalid="ignore", divide="ignore"):
            res = audit_count_table(
                table, pos_label=c, min_group_size=min_group_size, threshold=threshold,
                criteria=["statistical_parity"], n_bootstrap=LABEL_BOOTSTRAP, seed=seed,
            )
        views: dict[str, Any] = {}
        for v in res.views:
            if v.label is not None and str(v.label) != str(c):
                continue  # a multiclass audit also holds one view per other class
            groups = {}
            for g in v.groups:
                rate = g.metrics["selection_rate"]
                ci = g.intervals.get("selection_rate")
                groups[g.label] = {
                    "count": g.count, "rate": rate, "sufficient": g.sufficient,
                    "ci": list(ci) if ci is not None else _wilson(rate, g.count),
                }
            d = v.disparities["selection_rate"]
            crit = v.criterion("statistical_parity")
            ratio_ci = list(d.ratio_interval) if d.ratio_interval is not None else None
            method = "audit engine bootstrap" if ratio_ci is not None else "Wilson / Katz log"
            if ratio_ci is None and d.worst_group in groups and d.reference in groups:
                lo, ref = groups[d.worst_group], groups[d.reference]
                ratio_ci = _katz(lo["rate"], lo["count"], ref["rate"], ref["count"])
            views[v.name] = {
                "groups": groups, "ratio": d.ratio, "difference": d.difference,
                "reference": d.reference, "worst_group": d.worst_group,
                "verdict": crit.verdict, "ratio_ci": ratio_ci,
                "interval_method": method,
            }
        out[str(c)] = views
    return out


def _aggregation(table: CountTable, sensitive: tuple[str, ...], tvd_threshold: float,
                 min_group_size: int) -> dict[str, Any]:
    from scipy.stats import chi2_contingency

    label_order = sorted(range(len(table.classes)), key=lambda k: str(table.classes[k]))
    label_names = [str(table.classes[k]) for k in label_order]
    out: dict[str, Any] = {}
    for feat in sensitive:
        m = table.marginal((feat,))
        order, index, _, _ = _by_label(m)
        rows = [index[g] for g in order]
        # Labels are the decisions too: summing over the decision axis gives rows per label.
        weights = m.weight_sums.sum(axis=2)[np.ix_(rows, label_order)]
        counts = m.counts.sum(axis=2)[np.ix_(rows, label_order)]
        pooled = weights.sum(axis=0) / weights.sum()
        groups = {}
        flagged = []
        for i, grp in enumerate(order):
            dist = weights[i] / weights[i].sum()
            tvd = float(0.5 * np.abs(dist - pooled).sum())
            n = int(counts[i].sum())
            flag = bool(tvd >= tvd_threshold and n >= min_group_size)
            groups[grp] = {"count": n, "distribution": dict(zip(label_names, map(float, dist),
                                                                 strict=True)),
                           "tvd": tvd, "flagged": flag}
            if flag:
                flagged.append(grp)
        chi: dict[str, Any] = {"reason": "fewer than two labels or groups"}
        present = counts[:, counts.sum(axis=0) > 0]
        if present.shape[0] > 1 and present.shape[1] > 1:
            stat, p, dof, _ = chi2_contingency(present)
            chi = {"statistic": float(stat), "p_value": float(p), "dof": int(dof)}
        out[feat] = {"pooled": dict(zip(label_names, map(float, pooled), strict=True)),
                     "groups": groups, "chi2": chi, "flagged": flagged}
    return out


def count_sections(
    table: CountTable,
    *,
    sensitive: tuple[str, ...],
    split: bool,
    labeled: bool,
    pos_label: object | None,
    reference: dict[str, dict[str, float]],
    underrep_factor: float,
    min_group_size: int,
    threshold: float,
    aggregation_threshold: float,
    seed: int,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Representation, labeling and aggregation sections of the data audit from ``table``.

    ``table`` has the labels as both ``y_true`` and ``y_pred``, the sensitive features, and
    the split as the feature :data:`SPLIT_FEATURE` when ``split`` is true.
    """
    rep = _representation(table, sensitive, split, reference, underrep_factor, min_group_size)
    if not labeled:
        reason = {"reason": "the data set has no label column"}
        return rep, reason, dict(reason)
    groups_only = table.marginal(sensitive)
    lab = _labeling(groups_only, pos_label, min_group_size, threshold, seed)
    agg = _aggregation(groups_only, sensitive, aggregation_threshold, min_group_size)
    return rep, lab, agg
