"""Bootstrap intervals and significance tests for the views of an audit.

Replicates are drawn once over the cells of the finest (intersectional) table and aggregated
to every view, so intersections and marginals come from the same resamples. Everything is
vectorised over replicates; nothing touches rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.audit._views import ViewData, criterion_summary
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
    rms_tpr_gap,
    two_proportion_tests,
)

__all__ = ["add_bootstrap", "add_significance"]

Array = NDArray[np.float64]


def _pair(lo: Any, hi: Any) -> tuple[float, float]:
    return (float(lo), float(hi))


def add_bootstrap(
    root: CountTable,
    views: list[ViewData],
    *,
    n_bootstrap: int,
    confidence: float,
    seed: int,
    stratify: bool,
    crit_names: tuple[str, ...],
    rms_groupings: dict[str, tuple[NDArray[np.int64], NDArray[np.bool_]]],
) -> tuple[dict[str, Any], dict[str, tuple[float, float]]]:
    """Fill each view's intervals in place; return the bootstrap's description and RMS CIs.

    ``rms_groupings`` maps a view name to (root -> view group index, eligible groups) for the
    RMS TPR gap's interval.
    """
    method = bootstrap_method(
        root.counts, root.weight_sums, root.weight_sq_sums, weighted=root.weighted
    )
    k = len(root.classes)
    # One aggregation matrix per distinct grouping (views of several classes share one).
    groupings: dict[bytes, tuple[Array | None, int]] = {}
    for vd in [*views]:
        key = vd.root_index.tobytes()
        if key not in groupings:
            n_v = int(vd.root_index.max()) + 1 if vd.root_index.size else 0
            identity = n_v == root.n_groups and np.array_equal(vd.root_index, np.arange(n_v))
            mat = None
            if not identity:
                mat = np.zeros((n_v, root.n_groups))
                mat[vd.root_index, np.arange(root.n_groups)] = 1.0
            groupings[key] = (mat, n_v)
    conf_rep = {id(vd): np.empty((n_bootstrap, vd.conf.shape[0], 2, 2)) for vd in views}
    overall_rep: dict[object, Array] = {}
    rms_tpr = {
        name: np.empty((n_bootstrap, k, int(idx.max()) + 1)) for name, (idx, _) in rms_groupings.items()
    }
    rms_keys = {name: idx.tobytes() for name, (idx, _) in rms_groupings.items()}
    for name, (idx, _) in rms_groupings.items():
        if rms_keys[name] not in groupings:
            mat = np.zeros((int(idx.max()) + 1, root.n_groups))
            mat[idx, np.arange(root.n_groups)] = 1.0
            groupings[rms_keys[name]] = (mat, int(idx.max()) + 1)
    done = 0
    blocks = bootstrap_tables(
        root.counts,
        root.weight_sums if root.weighted else None,
        root.weight_sq_sums if root.weighted else None,
        n_replicates=n_bootstrap,
        seed=seed,
        stratify=stratify,
        method=method,
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
            if vd.pos not in overall_rep:
                overall_rep[vd.pos] = np.empty((n_bootstrap, 1, 2, 2))
            overall_rep[vd.pos][sl] = root.binary(vd.pos, source=total)
        for name, key in rms_keys.items():
            rms_tpr[name][sl] = class_tpr(agg[key])
        done += b

    for vd in views:
        rates = compute_rates(conf_rep[id(vd)])
        overall = {m: v[:, 0] for m, v in compute_rates(overall_rep[vd.pos]).items()}
        batches = {}
        for m in BINARY_METRICS:
            lo, hi = percentile_interval(rates[m], confidence)
            vd.group_ci[m] = (lo, hi)
            bt = disparity_batch(
                rates[m], eligible=vd.sufficient, sizes=vd.counts, reference=vd.ref,
                overall_values=overall[m],
            )
            batches[m] = bt
            sr = percentile_interval(bt.summary_ratio[:, None], confidence)
            sd = percentile_interval(bt.summary_difference[:, None], confidence)
            vd.disp_ci[m] = {
                "ratio": percentile_interval(bt.ratio, confidence),
                "difference": percentile_interval(bt.difference, confidence),
                "summary_ratio": _pair(sr[0][0], sr[1][0]),
                "summary_difference": _pair(sd[0][0], sd[1][0]),
            }
        for c in crit_names:
            mets = CRITERIA[c][0]
            r, d = criterion_summary(
                [batches[m].summary_ratio for m in mets],
                [batches[m].summary_difference for m in mets],
            )
            rl, rh = percentile_interval(r[:, None], confidence)
            dl, dh = percentile_interval(d[:, None], confidence)
            vd.crit_ci[c] = {"ratio": _pair(rl[0], rh[0]), "difference": _pair(dl[0], dh[0])}

    rms_ci: dict[str, tuple[float, float]] = {}
    for name, (_, eligible) in rms_groupings.items():
        rms, _gaps = rms_tpr_gap(rms_tpr[name], eligible)
        lo, hi = percentile_interval(rms[:, None], confidence)
        rms_ci[name] = _pair(lo[0], hi[0])
    info = {
        "n_replicates": int(n_bootstrap),
        "confidence": float(confidence),
        "seed": int(seed),
        "stratified": bool(stratify),
        "method": method,
        "interval": "percentile",
        "scope": "every binary metric, disparity and criterion; not roc_auc/calibration_error",
    }
    return info, rms_ci


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
