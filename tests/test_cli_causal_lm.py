"""Causal LMs from the command line: ``--template`` and ``--label-word`` on audit,
counterfactual and compare, instead of a ``fairslm.json`` in the model folder."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from fairslm.cli._app import app

pytest.importorskip("torch")
pytest.importorskip("transformers")

TEMPLATE = "Bio: {text}\nIs this person a surgeon? Answer:"
WORDS = ["--label-word", " yes=1", "--label-word", " no=0"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path]:
    from fairslm.models._testing import make_tiny_causal_lm

    root = tmp_path_factory.mktemp("causal")
    model = make_tiny_causal_lm(root / "tiny-llama")
    texts = ["she is a nurse", "he is a surgeon", "she operates in cardiac surgery",
             "he cares for patients on the ward"] * 5
    pd.DataFrame({"text": texts, "label": [0, 1, 1, 0] * 5,
                  "gender": ["F", "M", "F", "M"] * 5}).to_csv(root / "d.csv", index=False)
    return model, root / "d.csv"


def _run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_audit_reads_the_template_and_label_words_from_the_command_line(setup, tmp_path):
    model, data = setup
    common = ["audit", "--model", model, "--data", data, "--sensitive", "gender",
              "--min-group-size", "1", "--n-bootstrap", "0", "--out", tmp_path / "a.json"]
    res = _run(*common, "--template", TEMPLATE, *WORDS, "--report", tmp_path / "r")
    assert res.exit_code in (0, 1), res.output
    assert json.loads((tmp_path / "a.json").read_text())["kind"] == "fairslm.audit"
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    # an unnamed model is called by its folder's name, not "model"
    assert [m["name"] for m in report["models"]] == ["tiny-llama"]
    missing = _run(*common)
    assert missing.exit_code == 2 and "template" in missing.output


def test_counterfactual_and_compare_take_the_same_options(setup, tmp_path):
    model, data = setup
    res = _run("counterfactual", "--model", model, "--data", data, "--template", TEMPLATE,
               *WORDS, "--out", tmp_path / "cf.json")
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "cf.json").read_text())["kind"] == "fairslm.counterfactual"
    res = _run("compare", "--data", data, "--model", model, "--sensitive", "gender",
               "--min-group-size", "1", "--template", TEMPLATE, *WORDS,
               "--out", tmp_path / "cmp.json")
    assert res.exit_code in (0, 1), res.output
    assert [r["name"] for r in json.loads((tmp_path / "cmp.json").read_text())["rows"]] == [
        "tiny-llama"]


def test_a_malformed_label_word_is_a_usage_error(setup, tmp_path):
    model, data = setup
    res = _run("audit", "--model", model, "--data", data, "--sensitive", "gender",
               "--template", TEMPLATE, "--label-word", "yes", "--out", tmp_path / "a.json")
    assert res.exit_code == 2
    assert "--label-word expects WORD=CLASS (e.g. --label-word ' yes=1'); got 'yes'" in res.output
