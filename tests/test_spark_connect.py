"""Smoke test on Spark Connect: the engine uses the DataFrame and SQL API only.

The Connect server runs in a child process (a Python process holds either a classic session or
the local Connect server pyspark starts, not both). It is bound to 127.0.0.1 on a free port
rather than pyspark's fixed 15002, so two test runs on one machine do not collide.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairslm.engines import count_table_from_arrays

pytestmark = pytest.mark.spark

_CHILD = textwrap.dedent(
    """
    import json, os, socket, sys, warnings
    warnings.simplefilter("ignore", FutureWarning)  # pyspark's blanket pandas>=3 warning
    sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]
    sock.close()
    from fairslm.engines import spark_session
    from pyspark.sql.connect.session import SparkSession as ConnectSession
    spark_session("local[2]", config={
        "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.sql.shuffle.partitions": "2",
    })
    remote = ConnectSession.builder.remote(f"sc://127.0.0.1:{port}").getOrCreate()
    import fairslm
    df = remote.read.parquet(sys.argv[1])
    res = fairslm.audit_spark(df, y_true="label", y_pred="pred", sensitive=["g"],
                              weight="w", min_group_size=1)
    print("RESULT=" + json.dumps({
        "module": type(df).__module__,
        "table_sha256": res.provenance["table_sha256"],
        "connect": res.provenance["spark"]["connect"],
        "ratio": res.view("g").criterion("statistical_parity").ratio,
    }))
    """
)


def test_audit_on_spark_connect(tmp_path: Path) -> None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark tests need Java 17 or 21; none found on PATH or in JAVA_HOME")
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"label": rng.integers(0, 2, n), "pred": rng.integers(0, 2, n),
                       "g": rng.choice(["F", "M"], n), "w": rng.integers(1, 5, n) / 2.0})
    df.to_parquet(tmp_path / "p.parquet")
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path / "p.parquet")],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT=")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    got = json.loads(lines[-1][len("RESULT="):])
    assert got["module"].startswith("pyspark.sql.connect") and got["connect"] is True
    ref = fairslm_audit(df)
    assert got["table_sha256"] == ref.provenance["table_sha256"]
    assert got["ratio"] == ref.view("g").criterion("statistical_parity").ratio


def fairslm_audit(df: pd.DataFrame):
    from fairslm.audit import audit_count_table

    table = count_table_from_arrays(df["label"], df["pred"], df[["g"]], sample_weight=df["w"])
    return audit_count_table(table, min_group_size=1)
