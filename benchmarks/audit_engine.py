"""Benchmark the counts-first audit engine against Fairlearn's MetricFrame.

Sections (all in one run, peers measured in the same run on the same inputs):

1. 1M rows with 3, 60 and 600 intersectional groups, sensitive features given as pandas string
   columns and as categoricals: Fairlearn ``MetricFrame`` (six metrics, then ``difference()``
   and ``ratio()``) against ``fairslm.audit_predictions`` (every metric, disparities, criteria
   and significance tests of the intersectional view). The numbers are asserted identical
   (to 1e-12).
2. 10M rows, fairslm alone.
3. 1,000 bootstrap replicates at 10M rows from arrays, and the bootstrap stage alone at 60,
   600 and 6,000 groups.
4. A Parquet file of 10M and of 100M rows through DuckDB (``fairslm.audit_file``), each in a
   fresh process: wall time and peak resident memory.
5. Coverage of the 95% bootstrap intervals by simulation (small groups included).

Run ``python benchmarks/audit_engine.py`` (full; about 15 minutes on 2 cores, needs ~1 GB of
disk for the Parquet files) or ``--quick`` (a minute; smaller sizes, fewer repeats).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

import fairslm
from fairslm.audit import audit_count_table
from fairslm.engines import count_table_from_arrays
from fairslm.metrics import bootstrap_tables, compute_rates, percentile_interval

# groups -> levels of the three sensitive features (their product is the number of groups)
GROUPINGS = {3: (3,), 60: (3, 4, 5), 600: (6, 10, 10), 6000: (10, 20, 30)}
SIX = ["selection_rate", "true_positive_rate", "false_positive_rate", "true_negative_rate",
       "precision", "accuracy"]


def make_data(n: int, sizes: tuple[int, ...], seed: int = 0):
    """Labels as int arrays; sensitive features as pandas string columns and categoricals."""
    rng = np.random.default_rng(seed)
    cols = {}
    for i, s in enumerate(sizes):
        names = np.array([f"f{i}_level{k}" for k in range(s)])
        cols[f"f{i}"] = pd.Series(names[rng.integers(0, s, n)])  # pandas 3: str dtype
    strings = pd.DataFrame(cols)
    cats = strings.astype("category")
    codes = cats["f0"].cat.codes.to_numpy()
    y_true = (rng.random(n) < 0.3 + 0.05 * (codes % 3)).astype(np.int64)
    flip = rng.random(n) < 0.15 + 0.05 * (codes % 2)
    y_pred = np.where(flip, 1 - y_true, y_true)
    return y_true, y_pred, strings, cats


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def metricframe(y_true, y_pred, sf):
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    metrics = {
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
        "true_negative_rate": true_negative_rate,
        "precision": functools.partial(precision_score, zero_division=np.nan),
        "accuracy": accuracy_score,
    }
    mf = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=sf)
    return mf, mf.difference(), mf.ratio()


def fairslm_audit(y_true, y_pred, sf):
    return fairslm.audit_predictions(y_true, y_pred, sensitive_features=sf, marginals=False)


def max_gap(res, mf_out, features) -> float:
    """Largest |fairslm - Fairlearn| over groups x six metrics, differences and ratios."""
    mf, diff, ratio = mf_out
    view = res.view(" & ".join(features))
    gap = 0.0
    assert len(view.groups) == len(mf.by_group)
    for g in view.groups:
        key = tuple(g.values[f] for f in features)
        row = mf.by_group.loc[key if len(key) > 1 else key[0]]
        for m in SIX:
            gap = max(gap, abs(g.metrics[m] - float(row[m])))
    for m in SIX:
        d = view.disparities[m]
        gap = max(gap, abs(d.difference - float(diff[m])), abs(d.ratio - float(ratio[m])))
    return gap


def section_metricframe(n: int, groups: list[int], rep_mf: int, rep_fs: int, rows: list) -> None:
    for n_groups in groups:
        y_true, y_pred, strings, cats = make_data(n, GROUPINGS[n_groups])
        features = list(strings.columns)
        for kind, sf in (("strings", strings), ("categoricals", cats)):
            fairslm_audit(y_true, y_pred, sf)  # warm-up (imports)
            t_fs, res = median_time(functools.partial(fairslm_audit, y_true, y_pred, sf), rep_fs)
            reps = rep_mf if n_groups < 600 else 1
            t_mf, mf_out = median_time(functools.partial(metricframe, y_true, y_pred, sf), reps)
            gap = max_gap(res, mf_out, features)
            assert gap <= 1e-12, f"fairslm and MetricFrame disagree by {gap}"
            rows.append({"case": f"{n / 1e6:g}M rows x {n_groups} groups", "input": kind,
                         "fairslm_s": t_fs, "metricframe_s": t_mf, "ratio": t_mf / t_fs,
                         "max_abs_diff": gap, "repeats": f"{rep_fs}/{reps}"})
            print(f"  {rows[-1]['case']:<24} {kind:<13} fairslm {t_fs:8.4f} s   "
                  f"MetricFrame {t_mf:8.2f} s   x{t_mf / t_fs:8.0f}   |diff| {gap:.1e}",
                  flush=True)


def section_large(n: int, rep: int, rows: list) -> None:
    y_true, y_pred, strings, cats = make_data(n, GROUPINGS[60], seed=1)
    for kind, sf in (("strings", strings), ("categoricals", cats)):
        t, _ = median_time(functools.partial(fairslm_audit, y_true, y_pred, sf), rep)
        rows.append({"case": f"{n / 1e6:g}M rows x 60 groups", "input": kind, "fairslm_s": t})
        print(f"  {rows[-1]['case']:<24} {kind:<13} fairslm {t:8.3f} s", flush=True)
    codes = [cats[c].cat.codes.to_numpy() for c in cats.columns]

    def boot():
        return fairslm.audit_predictions(
            y_true, y_pred, sensitive_features={f"f{i}": c for i, c in enumerate(codes)},
            n_bootstrap=1000, seed=0, marginals=False,
        )

    boot()
    t, res = median_time(boot, rep)
    rows.append({"case": f"{n / 1e6:g}M rows x 60 groups, 1000 bootstrap replicates",
                 "input": "int arrays", "fairslm_s": t,
                 "method": res.extras["bootstrap"]["method"]})
    print(f"  {rows[-1]['case']:<24} arrays        fairslm {t:8.3f} s (aggregation included)",
          flush=True)


def section_bootstrap_groups(rep: int, rows: list) -> None:
    for n_groups in (60, 600, 6000):
        y_true, y_pred, _, cats = make_data(1_000_000, GROUPINGS[n_groups], seed=2)
        table = count_table_from_arrays(y_true, y_pred, cats)

        def run(table=table):
            return audit_count_table(table, n_bootstrap=1000, seed=0, marginals=False,
                                     significance=False, min_group_size=0)

        t_plain, _ = median_time(
            lambda table=table: audit_count_table(table, marginals=False, significance=False,
                                                  min_group_size=0), rep)
        t, _ = median_time(run, rep)
        rows.append({"case": f"bootstrap stage, {table.n_groups} groups, 1000 replicates",
                     "input": "count table", "fairslm_s": t - t_plain})
        print(f"  {rows[-1]['case']:<46} {t - t_plain:8.3f} s", flush=True)


def write_parquet(path: Path, n: int, chunk: int = 5_000_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(3)
    levels = [pa.array([f"f{i}_level{k}" for k in range(s)]) for i, s in enumerate((3, 4, 5))]
    writer = None
    done = 0
    while done < n:
        m = min(chunk, n - done)
        y = (rng.random(m) < 0.35).astype(np.int8)
        p = np.where(rng.random(m) < 0.2, 1 - y, y).astype(np.int8)
        cols = {"label": pa.array(y), "pred": pa.array(p)}
        for i, lv in enumerate(levels):
            idx = pa.array(rng.integers(0, len(lv), m).astype(np.int32))
            cols[f"f{i}"] = pa.DictionaryArray.from_arrays(idx, lv)
        table = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=1_000_000)
        done += m
    if writer is not None:
        writer.close()


CHILD = textwrap.dedent("""
    import json, sys, time
    import fairslm

    def hwm():  # peak RSS of this process image (ru_maxrss would carry the parent's over exec)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024

    before = hwm()
    t0 = time.perf_counter()
    res = fairslm.audit_file(sys.argv[1], y_true="label", y_pred="pred",
                             sensitive=["f0", "f1", "f2"], memory_limit="1GB")
    t = time.perf_counter() - t0
    print(json.dumps({"seconds": t, "peak_rss_mb": hwm(), "import_rss_mb": before,
                      "rows": res.task["n_rows"]}))
""")


def ensure_parquet(data_dir: Path, n: int) -> Path:
    """The n-row predictions file in ``data_dir``, written once and reused by later runs."""
    path = data_dir / f"preds_{n}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        write_parquet(path, n)
        print(f"  wrote {path} ({path.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    return path


def section_duckdb(sizes: list[int], data_dir: Path, rows: list) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        path = ensure_parquet(data_dir, n)
        env = dict(os.environ, PYTHONPATH=str(Path(fairslm.__file__).parents[1]))
        runs = []
        for _ in range(3):
            out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                                 text=True, env=env, check=True)
            last = out.stdout.strip().splitlines()[-1]
            runs.append(json.loads(last[last.index("{"):]))
        assert runs[0]["rows"] == n
        t = statistics.median(r["seconds"] for r in runs)
        rss = max(r["peak_rss_mb"] for r in runs)
        base = max(r["import_rss_mb"] for r in runs)
        rows.append({"case": f"{n / 1e6:g}M-row Parquet through DuckDB", "input": "file",
                     "fairslm_s": t, "peak_rss_mb": rss, "import_rss_mb": base,
                     "file_mb": path.stat().st_size / 1e6})
        print(f"  {rows[-1]['case']:<34} {t:7.2f} s   peak RSS {rss:6.0f} MB (process total; "
              f"{base:.0f} MB after imports)", flush=True)


def section_coverage(n_sim: int, rows: list) -> None:
    rng = np.random.default_rng(20260101)
    sizes = np.array([1000, 150, 40])
    probs = np.array([
        [[0.35, 0.15], [0.15, 0.35]],
        [[0.45, 0.15], [0.15, 0.25]],
        [[0.55, 0.15], [0.15, 0.15]],
    ])
    sel = probs[:, :, 1].sum(axis=1)
    tpr = probs[:, 1, 1] / probs[:, 1].sum(axis=1)
    targets = {"selection-rate ratio": sel[1:] / sel[0], "selection-rate difference":
               sel[1:] - sel[0], "TPR difference": tpr[1:] - tpr[0], "TPR ratio": tpr[1:] / tpr[0]}
    hits = {k: np.zeros(2) for k in targets}
    for s in range(n_sim):
        counts = np.stack([rng.multinomial(n, p.ravel()).reshape(2, 2)
                           for n, p in zip(sizes, probs, strict=True)]).astype(float)
        reps = np.concatenate(list(bootstrap_tables(counts, n_replicates=1000, seed=s)))
        r = compute_rates(reps)
        s_, t_ = r["selection_rate"], r["true_positive_rate"]
        stats = {"selection-rate ratio": s_[:, 1:] / s_[:, :1],
                 "selection-rate difference": s_[:, 1:] - s_[:, :1],
                 "TPR difference": t_[:, 1:] - t_[:, :1], "TPR ratio": t_[:, 1:] / t_[:, :1]}
        for k, v in stats.items():
            lo, hi = percentile_interval(v, 0.95)
            hits[k] += (lo <= targets[k]) & (targets[k] <= hi)
    for k, h in hits.items():
        cov = h / n_sim
        rows.append({"case": f"coverage of 95% percentile-bootstrap CI: {k}", "n=150": cov[0], "n=40": cov[1],
                     "simulations": n_sim})
        print(f"  {k:<28} group n=150: {cov[0]:.3f}   group n=40: {cov[1]:.3f}   "
              f"({n_sim} simulations, reference group n=1000)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repeats (~1 min)")
    ap.add_argument("--data-dir", type=Path,
                    default=Path(tempfile.gettempdir()) / "fairslm-bench")
    ap.add_argument("--only", default="1,2,3,4,5",
                    help="comma-separated sections to run (default: all)")
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).with_name("results") / "audit_engine.json")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    rows: list[dict] = []
    q = args.quick
    print(f"fairslm {fairslm.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    only = set(args.only.split(","))
    if "1" in only:
        print("1. MetricFrame vs fairslm (medians)")
        section_metricframe(200_000 if q else 1_000_000, [3, 60] if q else [3, 60, 600],
                            1 if q else 3, 3 if q else 9, rows)
    if "2" in only:
        print("2. fairslm alone at scale; 1000 bootstrap replicates from arrays")
        section_large(1_000_000 if q else 10_000_000, 1 if q else 3, rows)
    if "3" in only:
        print("3. The bootstrap stage alone")
        section_bootstrap_groups(1 if q else 3, rows)
    if "4" in only:
        print("4. Parquet through DuckDB (fresh process each run)")
        section_duckdb([1_000_000, 5_000_000] if q else [10_000_000, 100_000_000],
                       args.data_dir, rows)
    if "5" in only:
        print("5. Interval coverage")
        section_coverage(300 if q else 5000, rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n{'case':<58} {'input':<13} {'fairslm s':>10} {'MetricFrame s':>14} {'ratio':>8}")
    for r in rows:
        if "fairslm_s" not in r:
            continue
        mf = f"{r['metricframe_s']:14.2f}" if "metricframe_s" in r else " " * 14
        ratio = f"{r['ratio']:8.0f}" if "ratio" in r else " " * 8
        extra = f"  peak RSS {r['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in r else ""
        print(f"{r['case']:<58} {r['input']:<13} {r['fairslm_s']:10.4f} {mf} {ratio}{extra}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}; results in {args.out}")


if __name__ == "__main__":
    main()
