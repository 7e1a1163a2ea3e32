"""The Spark engine gives the numpy engine's table, the DuckDB engine's errors, and an audit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairslm import InvalidDataError, audit_file, audit_predictions, audit_spark
from fairslm.cli._app import app
from fairslm.engines import count_table_from_arrays, count_table_from_file, count_table_from_spark

pytestmark = pytest.mark.spark


def _frame(n: int, seed: int, n_features: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "label": rng.integers(0, 2, n),
            "pred": rng.integers(0, 2, n),
            # continuous weights: sums agree to rounding, not bit for bit
            "w": rng.gamma(2.0, 1.0, n),
            "score": rng.random(n),
        }
    )
    for i, levels in enumerate([["F", "M", "X"], ["a", "b"], ["young", "old"]][:n_features]):
        col = rng.choice(levels, n).astype(object)
        col[rng.random(n) < 0.05] = None  # missing values, audited as their own group
        df[f"s{i}"] = col
    return df


def _assert_same(a, b) -> None:
    assert (a.features, a.levels, a.classes, a.weighted) == (b.features, b.levels, b.classes,
                                                             b.weighted)
    np.testing.assert_array_equal(a.keys, b.keys)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_allclose(a.weight_sums, b.weight_sums, rtol=1e-9, atol=0)
    np.testing.assert_allclose(a.weight_sq_sums, b.weight_sq_sums, rtol=1e-9, atol=0)
    assert (a.score_counts is None) == (b.score_counts is None)
    if a.score_counts is not None:
        np.testing.assert_array_equal(a.score_counts, b.score_counts)
        np.testing.assert_allclose(a.score_weight_sums, b.score_weight_sums, rtol=1e-9, atol=0)
        np.testing.assert_allclose(a.score_sums, b.score_sums, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a.score_sq_sums, b.score_sq_sums, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("n_features", "weighted", "scored"),
                         [(1, False, True), (2, True, True), (3, True, False)])
def test_spark_table_equals_numpy_table(spark, n_features, weighted, scored) -> None:
    df = _frame(2000, n_features, n_features)
    sens = [f"s{i}" for i in range(n_features)]
    got = count_table_from_spark(
        spark.createDataFrame(df), y_true="label", y_pred="pred", sensitive=sens,
        weight="w" if weighted else None, y_score="score" if scored else None, missing="group",
    )
    want = count_table_from_arrays(
        df["label"], df["pred"], df[sens], sample_weight=df["w"] if weighted else None,
        y_score=df["score"] if scored else None, missing="group",
    )
    _assert_same(got, want)


def test_paths_folders_and_string_labels(spark, tmp_path: Path) -> None:
    df = _frame(500, 7, 2)
    df["label"] = np.where(df["label"] == 1, "surgeon", "nurse")
    df["pred"] = np.where(df["pred"] == 1, "surgeon", "nurse")
    df = df.dropna()
    want = count_table_from_arrays(df["label"], df["pred"], df[["s0", "s1"]],
                                   sample_weight=df["w"])
    df.to_csv(tmp_path / "p.csv", index=False)
    folder = tmp_path / "parts"
    folder.mkdir()
    df.iloc[:200].to_parquet(folder / "part-0.parquet")
    df.iloc[200:].to_parquet(folder / "part-1.parquet")
    for source in (tmp_path / "p.csv", folder):
        got = count_table_from_spark(str(source), spark=spark, y_true="label", y_pred="pred",
                                     sensitive=["s0", "s1"], weight="w")
        _assert_same(got, want)
    spark.createDataFrame(df).createOrReplaceTempView("fairslm_test_preds")
    got = count_table_from_spark("fairslm_test_preds", spark=spark, y_true="label",
                                 y_pred="pred", sensitive=["s0", "s1"], weight="w")
    _assert_same(got, want)


def test_audit_spark_matches_in_memory_audit(spark) -> None:
    df = _frame(1500, 3, 1).dropna()
    res = audit_spark(spark.createDataFrame(df), y_true="label", y_pred="pred",
                      sensitive=["s0"], y_score="score", n_bootstrap=50, seed=3)
    ref = audit_predictions(df["label"], df["pred"], sensitive_features=df[["s0"]],
                            y_score=df["score"], n_bootstrap=50, seed=3)
    assert res.provenance["engine"] == "spark"
    assert res.provenance["source"] == {"kind": "dataframe"}
    assert res.provenance["table_sha256"] == ref.provenance["table_sha256"]
    for crit in ("statistical_parity", "equal_opportunity"):
        a, b = res.view("s0").criterion(crit), ref.view("s0").criterion(crit)
        assert (a.ratio, a.verdict) == (b.ratio, b.verdict)


def _message(func, *args, **kw) -> str:
    with pytest.raises(InvalidDataError) as info:
        func(*args, **kw)
    return str(info.value)


def test_bad_input_gives_the_duckdb_engine_messages(spark, tmp_path: Path) -> None:
    base = _frame(60, 0, 1).dropna().reset_index(drop=True)
    cases = {}
    df = base.astype({"label": float})
    df.loc[[3, 5], "label"] = np.nan
    cases["nan.parquet"] = (df, {})
    df = base.copy()
    df.loc[[1, 2, 3], "s0"] = None
    cases["miss.parquet"] = (df, {})
    df = base.copy()
    df.loc[[0, 9], "w"] = -1.0
    cases["neg.parquet"] = (df, {"weight": "w"})
    cases["spelt.parquet"] = (base, {"sensitive": ["S0"]})
    df = base.copy()
    df.loc[0, "score"] = 1.5
    cases["score.parquet"] = (df, {"y_score": "score"})
    for name, (frame, kw) in cases.items():
        path = tmp_path / name
        frame.to_parquet(path)
        args = {"y_true": "label", "y_pred": "pred", "sensitive": ["s0"], **kw}
        duck = _message(count_table_from_file, path, **args)
        assert _message(count_table_from_spark, str(path), spark=spark, **args) == duck
    one = tmp_path / "one.parquet"
    base.assign(s0="F").to_parquet(one)
    args = {"y_true": "label", "y_pred": "pred", "sensitive": ["s0"], "min_group_size": 1}
    assert _message(audit_spark, str(one), spark=spark, **args) == _message(audit_file, one, **args)


def test_spark_boundary_errors_name_the_fix(spark, tmp_path: Path) -> None:
    args = {"y_true": "label", "y_pred": "pred", "sensitive": ["s0"]}
    msg = _message(count_table_from_spark, "no_such_table_here", spark=spark, **args)
    assert "Spark has no table 'no_such_table_here'" in msg and "\n" not in msg
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 this is not really parquet")
    msg = _message(count_table_from_spark, str(bad), spark=spark, **args)
    assert msg.startswith("Spark failed on bad.parquet (parquet)") and "\tat " not in msg
    df = _frame(30, 0, 1).dropna().assign(w="heavy")
    msg = _message(count_table_from_spark, spark.createDataFrame(df), weight="w", **args)
    assert "a column that must be numeric holds text" in msg
    msg = _message(count_table_from_spark, pd.DataFrame(df), **args)
    assert "got DataFrame. For a pandas DataFrame use fairslm.audit_predictions" in msg
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "x.bin").write_text("?")
    msg = _message(count_table_from_spark, str(tmp_path / "odd"), spark=spark, **args)
    assert "cannot tell the format" in msg and "format=" in msg


def test_cli_engine_spark(spark, tmp_path: Path) -> None:
    df = _frame(400, 5, 1).dropna()
    path = tmp_path / "p.parquet"
    df.to_parquet(path)
    out = tmp_path / "audit.json"
    runner = CliRunner()
    args = ["audit-predictions", str(path), "--y-true", "label", "--y-pred", "pred",
            "--sensitive", "s0", "--out", str(out)]
    res = runner.invoke(app, [*args, "--engine", "spark", "--spark-master", "local[2]"])
    assert res.exit_code in (0, 1), res.output
    data = json.loads(out.read_text())
    assert data["provenance"]["engine"] == "spark"
    assert data["provenance"]["source"]["format"] == "parquet"
    res = runner.invoke(app, [*args, "--engine", "spark", "--sensitive", "gendr"])
    assert res.exit_code == 2
    assert "column 'gendr' not found in p.parquet" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, [*args, "--engine", "sparky"])
    assert res.exit_code == 2 and "unknown --engine 'sparky'" in res.output


def test_missing_java_or_pyspark_names_the_fix(tmp_path: Path, monkeypatch) -> None:
    import sys

    from fairslm.engines import _spark_session

    path = tmp_path / "p.parquet"
    _frame(50, 0, 1).dropna().to_parquet(path)
    args = ["audit-predictions", str(path), "--y-true", "label", "--y-pred", "pred",
            "--sensitive", "s0", "--engine", "spark", "--spark-master", "local[3]"]
    monkeypatch.setattr(_spark_session, "_java_present", lambda: False)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "Spark needs Java 17 or 21" in res.output
    assert "JAVA_HOME" in res.output and "Traceback" not in res.output
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "pip install 'fairslm[spark]'" in res.output
