"""``fairslm data-audit`` on small files: JSON written, exit codes, messages for bad input."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from fairslm.cli._app import app

FRAME = pd.DataFrame(
    {
        "text": ["she nurses", "he operates", "he nurses", "she operates"] * 4,
        "job": ["nurse", "surgeon", "nurse", "surgeon"] * 4,
        "sex": ["F", "M", "M", "F"] * 4,
    }
)


def test_data_audit_writes_json_and_passes(tmp_path) -> None:
    path = tmp_path / "d.csv"
    FRAME.to_csv(path, index=False)
    out = tmp_path / "a.json"
    res = CliRunner().invoke(app, ["data-audit", str(path), "--label", "job", "--sensitive", "sex",
                                   "--pos-label", "surgeon", "--min-group-size", "1",
                                   "--no-probe", "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["kind"] == "fairslm.data_audit"
    assert data["labeling"]["surgeon"]["sex"]["ratio"] == 1.0
    assert "share of label 'surgeon' by sex" in res.output


def test_data_audit_exit_1_on_under_representation(tmp_path) -> None:
    path = tmp_path / "d.parquet"
    FRAME.to_parquet(path)
    res = CliRunner().invoke(app, ["data-audit", str(path), "--label", "job", "--sensitive", "sex",
                                   "--pos-label", "surgeon", "--no-probe", "--reference",
                                   "F=0.8,M=0.2", "--out", str(tmp_path / "a.json")])
    assert res.exit_code == 1, res.output
    assert "sex=F makes up 50.0%" in res.output.replace("\n", " ")


def test_data_audit_unknown_column_exit_2(tmp_path) -> None:
    path = tmp_path / "d.csv"
    FRAME.to_csv(path, index=False)
    res = CliRunner().invoke(app, ["data-audit", str(path), "--label", "job"])
    assert res.exit_code == 2
    assert "error: column(s) 'gender' not found" in res.output
    assert "columns are: text, job, sex" in res.output
    assert "Traceback" not in res.output


def test_data_audit_bad_reference_exit_2(tmp_path) -> None:
    path = tmp_path / "d.csv"
    FRAME.to_csv(path, index=False)
    res = CliRunner().invoke(app, ["data-audit", str(path), "--label", "job", "--sensitive", "sex",
                                   "--reference", "F:0.5"])
    assert res.exit_code == 2
    assert "expected GROUP=SHARE pairs" in res.output
