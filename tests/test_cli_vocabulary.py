"""One vocabulary across commands: the renamed options, and their old names kept for a release."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from fairslm.cli._app import app


def _preds(path: Path) -> Path:
    rng = np.random.default_rng(0)
    label = rng.integers(0, 2, 200)
    pd.DataFrame({"label": label, "pred": label, "gender": np.repeat(["F", "M"], 100)}).to_csv(
        path, index=False
    )
    return path


def _audit(path: Path, *args: str):
    return CliRunner().invoke(app, ["audit-predictions", str(path), "--y-true", "label", "--y-pred",
                                    "pred", "--sensitive", "gender", "--seed", "1", *args])


def test_old_option_name_works_with_a_warning(tmp_path: Path) -> None:
    path = _preds(tmp_path / "p.csv")
    new = _audit(path, "--n-bootstrap", "20", "--out", str(tmp_path / "new.json"))
    old = _audit(path, "--bootstrap", "20", "--out", str(tmp_path / "old.json"))
    assert new.exit_code == old.exit_code == 0
    assert "warning: --bootstrap is deprecated" in old.output and "use --n-bootstrap" in old.output
    assert "deprecated" not in new.output
    a, b = (json.loads((tmp_path / f).read_text()) for f in ("new.json", "old.json"))
    assert a["options"] == b["options"] and a["options"]["n_bootstrap"] == 20


def test_old_and_new_name_together_are_refused(tmp_path: Path) -> None:
    res = _audit(_preds(tmp_path / "p.csv"), "--n-bootstrap", "20", "--bootstrap", "30")
    assert res.exit_code == 2
    assert "--bootstrap is the old name of --n-bootstrap; give --n-bootstrap only" in res.output


def test_old_names_are_hidden_from_help() -> None:
    for command, old, new in (("audit-predictions", "--bootstrap ", "--n-bootstrap"),
                              ("compare", "--text-column", "--text"),
                              ("compare", "--label-column", "--label"),
                              ("train", "--output-dir", "--out"),
                              ("sweep", "--output-dir", "--out")):
        text = CliRunner().invoke(app, [command, "--help"], terminal_width=200).output
        assert new in text and old not in text, command
