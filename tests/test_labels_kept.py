"""Labels keep the user's values in every reader: yes/no stay text, True/False are booleans.

DuckDB's CSV sniffer reads a column of yes/no (or t/f) as BOOLEAN; pandas keeps the text.
``audit`` reads with pandas, ``audit-predictions`` with DuckDB: both must see the same labels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fairslm import InvalidDataError, audit_file, audit_predictions
from fairslm.cli._app import app
from fairslm.data import read_table


def _csv(path: Path, yes: str, no: str) -> Path:
    rng = np.random.default_rng(1)
    n = 200
    g = np.repeat(["F", "M"], n // 2)
    y = rng.random(n) < 0.5
    p = np.where(rng.random(n) < np.where(g == "F", 0.3, 0.1), ~y, y)
    pd.DataFrame({"hired": np.where(y, yes, no), "decision": np.where(p, yes, no),
                  "gender": g}).to_csv(path, index=False)
    return path


def _via_pandas(path: Path, pos_label: object) -> dict[str, float]:
    df = read_table(path, ["hired", "decision", "gender"])
    res = audit_predictions(df["hired"], df["decision"], sensitive_features={"gender": df["gender"]},
                            pos_label=pos_label)
    return {g.label: g.metrics["selection_rate"] for g in res.view().groups}


@pytest.mark.parametrize(("yes", "no"), [("yes", "no"), ("Y", "N"), ("t", "f")])
def test_yes_no_labels_stay_text_and_both_readers_agree(tmp_path: Path, yes: str, no: str) -> None:
    path = _csv(tmp_path / "p.csv", yes, no)
    res = audit_file(path, y_true="hired", y_pred="decision", sensitive=["gender"],
                     pos_label=yes)
    assert res.task["classes"] == sorted([yes, no]) and res.task["pos_label"] == yes
    duck = {g.label: g.metrics["selection_rate"] for g in res.view().groups}
    assert duck == pytest.approx(_via_pandas(path, yes))
    # Without --pos-label, text labels are ambiguous: neither engine guesses True.
    with pytest.raises(InvalidDataError, match="not 0/1"):
        audit_file(path, y_true="hired", y_pred="decision", sensitive=["gender"])


def test_pos_label_yes_on_the_command_line(tmp_path: Path) -> None:
    path = _csv(tmp_path / "p.csv", "yes", "no")
    out = tmp_path / "a.json"
    args = ["audit-predictions", str(path), "--y-true", "hired", "--y-pred", "decision",
            "--sensitive", "gender", "-o", str(out)]
    res = CliRunner().invoke(app, [*args, "--pos-label", "yes"])
    assert res.exit_code in (0, 1), res.output
    assert json.loads(out.read_text())["task"]["pos_label"] == "yes"
    res = CliRunner().invoke(app, [*args, "--pos-label", "no"])
    assert json.loads(out.read_text())["task"]["pos_label"] == "no"
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "pass pos_label=" in res.output


def test_true_false_text_is_boolean_in_both_readers(tmp_path: Path) -> None:
    path = _csv(tmp_path / "p.csv", "True", "False")
    res = audit_file(path, y_true="hired", y_pred="decision", sensitive=["gender"])
    assert res.task["classes"] == [False, True] and res.task["pos_label"] is True
    duck = {g.label: g.metrics["selection_rate"] for g in res.view().groups}
    assert duck == pytest.approx(_via_pandas(path, True))


@pytest.mark.parametrize(("yes", "no"), [("yes", "no"), ("True", "False")])
def test_spark_engine_reads_the_same_labels(spark, tmp_path: Path, yes: str, no: str) -> None:
    path = _csv(tmp_path / "p.csv", yes, no)
    pos: object = yes if yes == "yes" else True
    duck = audit_file(path, y_true="hired", y_pred="decision", sensitive=["gender"],
                      pos_label=pos)
    res = audit_file(str(path), y_true="hired", y_pred="decision", sensitive=["gender"],
                     pos_label=pos, engine="spark", spark=spark)
    assert res.task["classes"] == duck.task["classes"]
    assert {g.label: g.metrics["selection_rate"] for g in res.view().groups} == pytest.approx(
        {g.label: g.metrics["selection_rate"] for g in duck.view().groups})
