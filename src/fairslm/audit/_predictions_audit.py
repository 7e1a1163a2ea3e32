"""Audit predictions (decisions already made) per group: metrics, disparities and criteria from a
count table. Auditing a model, which first scores texts, is `fairslm.pipeline.audit_model`."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fairslm._gc import gc_paused
from fairslm._version import __version__
from fairslm.audit._result import AUDIT_SCHEMA_VERSION, AuditResult
from fairslm.audit._uncertainty import (
    INTERVAL_METHODS,
    add_closed_form_intervals,
    add_intervals,
    add_significance,
)
from fairslm.audit._views import ViewData, build_view, prepare_view, score_rates
from fairslm.engines import count_table_from_arrays
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.metrics import (
    CRITERIA,
    FOUR_FIFTHS,
    MIN_GROUP_SIZE,
    REFERENCE_MODES,
    CountTable,
    class_tpr,
    compute_rates,
    rms_tpr_gap,
)

__all__ = [
    "audit_count_table",
    "audit_predictions",
    "audit_table_of_columns",
    "count_table_sha256",
    "resolve_pos_label",
]



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
        # The class itself (True for boolean labels), so the JSON names the label as found.
        return next((c for c in classes if c == 1), 1)
    raise InvalidDataError(
        f"the labels are {list(classes)}, not 0/1, so the positive (favourable) decision is "
        "ambiguous; pass pos_label= (CLI: --pos-label) naming one of them"
    )


def count_table_sha256(table: CountTable) -> str:
    """SHA-256 of a count table's groups, labels, counts and weight sums (its content)."""
    h = hashlib.sha256()
    h.update(repr((table.features, table.levels, table.classes)).encode())
    for a in (table.keys, table.counts, table.weight_sums):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


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


def _check_groups(table: CountTable) -> None:
    for f, lv in zip(table.features, table.levels, strict=True):
        observed = np.unique(table.keys[:, table.features.index(f)])
        if observed.size < 2:
            raise InvalidDataError(
                f"sensitive feature {f!r} has only one group ({lv[int(observed[0])]!r}) in "
                f"{table.n_rows} rows; a fairness audit compares at least two groups. Check "
                "the column, or drop it from the sensitive features"
            )


def _check_reference(reference_group: Any, tables: list[tuple[str, CountTable]]) -> None:
    if isinstance(reference_group, Mapping) or reference_group in REFERENCE_MODES:
        return
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


def _rms_extras(
    tables: list[tuple[str, CountTable]], root: CountTable, min_group_size: int
) -> tuple[dict[str, Any], dict[str, tuple[Any, Any]]]:
    out: dict[str, Any] = {}
    groupings = {}
    for name, t in tables:
        cells = t.weight_sums if t.weighted else t.counts
        eligible = t.counts.sum(axis=(1, 2)) >= min_group_size
        tpr = class_tpr(cells)
        rms, gaps = rms_tpr_gap(tpr, eligible)
        out[name] = {
            "value": float(rms),
            "by_class": {str(c): float(g) for c, g in zip(t.classes, gaps, strict=True)},
            "interval": None,
        }
        ok = eligible & ~np.isnan(tpr)
        pairs = np.full((len(t.classes), 2), -1, dtype=np.int64)
        for c in range(len(t.classes)):
            if ok[c].sum() >= 2:
                cand = np.flatnonzero(ok[c])
                pairs[c] = (cand[np.argmax(tpr[c, cand])], cand[np.argmin(tpr[c, cand])])
        groupings[name] = (root.group_index(t.features), eligible, pairs)
    return out, groupings


RMS_DEFINITION = (
    "sqrt(mean over classes c of gap_c^2), gap_c = max_g TPR(c, g) - min_g TPR(c, g) over "
    "groups with at least min_group_size rows and a defined TPR; for two groups this is the "
    "RMS TPR gap of De-Arteaga et al. (2019) and Ravfogel et al. (2020)"
)


def audit_count_table(
    table: CountTable,
    *,
    pos_label: object | None = None,
    reference_group: Any = "min_max",
    threshold: float = FOUR_FIFTHS,
    min_group_size: int = MIN_GROUP_SIZE,
    criteria: Sequence[str] | None = None,
    marginals: bool = True,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int | None = None,
    stratify: bool = False,
    interval_method: str = "score",
    significance: bool = True,
    n_calibration_bins: int = 10,
    provenance: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> AuditResult:
    """Audit an already-aggregated :class:`~fairslm.metrics.CountTable`.

    Takes the same options as :func:`audit_predictions`; nothing here touches rows.
    """
    if not 0 < float(threshold) <= 1:
        raise ConfigError(
            f"threshold must be in (0, 1] (a ratio such as 0.8 for the four-fifths rule); "
            f"got {threshold}"
        )
    if int(min_group_size) < 0:
        raise ConfigError(f"min_group_size must be >= 0; got {min_group_size}")
    if int(n_bootstrap) < 0:
        raise ConfigError(f"n_bootstrap must be >= 0 (0: no intervals); got {n_bootstrap}")
    if not 0 < float(confidence) < 1:
        raise ConfigError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence}")
    if interval_method not in INTERVAL_METHODS:
        raise ConfigError(
            f"interval_method must be one of {', '.join(INTERVAL_METHODS)}; got {interval_method!r}"
        )
    crit_names = tuple(CRITERIA) if criteria is None else tuple(criteria)
    unknown = [c for c in crit_names if c not in CRITERIA]
    if unknown:
        raise ConfigError(f"unknown criteria {unknown}; known criteria: {', '.join(CRITERIA)}")
    _check_groups(table)
    multiclass = len(table.classes) > 2
    if multiclass:
        pos = resolve_pos_label(table.classes, pos_label) if pos_label is not None else None
        view_classes: list[object] = list(table.classes)
    else:
        pos = resolve_pos_label(table.classes, pos_label)
        view_classes = [pos]
    if multiclass and table.score_weight_sums is not None and pos is None:
        raise InvalidDataError(
            f"y_score gives the probability of one class, but the labels have "
            f"{len(table.classes)} classes {list(table.classes)}; pass pos_label= naming "
            "the class the scores are for"
        )

    tables: list[tuple[str, CountTable]] = [(" & ".join(table.features), table)]
    if marginals and len(table.features) > 1:
        tables += [(f, table.marginal([f])) for f in table.features]
    _check_reference(reference_group, tables)
    total = table.total()

    views: list[ViewData] = []
    for c in view_classes:
        overall = {m: float(v[0]) for m, v in compute_rates(total.binary(c)).items()}
        if c == pos:
            overall.update({m: float(v[0]) for m, v in score_rates(total, c, n_calibration_bins).items()})
        for name, t in tables:
            ref = _resolve_reference(reference_group, name, t.features, t.group_labels)
            if ref == -1:
                ref = "largest"
            # Score metrics are for the class the scores belong to only.
            tv = t if c == pos else _without_scores(t)
            views.append(
                prepare_view(
                    name, str(c) if multiclass else None, tv, table, c, ref=ref,
                    overall=overall, min_group_size=int(min_group_size),
                    n_calibration_bins=n_calibration_bins,
                )
            )
    rms, rms_groupings = _rms_extras(tables, table, int(min_group_size))
    extras: dict[str, Any] = {"rms_tpr_gap": rms, "rms_tpr_gap_definition": RMS_DEFINITION}
    if seed is None and n_bootstrap:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
    if n_bootstrap:
        info, rms_ci = add_intervals(
            table, views, method=interval_method, n_bootstrap=int(n_bootstrap),
            confidence=float(confidence), seed=int(seed),  # type: ignore[arg-type]
            stratify=bool(stratify), crit_names=crit_names, rms_groupings=rms_groupings,
        )
        extras.update(info)
        for name, ci in rms_ci.items():
            rms[name]["interval"] = list(ci)
    elif interval_method == "score":
        extras.update(add_closed_form_intervals(
            views, confidence=float(confidence), crit_names=crit_names
        ))
    if significance:
        for vd in views:
            add_significance(vd)
        extras["significance"] = {
            "tests": "two-proportion z-test; Fisher's exact test when an expected count is < 5",
            "correction": "Holm, across the groups of each view and metric",
            "weights": "Kish effective sample size" if table.weighted else "none",
        }
    with gc_paused():
        built = tuple(
            build_view(vd, crit_names=crit_names, threshold=float(threshold),
                       min_group_size=int(min_group_size))
            for vd in views
        )
    prov = {"fairslm_version": __version__, "table_sha256": count_table_sha256(table), "seed": seed}
    prov.update(dict(provenance or {}))
    opts = {
        "reference_group": reference_group if isinstance(reference_group, (str, Mapping)) else str(reference_group),
        "threshold": float(threshold),
        "band": [float(threshold), float(1.0 / threshold)],
        "min_group_size": int(min_group_size),
        "criteria": list(crit_names),
        "n_bootstrap": int(n_bootstrap),
        "confidence": float(confidence),
        "seed": seed,
        "stratify": bool(stratify),
        "interval_method": interval_method,
        "significance": bool(significance),
        "n_calibration_bins": int(n_calibration_bins),
        "undefined": "nan",
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
            "multiclass": multiclass,
            "scores": table.score_weight_sums is not None,
        },
        options=opts,
        overall={m: float(v) for m, v in _overall_for(views, pos, view_classes).items()},
        views=built,
        provenance=prov,
        extras=extras,
    )


def _overall_for(views: list[ViewData], pos: object, classes: list[object]) -> dict[str, float]:
    target = pos if pos is not None else classes[0]
    for vd in views:
        if vd.pos == target:
            return vd.overall
    return views[0].overall


def _without_scores(t: CountTable) -> CountTable:
    if t.score_weight_sums is None:
        return t
    return dataclasses.replace(t, score_counts=None, score_weight_sums=None, score_sums=None,
                               score_sq_sums=None)


def audit_predictions(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    y_score: Any = None,
    sample_weight: Any = None,
    pos_label: object | None = None,
    reference_group: Any = "min_max",
    threshold: float = FOUR_FIFTHS,
    min_group_size: int = MIN_GROUP_SIZE,
    criteria: Sequence[str] | None = None,
    missing: str = "error",
    marginals: bool = True,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int | None = None,
    stratify: bool = False,
    interval_method: str = "score",
    significance: bool = True,
    n_score_bins: int = 1000,
    n_calibration_bins: int = 10,
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
        What to do with missing sensitive values: refuse them (with their count), or audit
        them as their own group named ``(missing)``.
    marginals : bool, default True
        With several sensitive features, also audit each feature's own groups.
    n_bootstrap : int, default 0
        Bootstrap replicates, drawn over the count table's cells, for the quantities without a
        closed-form interval (balanced accuracy, the RMS TPR gap; 1000 is a good choice). With
        0 and ``interval_method="score"`` every proportion metric, disparity and criterion
        still gets its closed-form interval, and those two get none; with 0 and
        ``"bootstrap"`` nothing gets an interval.
    confidence : float, default 0.95
        Nominal coverage of the intervals.
    seed : int, optional
        Seed of the bootstrap; drawn at random and recorded in the result when not given.
    stratify : bool, default False
        Keep each group's size fixed in the bootstrap (groups sampled separately).
    interval_method : {"score", "bootstrap"}, default "score"
        ``"score"``: Wilson intervals for rates, Newcombe's for differences and MOVER-R for
        ratios, computed from the counts; they hold their coverage for small groups and rare
        events (``docs/intervals.md``). The bootstrap still gives balanced accuracy and the
        RMS TPR gap. ``"bootstrap"``: percentile bootstrap intervals for everything, which
        fall short of their coverage when a group has few events.
    significance : bool, default True
        Test each group's gap against the reference (z-test, Fisher's exact test for small
        counts), Holm-corrected across groups.
    n_score_bins : int, default 1000
        Equal-width bins of ``y_score`` in the ``(group, y_true, score bin)`` table.
    n_calibration_bins : int, default 10
        Bins of the expected calibration error; must divide ``n_score_bins``.

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
        pos_label=pos_label, missing=missing, n_score_bins=n_score_bins,
    )
    return audit_count_table(
        table,
        pos_label=pos_label,
        reference_group=reference_group,
        threshold=threshold,
        min_group_size=min_group_size,
        criteria=criteria,
        marginals=marginals,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
        stratify=stratify,
        interval_method=interval_method,
        significance=significance,
        n_calibration_bins=n_calibration_bins,
        provenance={"engine": "numpy", **dict(provenance or {})},
        options={"missing": missing, "n_score_bins": int(n_score_bins)},
    )


def audit_table_of_columns(
    table: CountTable,
    provenance: dict[str, Any],
    options: dict[str, Any],
    *,
    y_true: str,
    y_pred: str,
    sensitive: Sequence[str],
    y_score: str | None,
    weight: str | None,
    pos_label: object | None,
    missing: str,
    n_score_bins: int,
) -> AuditResult:
    """Audit a table aggregated from named columns, recording the engine and the columns."""
    provenance = {**provenance, **dict(options.pop("provenance", None) or {})}
    columns = {"y_true": y_true, "y_pred": y_pred, "sensitive": list(sensitive),
               "y_score": y_score, "weight": weight}
    return audit_count_table(
        table,
        pos_label=pos_label,
        provenance=provenance,
        options={"missing": missing, "n_score_bins": int(n_score_bins), "columns": columns},
        **options,
    )
