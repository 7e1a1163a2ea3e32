"""Spark engine against DuckDB on one machine: the audit's count table, and batch scoring.

Sections (one run, peers measured in the same run on the same inputs):

1. Count table of a Parquet file of 10M and of 100M rows (three sensitive features, 60
   intersectional groups): DuckDB (``fairslm.engines.count_table_from_file``) and Spark
   ``local[2]`` (``fairslm.engines.count_table_from_spark``, the same SQL), each in a fresh
   process: wall time of the aggregation (Spark's session start shown apart), peak resident
   memory of the Python driver and, for Spark, of its JVM (driver and executors in one
   process in local mode). The tables are asserted identical.
2. Scoring bios with the packaged all-MiniLM-L6-v2 (a seeded, randomly initialised 2-class
   head saved to a temporary folder): the in-process adapter with 2 torch threads against
   ``fairslm.models.score_spark`` on ``local[2]`` (two Python workers of one thread each).
   The scores are asserted equal to 1e-6.

Run with the data outside the repository::

    python benchmarks/spark_engine.py --data-dir ../bench-data
    python benchmarks/spark_engine.py --quick          # 1M/10M rows, 500 bios: a smoke run

``--sections engine`` or ``--sections scoring`` runs one of them (each takes well
under half an hour on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_engine import ensure_parquet  # noqa: E402  (same 3-feature file as that benchmark)

SENSITIVE = ["f0", "f1", "f2"]

CHILD = textwrap.dedent("""
    import json, os, sys, time, warnings
    warnings.simplefilter("ignore", FutureWarning)

    def hwm(pid="self"):
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024

    def jvm_pids():
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    stat = open(f"/proc/{d}/stat").read().split()
                    cmd = open(f"/proc/{d}/cmdline").read()
                except OSError:
                    continue
                if stat[3] == str(os.getpid()) and "java" in cmd:
                    out.append(d)
        return out

    engine, path = sys.argv[1], sys.argv[2]
    from fairslm.engines import count_table_from_file, count_table_from_spark, spark_session
    t0 = time.perf_counter()
    start = 0.0
    if engine == "spark":
        spark = spark_session("local[2]", config={"spark.driver.memory": "2g"})
        start = time.perf_counter() - t0
    base = hwm()
    t1 = time.perf_counter()
    if engine == "spark":
        table = count_table_from_spark(path, spark=spark, y_true="label", y_pred="pred",
                                       sensitive=["f0", "f1", "f2"])
    else:
        table = count_table_from_file(path, y_true="label", y_pred="pred",
                                      sensitive=["f0", "f1", "f2"], memory_limit="1GB")
    t = time.perf_counter() - t1
    jvm = [hwm(p) for p in jvm_pids()]
    print("RESULT=" + json.dumps({
        "seconds": t, "start_s": start, "py_rss_mb": hwm(), "py_base_mb": base,
        "jvm_rss_mb": max(jvm) if jvm else None, "rows": table.n_rows,
        "counts": table.counts.tolist(), "keys": table.keys.tolist(),
    }))
""")


def run_child(engine: str, path: Path) -> dict:
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable)
    out = subprocess.run([sys.executable, "-c", CHILD, engine, str(path)], capture_output=True,
                         text=True, env=env)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT=")]
    if out.returncode or not lines:
        raise SystemExit(f"{engine} run failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT="):])


def section_engine(sizes: list[int], data_dir: Path, repeats: int, rows: list) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        path = ensure_parquet(data_dir, n)
        results: dict[str, list[dict]] = {"duckdb": [], "spark": []}
        for _ in range(repeats):  # interleaved, so a busy machine slows both alike
            for engine in results:
                results[engine].append(run_child(engine, path))
        duck, spark = results["duckdb"], results["spark"]
        assert duck[0]["rows"] == spark[0]["rows"] == n
        assert duck[0]["counts"] == spark[0]["counts"] and duck[0]["keys"] == spark[0]["keys"]
        t_duck = sorted(r["seconds"] for r in duck)[len(duck) // 2]
        t_spark = sorted(r["seconds"] for r in spark)[len(spark) // 2]
        row = {
            "rows": n, "duckdb_s": t_duck, "spark_s": t_spark, "ratio": t_spark / t_duck,
            "spark_start_s": sorted(r["start_s"] for r in spark)[len(spark) // 2],
            "duckdb_rss_mb": max(r["py_rss_mb"] for r in duck),
            "spark_py_rss_mb": max(r["py_rss_mb"] for r in spark),
            "spark_jvm_rss_mb": max(r["jvm_rss_mb"] or 0 for r in spark),
            "spark_rows_per_s_per_core": n / t_spark / 2,
        }
        rows.append(row)
        print(f"  {n / 1e6:g}M rows: DuckDB {t_duck:.2f} s, Spark {t_spark:.2f} s "
              f"(x{row['ratio']:.1f}; session start {row['spark_start_s']:.1f} s)", flush=True)


def section_scoring(n: int, repeats: int, rows: list) -> None:
    import numpy as np
    import pandas as pd

    import fairslm
    from fairslm.engines import spark_session
    from fairslm.models import load_minilm_classifier, score_spark
    from inference import load_texts

    texts, source = load_texts(n, seed=0)
    tmp = Path(tempfile.mkdtemp(prefix="fairslm-bench-"))
    import torch

    torch.manual_seed(0)
    model, tok = load_minilm_classifier(2, {0: "nurse", 1: "surgeon"}, seed=0)
    model.save_pretrained(tmp / "model")
    tok.save_pretrained(tmp / "model")
    adapter = fairslm.load_model(tmp / "model", cache=False, num_threads=2, show_progress=False)
    spark = spark_session("local[2]")
    frame = spark.createDataFrame(pd.DataFrame({"id": np.arange(n), "text": texts}))
    frame = frame.repartition(2).cache()
    frame.count()
    # Warm both (model load, JIT): the table reports steady-state throughput.
    adapter.predict_proba(texts[:64])
    score_spark(frame.limit(64), tmp / "model", num_threads=1, show_progress=False).count()
    t_in, t_sp = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        want = adapter.predict_proba(texts)
        t_in.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        got = score_spark(frame, tmp / "model", num_threads=1, show_progress=False).select(
            "id", "proba").collect()
        t_sp.append(time.perf_counter() - t0)
    proba = np.array([r["proba"] for r in sorted(got, key=lambda r: r["id"])])
    err = float(np.abs(proba - want).max())
    assert err < 1e-6, err
    t_in_m, t_sp_m = sorted(t_in)[len(t_in) // 2], sorted(t_sp)[len(t_sp) // 2]
    rows.append({"texts": n, "source": source, "in_process_s": t_in_m, "spark_s": t_sp_m,
                 "ratio": t_sp_m / t_in_m, "max_abs_diff": err})
    print(f"  {n} texts: in-process {t_in_m:.1f} s, Spark {t_sp_m:.1f} s "
          f"(x{t_sp_m / t_in_m:.2f}); max |diff| {err:.1e}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[1].parent / "bench-data")
    parser.add_argument("--sections", default="engine,scoring")
    parser.add_argument("--quick", action="store_true", help="1M/10M rows, 500 bios, 1 repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scoring-repeats", type=int, default=1,
                        help="scoring runs each way (5,000 MiniLM bios take minutes per run)")
    parser.add_argument("--bios", type=int, default=5000)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    sizes = [1_000_000, 10_000_000] if args.quick else [10_000_000, 100_000_000]
    repeats = 1 if args.quick else args.repeats
    n_bios = 500 if args.quick else args.bios
    sections = args.sections.split(",")
    engine_rows: list[dict] = []
    scoring_rows: list[dict] = []
    if "engine" in sections:
        print("1. count table of a Parquet file: DuckDB vs Spark local[2]", flush=True)
        section_engine(sizes, args.data_dir, repeats, engine_rows)
    if "scoring" in sections:
        print(f"2. scoring {n_bios} bios with MiniLM: in-process vs Spark local[2]", flush=True)
        section_scoring(n_bios, 1 if args.quick else args.scoring_repeats, scoring_rows)
    print()
    if engine_rows:
        print("| rows | DuckDB s | Spark local[2] s | Spark / DuckDB | Spark session start s "
              "| DuckDB peak RSS MB | Spark driver (Python) peak RSS MB | Spark JVM peak RSS MB "
              "| Spark rows/s per core |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in engine_rows:
            print(f"| {r['rows']:,} | {r['duckdb_s']:.2f} | {r['spark_s']:.2f} | "
                  f"{r['ratio']:.1f} | {r['spark_start_s']:.1f} | {r['duckdb_rss_mb']:.0f} | "
                  f"{r['spark_py_rss_mb']:.0f} | {r['spark_jvm_rss_mb']:.0f} | "
                  f"{r['spark_rows_per_s_per_core']:,.0f} |")
    if scoring_rows:
        print()
        print("| texts | in-process (2 threads) s | Spark local[2] s | Spark / in-process "
              "| max abs diff |")
        print("|---:|---:|---:|---:|---:|")
        for r in scoring_rows:
            print(f"| {r['texts']:,} | {r['in_process_s']:.1f} | {r['spark_s']:.1f} | "
                  f"{r['ratio']:.2f} | {r['max_abs_diff']:.1e} |")
    if args.json:
        args.json.write_text(json.dumps({"engine": engine_rows, "scoring": scoring_rows},
                                        indent=1))


if __name__ == "__main__":
    main()
