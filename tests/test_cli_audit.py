"""``fairslm audit-predictions``: exit codes 0/1/2, written JSON, messages without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairslm.cli._app import app

REPO = Path(__file__).resolve().parents[1]


def _preds(path: Path, *, biased: bool) -> Path:
    rng = np.random.default_rng(0)
    n = 400
    gender = np.repeat(["F", "M"], n // 2)
    label = rng.integers(0, 2, n)
    pred = label.copy()
    if biased:  # women are selected far less often
        pred[(gender == "F") & (rng.random(n) < 0.7)] = 0
    pd.DataFrame({"label": label, "pred": pred, "gender": gender}).to_parquet(path)
    return path


def _run(*args: str):
    return CliRunner().invoke(app, ["audit-predictions", *args])


def test_exit_0_when_fair_and_json_written(tmp_path: Path) -> None:
    path = _preds(tmp_path / "p.parquet", biased=False)
    out = tmp_path / "audit.json"
    res = _run(str(path), "--y-true", "label", "--y-pred", "pred", "--sensitive", "gender",
               "--n-bootstrap", "50", "--seed", "1", "--out", str(out))
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["provenance"]["engine"] == "duckdb"
    assert data["options"]["seed"] == 1 and data["extras"]["bootstrap"]["n_replicates"] == 50
    assert "overall: PASS" in res.output


def test_exit_1_when_a_criterion_fails(tmp_path: Path) -> None:
    path = _preds(tmp_path / "p.parquet", biased=True)
    res = _run(str(path), "--y-true", "label", "--y-pred", "pred", "--sensitive", "gender",
               "--out", str(tmp_path / "a.json"))
    assert res.exit_code == 1
    assert "overall: FAIL" in res.output and "less often than M" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sensitive", "gendr"], "column 'gendr' not found in p.parquet; columns are: label, "
                                   "pred, gender. Did you mean 'gender'?"),
        (["--sensitive", "gender", "--reference", "Z"], "reference group 'Z' does not exist; "
                                                        "groups are: F, M"),
        (["--sensitive", "gender", "--threshold", "1.5"], "threshold must be in (0, 1]"),
    ],
)
def test_exit_2_with_message(tmp_path: Path, args: list[str], message: str) -> None:
    path = _preds(tmp_path / "p.parquet", biased=False)
    res = _run(str(path), "--y-true", "label", "--y-pred", "pred", *args,
               "--out", str(tmp_path / "a.json"))
    assert res.exit_code == 2
    assert f"error: {message}" in res.output
    assert not (tmp_path / "a.json").exists()


def test_one_group_only_and_string_labels(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    pd.DataFrame({"y": ["nurse", "surgeon"] * 20, "p": ["nurse"] * 40, "g": ["F"] * 40}).to_csv(
        path, index=False
    )
    res = _run(str(path), "--y-true", "y", "--y-pred", "p", "--sensitive", "g")
    assert res.exit_code == 2
    assert "sensitive feature 'g' has only one group ('F')" in res.output
    res = _run(str(path), "--y-true", "y", "--y-pred", "p", "--sensitive", "y")
    assert res.exit_code == 2
    assert "positive (favourable) decision is ambiguous; pass pos_label= (CLI: --pos-label)" in (
        res.output
    )


def test_subprocess_prints_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    proc = subprocess.run(
        [sys.executable, "-m", "fairslm", "audit-predictions", str(bad), "--y-true", "y",
         "--y-pred", "p", "--sensitive", "g"],
        capture_output=True, text=True, cwd=tmp_path,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: cannot read bad.parquet as Parquet")
    assert "Traceback" not in proc.stderr + proc.stdout
