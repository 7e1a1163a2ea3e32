"""Data audit counts and reweighing on Spark equal the in-memory ones; the CLI writes Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairslm import InvalidDataError, load_dataset
from fairslm.audit import audit_data, audit_data_spark
from fairslm.cli._app import app
from fairslm.mitigation.preprocessing import Reweighing

pytestmark = pytest.mark.spark


def _data(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.choice(["F", "M"], n, p=[0.3, 0.7])
    race = rng.choice(["a", "b", "c"], n)
    # labels depend on gender: the labels fail statistical parity
    label = np.where(rng.random(n) < np.where(gender == "F", 0.25, 0.55), "surgeon", "nurse")
    return pd.DataFrame({
        "id": np.arange(n), "text": [f"bio {i}" for i in range(n)], "label": label,
        "gender": gender, "race": race, "w": rng.gamma(2.0, 0.5, n),
        "split": rng.choice(["train", "test"], n, p=[0.8, 0.2]),
    })


def test_reweighing_weights_equal_in_memory(spark) -> None:
    df = _data()
    want = Reweighing().fit_transform(df, "label", sensitive_features=["gender", "race"],
                                      sample_weight="w")
    rw = Reweighing().fit(spark.createDataFrame(df), "label",
                          sensitive_features=["gender", "race"], sample_weight="w")
    ref = Reweighing().fit(df, "label", sensitive_features=["gender", "race"], sample_weight="w")
    np.testing.assert_allclose(rw.weight_table_, ref.weight_table_, rtol=1e-12, atol=0)
    assert rw.groups_ == ref.groups_ and rw.classes_ == ref.classes_
    out = rw.transform(spark.createDataFrame(df), "label",
                       sensitive_features=["gender", "race"], sample_weight="w")
    assert out.columns == list(df.columns)  # the weight column is replaced in place
    got = pd.DataFrame(out.select("id", "w").collect(), columns=["id", "w"]).sort_values("id")
    np.testing.assert_allclose(got["w"].to_numpy(), want["w"].to_numpy(), rtol=1e-12, atol=0)
    unseen = spark.createDataFrame(df.assign(race="z"))
    with pytest.raises(InvalidDataError, match="not seen in fit"):
        rw.transform(unseen, "label", sensitive_features=["gender", "race"], sample_weight="w")


def _close(a, b) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _close(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _close(x, y)
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12, nan_ok=True)
    else:
        assert a == b


def test_data_audit_counts_equal_in_memory(spark) -> None:
    df = _data()
    ref = audit_data(
        load_dataset(df, text="text", label="label", sensitive=["gender", "race"], weight="w",
                     split="split", pos_label="surgeon"),
        reference_distribution={"gender": {"F": 0.5, "M": 0.5}}, probe=None, seed=1,
    )
    got = audit_data_spark(
        spark.createDataFrame(df), label="label", sensitive=["gender", "race"], weight="w",
        split="split", pos_label="surgeon", reference_distribution={"gender": {"F": 0.5, "M": 0.5}},
        seed=1,
    )
    for section in ("representation", "labeling", "aggregation"):
        _close(getattr(got, section), getattr(ref, section))
    assert "one machine" in got.proxies["reason"]
    assert [f for f in got.findings if not f.startswith("Proxies")] == list(ref.findings)
    assert got.dataset["n_rows"] == len(df) and got.provenance["engine"] == "spark"


def test_cli_debias_and_data_audit_on_spark(spark, tmp_path: Path) -> None:
    df = _data(600, 2)
    src = tmp_path / "train.parquet"
    df.to_parquet(src)
    out = tmp_path / "reweighed"
    runner = CliRunner()
    base = ["debias", str(src), "--label", "label", "--sensitive", "gender", "--weight", "w",
            "--engine", "spark"]
    res = runner.invoke(app, [*base, "--method", "reweigh", "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_parquet(out).sort_values("id")
    want = Reweighing().fit_transform(df, "label", sensitive_features="gender",
                                      sample_weight="w")
    np.testing.assert_allclose(got["w"].to_numpy(), want["w"].to_numpy(), rtol=1e-12)
    assert "largest gap in weighted label rate across groups" in res.output
    res = runner.invoke(app, [*base, "--method", "reweigh", "--out", str(out)])
    assert res.exit_code == 2 and "already exists" in res.output
    res = runner.invoke(app, [*base, "--method", "resample", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "one machine" in res.output
    report = tmp_path / "da.json"
    res = runner.invoke(app, ["data-audit", str(src), "--label", "label", "--sensitive",
                              "gender", "--pos-label", "surgeon", "--engine", "spark",
                              "-o", str(report)])
    assert res.exit_code == 1, res.output  # the labels fail statistical parity
    assert "proxy probe" in res.output and "one machine" in res.output
    assert json.loads(report.read_text())["labeling"]["surgeon"]["gender"]["verdict"] == "fail"
