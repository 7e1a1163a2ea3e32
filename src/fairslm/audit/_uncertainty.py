"""Confidence intervals and significance tests for the views of an audit.

``interval_method="score"`` (the default) gives every proportion metric closed-form score
intervals from the count table (:mod:`fairslm.audit._score_intervals`); the bootstrap covers
what has no closed form (balanced accuracy, the RMS TPR gap). ``"bootstrap"`` takes percentile
intervals of the bootstrap for everything, as fairslm did before score intervals: they
undercover when a group has few events (a group of 30 rows at a 5% selection rate: about 80%
for a nominal 95%; ``docs/intervals.md``).

Replicates are drawn once over the cells of the finest (intersectional) table and aggregated
to every view, so intersections and marginals come from the same resamples. Everything is
vectorised over replicates; nothing touches rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.audit._score_intervals import SCORE_INTERVALS, add_score_intervals
from fairslm.audit._views import ViewData
from fairslm.metrics import (
    BINARY_METRICS,
    CRITERIA,
    PROPORTIONS,
    CountTable,
    bootstrap_method,
    bootstrap_tables,
    class_tpr,
    compute_rates,
    disparity_batch,
    holm,
    percentile_interval,
    proportion_parts,
    two_proportion_tests,
)

__all__ = ["INTERVAL_METHODS", "add_closed_form_intervals", "add_intervals", "add_significance"]

INTERVAL_METHODS = ("score", "bootstrap")

Array = NDArray[np.float64]


def _pair(lo: Any, hi: Any) -> tuple[float, float]:
    return (float(lo), float(hi))


def _aggregator(idx: NDArray[np.int64], n_root: int) -> tuple[Array | None, int]:
    """Matrix summing root groups into the groups of a view (None: the root view itself)."""
    n_v = int(idx.max()) + 1 if idx.size else 0
    if n_v == n_root and np.array_equal(idx, np.arange(n_v)):
        return None, n_v
    mat = np.zeros((n_v, n_root))
    mat[idx, np.arange(n_root)] = 1.0
    return mat, n_v


def add_intervals(
    root: CountTable,
    views: list[ViewData],
    *,
    method: str,
    n_bootstrap: int,
    confidence: float,
    seed: int,
    stratify: bool,
    crit_names: tuple[str, ...],
    rms_groupings: dict[str, tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.int64]]],
) -> tuple[dict[str, Any], dict[str, tuple[float, float]]]:
    """Fill each view's intervals in place; return their description and the RMS TPR gap CIs.

    ``rms_groupings`` maps a view name to (root -> view group index, eligible groups, and per
    class the groups with the highest and lowest TPR) for the RMS TPR gap's interval.
    """
    draw = bootstrap_method(
        root.counts, root.weight_sums, root.weight_sq_sums, weighted=root.weighted
    )
    k = len(root.classes)
    # One aggregation matrix per distinct grouping (views of several classes share one).
    groupings: dict[bytes, tuple[Array | None, int]] = {}
    for idx in [vd.root_index for vd in views] + [g[0] for g in rms_groupings.values()]:
        key = idx.tobytes()
        if key not in groupings:
            groupings[key] = _aggregator(idx, root.n_groups)
    conf_rep = {id(vd): np.empty((n_bootstrap, vd.conf.shape[0], 2, 2)) for vd in views}
    overall_rep = {vd.pos: np.empty((n_bootstrap, 1, 2, 2)) for vd in views}
    rms_tpr = {
        name: np.empty((n_bootstrap, k, groupings[idx.tobytes()][1]))
        for name, (idx, _, _) in rms_groupings.items()
    }
    rms_keys = {name: idx.tobytes() for name, (idx, _, _) in rms_groupings.items()}
    done = 0
    blocks = bootstrap_tables(
        root.counts,
        root.weight_sums if root.weighted else None,
        root.weight_sq_sums if root.weighted else None,
        n_replicates=n_bootstrap,
        seed=seed,
        stratify=stratify,
        method=draw,
    )
    for rep in blocks:
        b = rep.shape[0]
        sl = slice(done, done + b)
        flat = rep.reshape(b, root.n_groups, k * k)
        agg: dict[bytes, Array] = {}
        for key, (mat, n_v) in groupings.items():
            agg[key] = rep if mat is None else np.matmul(mat, flat).reshape(b, n_v, k, k)
        total = rep.sum(axis=1, keepdims=True)
        for vd in views:
            conf_rep[id(vd)][sl] = root.binary(vd.pos, source=agg[vd.root_index.tobytes()])
        for pos, arr in overall_rep.items():
            arr[sl] = root.binary(pos, source=total)
        for name, key in rms_keys.items():
            rms_tpr[name][sl] = class_tpr(agg[key])
        done += b

    boot_metrics = tuple(m for m in BINARY_METRICS if method == "bootstrap" or m not in PROPORTIONS)
    for vd in views:
        _view_intervals(vd, conf_rep[id(vd)], overall_rep[vd.pos], confidence, boot_metrics)
        if method == "score":
            add_score_intervals(vd, confidence)
        _summary_and_criteria(vd, crit_names)

    rms_ci: dict[str, tuple[float, float]] = {}
    for name, (_, _eligible, pairs) in rms_groupings.items():
        # Per class, the gap between the two groups that define it on the data.
        tpr = rms_tpr[name]
        gaps = np.full((n_bootstrap, k), np.nan)
        for cls, (hi_g, lo_g) in enumerate(pairs):
            if hi_g >= 0:
                gaps[:, cls] = tpr[:, cls, int(hi_g)] - tpr[:, cls, int(lo_g)]
        defined = ~np.isnan(gaps)
        n_def = defined.sum(axis=1)
        sq = np.where(defined, gaps * gaps, 0.0).sum(axis=1)
        rms = np.full(n_bootstrap, np.nan)
        # a replicate counts only when it defines every class gap the data defines
        full = (n_def > 0) & (n_def == defined.any(axis=0).sum())
        np.divide(sq, n_def, out=rms, where=full)
        lo, hi = percentile_interval(np.sqrt(rms)[:, None], confidence)
        rms_ci[name] = _pair(lo[0], hi[0])
    boot = {
        "n_replicates": int(n_bootstrap),
        "confidence": float(confidence),
        "seed": int(seed),
        "stratified": bool(stratify),
        "method": draw,
        "interval": "percentile",
        "scope": (
            "every binary metric, disparity and criterion; not roc_auc/calibration_error"
            if method == "bootstrap"
            else "balanced_accuracy and the RMS TPR gap"
        ),
    }
    if method == "score":
        info: dict[str, Any] = {**SCORE_INTERVALS, "confidence": float(confidence)}
    else:
        info = {"method": "bootstrap", "confidence": float(confidence),
                "bootstrap": "percentile intervals of the bootstrap for every metric"}
    return {"intervals": info, "bootstrap": boot}, rms_ci


def add_closed_form_intervals(
    views: list[ViewData], *, confidence: float, crit_names: tuple[str, ...]
) -> dict[str, Any]:
    """Score intervals of every proportion metric, disparity and criterion, without resampling.

    What an audit gets with ``n_bootstrap=0``: the same intervals as ``interval_method="score"``
    with a bootstrap, straight from the count tables in a fraction of the time; balanced
    accuracy and the RMS TPR gap, which have no closed form, get none.
    """
    for vd in views:
        add_score_intervals(vd, confidence)
        _summary_and_criteria(vd, crit_names)
    return {"intervals": {
        **SCORE_INTERVALS, "confidence": float(confidence),
        "bootstrap": "none (n_bootstrap=0): balanced_accuracy and the RMS TPR gap have no interval",
    }}


def _summary_and_criteria(vd: ViewData, crit_names: tuple[str, ...]) -> None:
    """Intervals of each metric's summary ratio and difference, and of each criterion."""
    for m, ci in vd.disp_ci.items():
        if vd.arrays[m].reference_index is None and vd.ref != "overall":
            nan2 = (float("nan"), float("nan"))
            ci["summary_ratio"], ci["summary_difference"] = nan2, nan2
        else:
            ci["summary_ratio"], ci["summary_difference"] = _summary_intervals(
                vd, m, ci["ratio"], ci["difference"]
            )
    summary = {
        m: {"ratio": ci["summary_ratio"], "difference": ci["summary_difference"]}
        for m, ci in vd.disp_ci.items()
    }
    for c in crit_names:
        mets = CRITERIA[c][0]
        if any(m not in summary for m in mets):
            continue  # a component without an interval (no closed form, no bootstrap)
        rs = [vd.arrays[m].summary_ratio for m in mets]
        ds = [vd.arrays[m].summary_difference for m in mets]
        # The component that decides the criterion's ratio (difference) gives its interval.
        ri = int(np.nanargmin(rs)) if not all(np.isnan(rs)) else 0
        di = int(np.nanargmax(ds)) if not all(np.isnan(ds)) else 0
        vd.crit_ci[c] = {
            "ratio": summary[mets[ri]]["ratio"],
            "difference": summary[mets[di]]["difference"],
        }


# Replicate statistics are computed for this many (replicate x group) values at a time: arrays
# of ~2 MB stay in cache, where whole (1000 x 6000) arrays spend their time in page faults.
_CHUNK_VALUES = 250_000


def _view_intervals(
    vd: ViewData, conf_rep: Array, overall_rep: Array, confidence: float, metrics: tuple[str, ...]
) -> None:
    """Percentile intervals of ``metrics`` and their per-group disparities, in group chunks."""
    n_rep, n_groups = conf_rep.shape[:2]
    overall = {m: v[:, 0] for m, v in compute_rates(overall_rep, metrics).items()}
    # Each metric's reference (found on the data, fixed across replicates), per replicate.
    ref_values: dict[str, Array | None] = {}
    for m in metrics:
        d = vd.arrays[m]
        if d.reference_index is not None:
            j = d.reference_index
            ref_values[m] = compute_rates(conf_rep[:, j : j + 1], [m])[m][:, 0]
        else:
            ref_values[m] = overall[m] if vd.ref == "overall" else None
    empty = {m: [np.full(n_groups, np.nan) for _ in range(6)] for m in metrics}
    step = max(1, _CHUNK_VALUES // max(n_rep, 1))
    for start in range(0, n_groups, step):
        sl = slice(start, min(start + step, n_groups))
        rates = compute_rates(conf_rep[:, sl], metrics)
        for m in metrics:
            out = empty[m]
            out[0][sl], out[1][sl] = percentile_interval(rates[m], confidence)
            ref = ref_values[m]
            if ref is None:
                continue
            # "overall" with the per-replicate reference values: ratio and difference only.
            bt = disparity_batch(
                rates[m], eligible=vd.sufficient[sl], sizes=vd.counts[sl], reference="overall",
                overall_values=ref, summary=False,
            )
            out[2][sl], out[3][sl] = percentile_interval(bt.ratio, confidence)
            out[4][sl], out[5][sl] = percentile_interval(bt.difference, confidence)
    for m in metrics:
        g_lo, g_hi, r_lo, r_hi, d_lo, d_hi = empty[m]
        vd.group_ci[m] = (g_lo, g_hi)
        vd.disp_ci[m] = {"ratio": (r_lo, r_hi), "difference": (d_lo, d_hi)}


def _fold_interval(lo: float, hi: float) -> tuple[float, float]:
    """Interval of ``min(r, 1/r)`` implied by an interval ``[lo, hi]`` of ``r`` (``hi`` may be
    ``inf``: a ratio bounded from below only)."""
    if not (np.isfinite(lo) and hi >= lo):
        return (float("nan"), float("nan"))
    if hi <= 1:
        return (float(lo), float(hi))
    if lo >= 1:
        return (float(1 / hi), float(1 / lo))
    return (float(min(lo, 1 / hi)), 1.0)


def _abs_interval(lo: float, hi: float) -> tuple[float, float]:
    """Interval of ``|x|`` implied by an interval ``[lo, hi]`` of ``x``."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return (float("nan"), float("nan"))
    if lo >= 0:
        return (float(lo) + 0.0, float(hi) + 0.0)  # + 0.0: no -0.0
    if hi <= 0:
        return (float(-hi) + 0.0, float(-lo) + 0.0)
    return (0.0, float(max(-lo, hi)))


def _summary_intervals(
    vd: ViewData,
    m: str,
    r_ci: tuple[Array, Array],
    d_ci: tuple[Array, Array],
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Intervals of the summary ratio and difference of metric ``m``.

    A summary is decided by particular groups: the worst group against its reference (for
    ``"min_max"`` the best-off group). The summary's interval is the interval of that pair's
    ratio (difference), folded like the summary: the summary is ``min(r, 1/r)`` (``|d|``) of
    the pair, so the folded interval covers it whenever the pair's interval covers ``r``
    (``d``), also when the data rank the two groups the wrong way round. A percentile interval
    of ``min/max`` over replicates would instead be biased away from parity (near parity the
    smallest of noisy ratios is always below 1).
    """
    d = vd.arrays[m]
    if d.worst_index is None:
        nan = (float("nan"), float("nan"))
        return nan, nan
    w = d.worst_index
    if vd.ref in ("min_max", "best") and w == d.reference_index:
        # Every group ties with the best: the pair that decides the summary is the best and
        # the lowest of the others, not the best against itself.
        others = vd.sufficient & ~np.isnan(vd.rates[m])
        others[w] = False
        if others.any():
            w = int(np.flatnonzero(others)[np.argmin(vd.rates[m][others])])
    if vd.ref in ("min_max", "best"):
        # ratio = worst / best in [0, 1]; difference = best - worst >= 0
        return (
            _fold_interval(float(r_ci[0][w]), float(r_ci[1][w])),
            _abs_interval(float(-d_ci[1][w]), float(-d_ci[0][w])),
        )
    ok = vd.sufficient & ~np.isnan(d.difference)
    wd = int(np.flatnonzero(ok)[np.argmax(np.abs(d.difference[ok]))]) if ok.any() else w
    return (
        _fold_interval(float(r_ci[0][w]), float(r_ci[1][w])),
        _abs_interval(float(d_ci[0][wd]), float(d_ci[1][wd])),
    )


def add_significance(vd: ViewData) -> None:
    """Test each group's gap against the view's reference for every proportion metric.

    The reference is the reference group of each metric's disparity; with
    ``reference_group="overall"`` a group is compared with the rest of the population (its
    complement), since it is part of the overall population itself. With ``"min_max"`` the
    reference is the best-off group, chosen after seeing the data, which makes the tests
    somewhat optimistic (anti-conservative).
    """
    n_groups = vd.conf.shape[0]
    for m in PROPORTIONS:
        d = vd.arrays[m]
        x, n = proportion_parts(m, vd.conf, vd.conf_sq)
        if d.reference_index is None:
            conf_all = vd.conf.sum(axis=0, keepdims=True)
            sq_all = None if vd.conf_sq is None else vd.conf_sq.sum(axis=0, keepdims=True)
            rest = conf_all - vd.conf
            rest_sq = None if sq_all is None or vd.conf_sq is None else sq_all - vd.conf_sq
            xr, nr = proportion_parts(m, rest, rest_sq)
        else:
            j = d.reference_index
            xr, nr = np.full(n_groups, x[j]), np.full(n_groups, n[j])
        p, tests = two_proportion_tests(x, n, xr, nr)
        if d.reference_index is not None:
            p[d.reference_index] = np.nan
            tests[d.reference_index] = "reference"
        vd.tests[m] = (p, holm(p), tests)
