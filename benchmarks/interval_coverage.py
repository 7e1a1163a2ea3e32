"""Coverage of the audit's 95% intervals for a small group against a large reference group.

The design of the audit's small-count check: a reference group of 1,000 rows at rate 0.40 and
a group of {30, 60, 200, 1000} rows at rate {0.02, 0.05, 0.3, 0.5}; labels are fair coins and
decisions independent of them, so the selection rate and the TPR of a group both equal its
rate. Each simulated audit's interval of the group's ratio and difference against the
reference is checked against the truth. Methods:

* ``score``: the audit's default (Wilson / Newcombe / MOVER-R from the counts);
* ``bootstrap``: percentile intervals of the cell bootstrap, the audit's ``interval_method=
  "bootstrap"`` (and its only method before score intervals);

each on unweighted counts and on weights that vary within cells (3 for 30% of rows, 1 for the
rest; the bootstrap then takes its ``multinomial-gamma`` path).

    PYTHONPATH=src .venv/bin/python benchmarks/interval_coverage.py
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

SIZES = (30, 60, 200, 1000)
RATES = (0.02, 0.05, 0.3, 0.5)
REF_SIZE, REF_RATE = 1000, 0.4
METRICS = ("selection_rate", "true_positive_rate")


def simulate(rng: np.random.Generator, size: int, rate: float, n_sim: int, weighted: bool
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts, weight sums and squared-weight sums ``(n_sim, 2 groups, 2, 2)``."""
    k_all, w_all, q_all = [], [], []
    for n, p in ((REF_SIZE, REF_RATE), (size, rate)):
        k = rng.multinomial(n, [0.5 * (1 - p), 0.5 * p, 0.5 * (1 - p), 0.5 * p], size=n_sim)
        heavy = rng.binomial(k, 0.3) if weighted else np.zeros_like(k)
        k_all.append(k)
        w_all.append(k + 2 * heavy)
        q_all.append(k + 8 * heavy)
    shape = (n_sim, 2, 2, 2)
    return tuple(np.stack(a, axis=1).reshape(shape).astype(np.float64) for a in (k_all, w_all, q_all))


def score_cover(w: np.ndarray, q: np.ndarray, metric: str, rate: float, weighted: bool) -> tuple[float, float]:
    from fairslm.metrics import (
        mover_ratio_interval,
        newcombe_difference_interval,
        proportion_counts,
    )

    x, n, _ = proportion_counts(metric, w, q if weighted else None)
    ok = n[:, 0] * n[:, 1] > 0
    r_lo, r_hi = mover_ratio_interval(x[ok, 1], n[ok, 1], x[ok, 0], n[ok, 0])
    d_lo, d_hi = newcombe_difference_interval(x[ok, 1], n[ok, 1], x[ok, 0], n[ok, 0])
    r, d = rate / REF_RATE, rate - REF_RATE
    return float(np.mean((r_lo <= r) & (r <= r_hi))), float(np.mean((d_lo <= d) & (d <= d_hi)))


def bootstrap_cover(k: np.ndarray, w: np.ndarray, q: np.ndarray, metric: str, rate: float,
                    weighted: bool, n_rep: int, seed: int) -> tuple[float, float]:
    from fairslm.metrics import (
        bootstrap_method,
        bootstrap_tables,
        compute_rates,
        percentile_interval,
    )

    hits_r = hits_d = total = 0
    r_true, d_true = rate / REF_RATE, rate - REF_RATE
    for i in range(k.shape[0]):
        method = bootstrap_method(k[i], w[i], q[i], weighted=weighted)
        reps = np.concatenate(list(bootstrap_tables(
            k[i], w[i] if weighted else None, q[i] if weighted else None,
            n_replicates=n_rep, seed=seed + i, method=method)))
        v = compute_rates(reps, [metric])[metric]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(v[:, 0] > 0, v[:, 1] / v[:, 0], np.nan)
        (r_lo,), (r_hi,) = percentile_interval(ratio[:, None])
        (d_lo,), (d_hi,) = percentile_interval((v[:, 1] - v[:, 0])[:, None])
        if np.isnan(d_lo):
            continue
        total += 1
        hits_r += bool(r_lo <= r_true <= r_hi)
        hits_d += bool(d_lo <= d_true <= d_hi)
    return hits_r / max(total, 1), hits_d / max(total, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--score-sims", type=int, default=100_000, help="Simulated audits a cell (score).")
    ap.add_argument("--bootstrap-sims", type=int, default=400, help="Simulated audits a cell (bootstrap).")
    ap.add_argument("--replicates", type=int, default=500, help="Bootstrap replicates an audit.")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    rows = []
    t0 = time.perf_counter()
    for weighted in (False, True):
        for size in SIZES:
            for rate in RATES:
                k, w, q = simulate(rng, size, rate, args.score_sims, weighted)
                kb, wb, qb = simulate(rng, size, rate, args.bootstrap_sims, weighted)
                for metric in METRICS:
                    s = score_cover(w, q, metric, rate, weighted)
                    b = bootstrap_cover(kb, wb, qb, metric, rate, weighted, args.replicates, args.seed)
                    rows.append((weighted, metric, size, rate, s, b))
    elapsed = time.perf_counter() - t0
    print(f"95% intervals of a group's ratio / difference against a reference of {REF_SIZE} rows at "
          f"{REF_RATE}; score: {args.score_sims:,} audits a cell, bootstrap: {args.bootstrap_sims} "
          f"audits x {args.replicates} replicates ({elapsed:.0f} s)")
    print()
    print("| weights | metric | n | rate | score ratio | score diff | bootstrap ratio | bootstrap diff |")
    print("|---|---|---|---|---|---|---|---|")
    for weighted, metric, size, rate, (sr, sd), (br, bd) in rows:
        name = "selection rate" if metric == "selection_rate" else "TPR"
        print(f"| {'varying' if weighted else 'none'} | {name} | {size} | {rate} | {sr:.1%} | {sd:.1%} | "
              f"{br:.1%} | {bd:.1%} |")
    score = [v for r in rows for v in r[4]]
    boot = [v for r in rows for v in r[5]]
    inside = sum(0.93 <= v <= 0.97 for v in score)
    print()
    print(f"score: {min(score):.1%}-{max(score):.1%}, {inside}/{len(score)} cells in 93-97%; "
          f"bootstrap: {min(boot):.1%}-{max(boot):.1%}, {sum(0.93 <= v <= 0.97 for v in boot)}/{len(boot)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
