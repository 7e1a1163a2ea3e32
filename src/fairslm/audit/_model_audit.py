"""Audit a model's decisions: per-group metrics, disparities and criteria from a count table."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fairslm._version import __version__
from fairslm.audit._result import (
    AUDIT_SCHEMA_VERSION,
    AuditResult,
    CriterionResult,
    DisparityResult,
    GroupResult,
    GroupView,
)
from fairslm.engines import count_table_from_arrays
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.metrics import (
    BINARY_METRICS,
    CRITERIA,
    REFERENCE_MODES,
    CountTable,
    compute_rates,
    disparity,
    fold_ratio,
    undefined_reason,
)

__all__ = ["audit_count_table", "audit_predictions", "resolve_pos_label"]

# Rates from fewer rows than this are too noisy to judge: at n = 30 a 95% interval for a rate
# near 0.5 is about +/-0.18 wide. Such groups are reported but never drive a verdict.
DEFAULT_MIN_GROUP_SIZE = 30
# The four-fifths rule (US EEOC Uniform Guidelines, 29 CFR 1607.4(D)).
DEFAULT_THRESHOLD = 0.8


def resolve_pos_label(classes: Sequence[object], pos_label: object | None) -> object:
    """The positive (favourable) class: given, or 1/True for 0/1 labels."""
    if pos_label is not None:
        if pos_label not in classes:
            # Labels typed on a command line arrive as strings: match them by text.
            matches = [c for c in classes if str(c) == str(pos_label)]
            if len(matches) == 1:
                return matches[0]
            raise InvalidDataError(
                f"pos_label {pos_label!r} is not among the labels found {list(classes)}; "
                "pass one of them"
            )
        return pos_label
    if set(classes) <= {0, 1}:
        return 1
    raise InvalidDataError(
        f"the labels are {list(classes)}, not 0/1, so the positive (favourable) decision is "
        "ambiguous; pass pos_label= (CLI: --pos-label) naming one of them"
    )


def _table_hash(table: CountTable) -> str:
    h = hashlib.sha256()
    h.update(repr((table.features, table.levels, table.classes)).encode())
    for a in (table.keys, table.counts, table.weight_sums):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _reading(criterion: str, worst: str, ref: str, r: float, threshold: float) -> str:
    phrase = CRITERIA[criterion][1]
    if not np.isfinite(r):
        return f"The {criterion.replace('_', ' ')} ratio is undefined for these groups."
    pct = abs(1.0 - r) * 100
    if criterion == "equalized_odds":
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


def _resolve_reference(
    reference_group: Any, view_name: str, features: tuple[str, ...], labels: list[str]
) -> str | int:
    ref = reference_group
    if isinstance(ref, Mapping):
        ref = ref.get(view_name, ref.get(features[0], "min_max") if len(features) == 1 else "min_max")
    if isinstance(ref, tuple):
        ref = ", ".join(str(v) for v in ref)
    if ref in REFERENCE_MODES:
        return str(ref)
    label = str(ref)
    if label in labels:
        return labels.index(label)
    return -1  # not in this view


def audit_count_table(
    table: CountTable,
    *,
    pos_label: object | None = None,
    reference_group: Any = "min_max",
    threshold: float = DEFAULT_THRESHOLD,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    criteria: Sequence[str] | None = None,
    marginals: bool = True,
    provenance: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> AuditResult:
    """Audit an already-aggregated :class:`~fairslm.metrics.CountTable`."""
    if not 0 < float(threshold) <= 1:
        raise ConfigError(
            f"threshold must be in (0, 1] (a ratio such as 0.8 for the four-fifths rule); "
            f"got {threshold}"
        )
    if int(min_group_size) < 0:
        raise ConfigError(f"min_group_size must be >= 0; got {min_group_size}")
    crit_names = tuple(CRITERIA) if criteria is None else tuple(criteria)
    unknown = [c for c in crit_names if c not in CRITERIA]
    if unknown:
        raise ConfigError(f"unknown criteria {unknown}; known criteria: {', '.join(CRITERIA)}")
    pos = resolve_pos_label(table.classes, pos_label)

    tables: list[tuple[str, CountTable]] = [(" & ".join(table.features), table)]
    if marginals and len(table.features) > 1:
        tables += [(f, table.marginal([f])) for f in table.features]
    total = table.total()
    overall_conf = total.binary(pos)
    overall = {m: float(v[0]) for m, v in compute_rates(overall_conf).items()}
    n_total = float(table.counts.sum())

    if not isinstance(reference_group, Mapping) and reference_group not in REFERENCE_MODES:
        all_labels = {lab for _, t in tables for lab in t.group_labels}
        ref_label = (
            ", ".join(str(v) for v in reference_group)
            if isinstance(reference_group, tuple)
            else str(reference_group)
        )
        if ref_label not in all_labels:
            raise InvalidDataError(
                f"reference group {reference_group!r} does not exist; groups are: "
                f"{', '.join(sorted(all_labels))}. Or use one of {', '.join(REFERENCE_MODES)}"
            )

    views = []
    for name, t in tables:
        labels = t.group_labels
        values = t.group_values
        conf = t.binary(pos)
        counts = t.counts.sum(axis=(1, 2))
        weights = t.weight_sums.sum(axis=(1, 2))
        rates = compute_rates(conf)
        sufficient = counts >= min_group_size
        ref = _resolve_reference(reference_group, name, t.features, labels)
        if ref == -1:
            ref = "largest"
        groups = []
        for i, lab in enumerate(labels):
            metrics = {m: float(rates[m][i]) for m in BINARY_METRICS}
            undefined = {m: undefined_reason(m) for m, v in metrics.items() if np.isnan(v)}
            groups.append(
                GroupResult(
                    label=lab,
                    values=dict(zip(t.features, values[i], strict=True)),
                    count=int(round(counts[i])),
                    share=float(counts[i] / n_total),
                    weight=float(weights[i]),
                    sufficient=bool(sufficient[i]),
                    metrics=metrics,
                    undefined=undefined,
                    confusion={
                        "tp": float(conf[i, 1, 1]),
                        "fp": float(conf[i, 0, 1]),
                        "fn": float(conf[i, 1, 0]),
                        "tn": float(conf[i, 0, 0]),
                    },
                )
            )
        disp: dict[str, DisparityResult] = {}
        arrays = {}
        for m in BINARY_METRICS:
            d = disparity(
                rates[m], eligible=sufficient, sizes=counts, reference=ref,
                overall_value=overall[m],
            )
            arrays[m] = d
            ref_label = "overall" if d.reference_index is None else labels[d.reference_index]
            disp[m] = DisparityResult(
                metric=m,
                reference=ref_label,
                reference_value=d.reference_value,
                ratio=d.summary_ratio,
                difference=d.summary_difference,
                worst_group=None if d.worst_index is None else labels[d.worst_index],
                by_group={
                    lab: {"ratio": float(d.ratio[i]), "difference": float(d.difference[i])}
                    for i, lab in enumerate(labels)
                },
            )
        crits = []
        for c in crit_names:
            mets = CRITERIA[c][0]
            ds = [arrays[m] for m in mets]
            if len(ds) == 1:
                r, diff, worst_idx = ds[0].summary_ratio, ds[0].summary_difference, ds[0].worst_index
            else:
                # Worse of the component disparities (Fairlearn's worst_case aggregation).
                rs = [x.summary_ratio for x in ds]
                r = float(np.nanmin(rs)) if not all(np.isnan(rs)) else np.nan
                diffs = [x.summary_difference for x in ds]
                diff = float(np.nanmax(diffs)) if not all(np.isnan(diffs)) else np.nan
                pick = int(np.nanargmin(rs)) if not all(np.isnan(rs)) else 0
                worst_idx = ds[pick].worst_index
            n_eligible = int(sufficient.sum())
            failing: set[str] = set()
            for d in ds:
                folded = fold_ratio(d.ratio)
                for i in np.flatnonzero(sufficient & (folded < threshold)):
                    failing.add(labels[i])
            if n_eligible < 2:
                verdict = "insufficient"
            elif np.isnan(r):
                verdict = "undefined"
            else:
                verdict = "pass" if r >= threshold else "fail"
            first = ds[0]
            ref_label = "overall" if first.reference_index is None else labels[first.reference_index]
            worst_label = None if worst_idx is None else labels[worst_idx]
            if verdict == "insufficient":
                reading = (
                    f"Fewer than two groups have at least {min_group_size} rows, so "
                    f"{c.replace('_', ' ')} cannot be judged."
                )
            else:
                reading = _reading(c, worst_label or "?", ref_label, r, threshold)
            crits.append(
                CriterionResult(
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
                )
            )
        views.append(
            GroupView(
                name=name,
                features=t.features,
                groups=tuple(groups),
                disparities=disp,
                criteria=tuple(crits),
            )
        )
    prov = {"fairslm_version": __version__, "table_sha256": _table_hash(table)}
    prov.update(dict(provenance or {}))
    opts = {
        "reference_group": reference_group if isinstance(reference_group, (str, Mapping)) else str(reference_group),
        "threshold": float(threshold),
        "band": [float(threshold), float(1.0 / threshold)],
        "min_group_size": int(min_group_size),
        "criteria": list(crit_names),
    }
    opts.update(dict(options or {}))
    return AuditResult(
        schema_version=AUDIT_SCHEMA_VERSION,
        task={
            "pos_label": pos,
            "classes": list(table.classes),
            "n_rows": table.n_rows,
            "weighted": table.weighted,
            "features": list(table.features),
        },
        options=opts,
        overall=overall,
        views=tuple(views),
        provenance=prov,
    )


def audit_predictions(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    y_score: Any = None,
    sample_weight: Any = None,
    pos_label: object | None = None,
    reference_group: Any = "min_max",
    threshold: float = DEFAULT_THRESHOLD,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    criteria: Sequence[str] | None = None,
    missing: str = "error",
    marginals: bool = True,
    provenance: Mapping[str, Any] | None = None,
) -> AuditResult:
    """Audit a model's decisions across groups.

    Parameters
    ----------
    y_true, y_pred : array-like
        True labels and the model's decisions.
    sensitive_features : array-like, Series, DataFrame, or mapping of name -> array
        One or several sensitive features; several give intersectional groups plus each
        feature's own groups.
    y_score : array-like, optional
        Probability of the positive class, for AUC and calibration per group.
    sample_weight : array-like, optional
        Non-negative row weights used by every metric.
    pos_label : optional
        The favourable decision. Defaults to 1 for 0/1 labels.
    reference_group : {"min_max", "best", "overall", "largest"} or a group label or mapping
        What each group is compared against. ``"min_max"`` matches Fairlearn's
        ``ratio()``/``difference()``; ``"largest"`` is Aequitas' default.
    threshold : float, default 0.8
        Lower bound of the ratio band (the four-fifths rule); the upper bound is ``1/threshold``.
    min_group_size : int, default 30
        Groups with fewer rows are reported but never drive a verdict.
    missing : {"error", "group"}
        What to do with missing sensitive values.

    Returns
    -------
    AuditResult

    Examples
    --------
    >>> res = audit_predictions([1, 1, 0, 1, 1, 0], [1, 1, 0, 1, 0, 0],
    ...                         sensitive_features={"gender": ["M", "M", "M", "F", "F", "F"]},
    ...                         min_group_size=1)
    >>> res.view("gender").criterion("equal_opportunity").ratio
    0.5
    """
    table = count_table_from_arrays(
        y_true, y_pred, sensitive_features, sample_weight=sample_weight, y_score=y_score,
        pos_label=pos_label, missing=missing,
    )
    return audit_count_table(
        table,
        pos_label=pos_label,
        reference_group=reference_group,
        threshold=threshold,
        min_group_size=min_group_size,
        criteria=criteria,
        marginals=marginals,
        provenance=provenance,
        options={"missing": missing},
    )
