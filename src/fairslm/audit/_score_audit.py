"""Audit scores, not decisions: scoring rates, standardized mean differences, AUC per group,
score distributions and every criterion across decision thresholds, all from one count table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fairslm._version import __version__
from fairslm.audit._score_result import (
    SCORE_AUDIT_SCHEMA_VERSION,
    ScoreAuditResult,
    ScoreGroup,
    ScoreView,
)
from fairslm.engines import MedianTable, median_count_table
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.metrics import (
    MIN_GROUP_SIZE,
    CountTable,
    coarse_histogram,
    compute_rates,
    disparity_batch,
    impact_ratios,
    roc_auc_from_bins,
    score_moments,
    standardized_mean_difference,
    threshold_confusion,
)

__all__ = ["DEFAULT_THRESHOLDS", "audit_median_table", "audit_scores"]

# Nine evenly spaced decision thresholds over the score range: enough to see where on the
# threshold a criterion holds, few enough to read in a table.
DEFAULT_THRESHOLDS = tuple(round(0.1 * k, 1) for k in range(1, 10))
# Twenty bins show a distribution's shape per group without the noise of the 1,000 table bins.
_HISTOGRAM_BINS = 20


def _view_tables(table: CountTable, marginals: bool) -> list[tuple[str, CountTable]]:
    views = [(" & ".join(table.features), table)]
    if marginals and len(table.features) > 1:
        views += [(f, table.marginal([f])) for f in table.features]
    return views


def _reference_index(reference_group: Any, labels: list[str], means: np.ndarray,
                     sizes: np.ndarray, eligible: np.ndarray) -> int | None:
    cand = np.flatnonzero(eligible & ~np.isnan(means))
    if reference_group in ("best", "min_max"):
        return None if not cand.size else int(cand[np.argmax(means[cand])])
    if reference_group == "largest":
        return int(np.argmax(sizes))
    label = ", ".join(map(str, reference_group)) if isinstance(reference_group, tuple) else str(
        reference_group)
    return labels.index(label) if label in labels else None


def _score_view(
    name: str, t: CountTable, mt: MedianTable, *, edge_index: np.ndarray, n_rows: int,
    reference_group: Any, min_group_size: int, confidence: float, hist_bins: int,
) -> ScoreView:
    labels = t.group_labels
    cells = t.weight_sums if t.weighted else t.counts
    counts = t.counts.sum(axis=(1, 2))
    weights = cells.sum(axis=(1, 2))
    eligible = counts >= min_group_size
    # y_pred of the median table is "scored above the median"
    scoring = compute_rates(t.binary(1), ["selection_rate"])["selection_rate"]
    ratios, top = impact_ratios(scoring, eligible if eligible.any() else None)
    sw = t.score_weight_sums if t.weighted else t.score_counts
    assert sw is not None and t.score_edges is not None and t.score_sums is not None
    hist_w = sw.sum(axis=1)
    sq = None if t.score_sq_sums is None else t.score_sq_sums.sum(axis=1)
    _, mean, var = score_moments(hist_w, t.score_sums.sum(axis=1), t.score_edges, sq)
    ref = _reference_index(reference_group, labels, mean, counts, eligible)
    if ref is not None:
        d, lo, hi = standardized_mean_difference(
            counts, mean, var, float(counts[ref]), float(mean[ref]), float(var[ref]), confidence
        )
    else:
        d = lo = hi = np.full(len(labels), np.nan)
    auc = (roc_auc_from_bins(sw[:, 1, :], sw[:, 0, :]) if mt.labelled
           else np.full(len(labels), np.nan))
    hist = coarse_histogram(hist_w, hist_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        hist = hist / hist.sum(axis=1, keepdims=True)
    lo_s, hi_s = mt.score_range
    scale = hi_s - lo_s
    groups = tuple(
        ScoreGroup(
            label=labels[g], count=int(counts[g]), share=float(counts[g] / n_rows),
            sufficient=bool(eligible[g]),
            mean=float(lo_s + mean[g] * scale), sd=float(np.sqrt(var[g]) * scale),
            scoring_rate=float(scoring[g]), impact_ratio=float(ratios[g]), smd=float(d[g]),
            smd_interval=None if np.isnan(d[g]) or g == ref else (float(lo[g]), float(hi[g])),
            roc_auc=float(auc[g]), histogram=tuple(float(x) for x in hist[g]),
        )
        for g in range(len(labels))
    )
    conf = threshold_confusion(sw, 1, edge_index)
    metrics = ["selection_rate"]
    if mt.labelled:
        metrics += ["true_positive_rate", "false_positive_rate", "precision"]
    rates = compute_rates(conf, metrics)
    curves = {m: {labels[g]: tuple(float(x) for x in rates[m][:, g]) for g in range(len(labels))}
              for m in metrics}

    def summary(metric: str) -> np.ndarray:
        return disparity_batch(rates[metric], eligible=eligible, sizes=weights,
                               reference="min_max").summary_ratio

    criteria = {"statistical_parity": summary("selection_rate")}
    if mt.labelled:
        criteria["equal_opportunity"] = summary("true_positive_rate")
        criteria["predictive_parity"] = summary("precision")
        criteria["equalized_odds"] = np.fmin(summary("true_positive_rate"),
                                             summary("false_positive_rate"))
    return ScoreView(
        name=name, features=tuple(t.features),
        reference=None if ref is None else labels[ref],
        highest_scoring=None if top is None else labels[top],
        groups=groups, curves=curves,
        criteria={k: tuple(float(x) for x in v) for k, v in criteria.items()},
    )


def audit_median_table(
    mt: MedianTable,
    *,
    thresholds: Sequence[float] | None = None,
    reference_group: Any = "best",
    min_group_size: int = MIN_GROUP_SIZE,
    confidence: float = 0.95,
    marginals: bool = True,
    n_histogram_bins: int = _HISTOGRAM_BINS,
    provenance: Mapping[str, Any] | None = None,
) -> ScoreAuditResult:
    """Audit the scores aggregated in a :class:`~fairslm.engines.MedianTable`.

    Takes the options of :func:`audit_scores`; nothing here touches rows.
    """
    if not 0 < float(confidence) < 1:
        raise ConfigError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence}")
    if int(min_group_size) < 0:
        raise ConfigError(f"min_group_size must be >= 0; got {min_group_size}")
    table = mt.table
    assert table.score_edges is not None
    nb = len(table.score_edges) - 1
    if thresholds is None:
        thr_table = np.asarray(DEFAULT_THRESHOLDS)
    else:
        thr = np.asarray(list(thresholds), dtype=np.float64)
        if thr.size == 0 or not np.isfinite(thr).all():
            raise ConfigError(f"thresholds must be finite numbers; got {list(thresholds)}")
        thr_table = mt.to_table_units(thr)
        if thr_table.min() < -1e-12 or thr_table.max() > 1 + 1e-12:
            lo, hi = mt.score_range
            raise ConfigError(
                f"thresholds must lie within the scores' range [{lo:g}, {hi:g}]; got "
                f"{', '.join(f'{x:g}' for x in thr)}"
            )
    # Decisions are read at the table's bin edges: a threshold snaps to the nearest edge
    # (within half a bin, 0.05% of the score range with 1,000 bins); the edge used is recorded.
    edge_index = np.clip(np.rint(np.asarray(thr_table) * nb), 0, nb).astype(np.int64)
    used = mt.to_score_units(edge_index / nb)
    hist_bins = int(n_histogram_bins)
    if hist_bins <= 0 or nb % hist_bins:
        raise ConfigError(
            f"n_histogram_bins={hist_bins} must divide the table's {nb} score bins (e.g. 10, 20, 50)"
        )
    views = tuple(
        _score_view(name, t, mt, edge_index=edge_index, n_rows=table.n_rows,
                    reference_group=reference_group, min_group_size=int(min_group_size),
                    confidence=float(confidence), hist_bins=hist_bins)
        for name, t in _view_tables(table, marginals)
    )
    notes = [
        "scoring rate: share of a group scored strictly above the median of all rows "
        "(a score equal to the median is not above it)",
        "decisions at a threshold t: score >= t, read from the score-bin table",
        "SMD: Cohen's d against the reference group with the Hedges-Olkin (1985) normal "
        "interval; means and variances from the table's exact score sums",
    ]
    if not mt.labelled:
        notes.append("no outcome labels: AUC, TPR, FPR and precision are not defined")
    return ScoreAuditResult(
        schema_version=SCORE_AUDIT_SCHEMA_VERSION,
        n_rows=table.n_rows,
        median=float(mt.median),
        ties_at_median=int(mt.ties),
        score_range=(float(mt.score_range[0]), float(mt.score_range[1])),
        thresholds=tuple(float(x) for x in used),
        histogram_edges=tuple(float(x) for x in mt.to_score_units(np.linspace(0, 1, hist_bins + 1))),
        labelled=bool(mt.labelled),
        views=views,
        options={
            "reference_group": reference_group if isinstance(reference_group, str)
            else str(reference_group),
            "min_group_size": int(min_group_size),
            "confidence": float(confidence),
            "n_score_bins": nb,
            "n_histogram_bins": hist_bins,
            "weighted": bool(table.weighted),
        },
        provenance={"fairslm_version": __version__, **dict(provenance or {})},
        notes=tuple(notes),
    )


def audit_scores(
    y_score: Any,
    *,
    sensitive_features: Any,
    y_true: Any = None,
    sample_weight: Any = None,
    thresholds: Sequence[float] | None = None,
    reference_group: Any = "best",
    min_group_size: int = MIN_GROUP_SIZE,
    confidence: float = 0.95,
    marginals: bool = True,
    missing: str = "error",
    n_score_bins: int = 1000,
    n_histogram_bins: int = _HISTOGRAM_BINS,
    provenance: Mapping[str, Any] | None = None,
) -> ScoreAuditResult:
    """Audit a model's scores across groups, with or without outcome labels.

    Parameters
    ----------
    y_score : array-like
        Scores in any units (probabilities, 0-100 ratings, ...).
    sensitive_features : array-like, Series, DataFrame or mapping of name -> array
        One or several sensitive features; several also give intersectional groups.
    y_true : array-like of 0/1 or bool, optional
        Outcome labels (1 favourable). Without them, the audit reports scoring rates, SMD,
        distributions and selection rates across thresholds.
    thresholds : sequence of float, optional
        Decision thresholds in the scores' units (default: 0.1 ... 0.9 of the score range).
    reference_group : {"best", "largest"} or group label, default "best"
        The group each SMD is taken against: the highest mean score, the largest group, or one
        named group.
    min_group_size : int, default 30
        Smaller groups are reported but never chosen as reference or counted in a criterion.

    Returns
    -------
    ScoreAuditResult

    Examples
    --------
    >>> res = audit_scores([0.9, 0.8, 0.7, 0.3, 0.6, 0.2, 0.1, 0.4],
    ...                    sensitive_features={"g": list("aaaabbbb")}, min_group_size=1)
    >>> res.median, res.view("g").group("a").scoring_rate, res.view("g").group("b").scoring_rate
    (0.5, 0.75, 0.25)
    >>> res.view("g").criteria["statistical_parity"][4]  # at threshold 0.5: 1/4 over 3/4
    0.3333333333333333
    """
    if y_true is not None:
        y = np.asarray(y_true)
        if y.dtype == object or y.dtype.kind in "USf":
            raise InvalidDataError(
                "y_true must be 0/1 or boolean for a score audit (1 = favourable outcome); "
                f"got values of type {y.dtype}"
            )
    mt = median_count_table(
        y_score, sensitive_features, y_true=y_true, sample_weight=sample_weight,
        n_score_bins=n_score_bins, missing=missing,
    )
    return audit_median_table(
        mt, thresholds=thresholds, reference_group=reference_group,
        min_group_size=min_group_size, confidence=confidence, marginals=marginals,
        n_histogram_bins=n_histogram_bins, provenance={"engine": "numpy", **dict(provenance or {})},
    )
