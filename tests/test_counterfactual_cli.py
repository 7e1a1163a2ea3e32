"""``fairslm counterfactual`` with a stand-in model loader."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import fairslm.models
from fairslm.cli._app import app


class Keyword:
    classes_ = ["nurse", "surgeon"]

    def predict_proba(self, texts):
        p = np.array([0.9 if "he" in t.lower().split() else 0.2 for t in texts])
        return np.column_stack([1 - p, p])


@pytest.fixture
def data(tmp_path, monkeypatch):
    loaded = []

    def load_model(path):
        loaded.append(str(path))
        return Keyword()

    monkeypatch.setattr(fairslm.models, "load_model", load_model, raising=False)
    path = tmp_path / "d.jsonl"
    pd.DataFrame({"text": ["he operates", "she operates", "a nurse"],
                  "gender": ["M", "F", "F"]}).to_json(path, orient="records", lines=True)
    return path, loaded


def test_counterfactual_cli_writes_json(tmp_path, data) -> None:
    path, loaded = data
    out = tmp_path / "cf.json"
    res = CliRunner().invoke(app, ["counterfactual", "--model", "m/dir", "--data", str(path),
                                   "--sensitive", "gender", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert loaded == ["m/dir"]
    d = json.loads(out.read_text())
    assert d["kind"] == "fairslm.counterfactual"
    assert d["counts"] == {"n_texts": 3, "n_changed": 2, "n_unchanged": 1}
    assert d["overall"]["n_flips"] == 2
    assert "1 had nothing to swap" in res.output


def test_counterfactual_cli_pos_label_without_label_column(tmp_path, data) -> None:
    path, _ = data
    out = tmp_path / "cf.json"
    res = CliRunner().invoke(app, ["counterfactual", "--model", "m", "--data", str(path),
                                   "--pos-label", "nurse", "--out", str(out)])
    assert res.exit_code == 0, res.output
    d = json.loads(out.read_text())
    assert d["task"]["score_class"] == "nurse"
    assert d["by_direction"]["male->female"]["mean_score_change"] == pytest.approx(0.7)


def test_counterfactual_cli_max_flip_rate_exit_1(tmp_path, data) -> None:
    path, _ = data
    res = CliRunner().invoke(app, ["counterfactual", "--model", "m", "--data", str(path),
                                   "--max-flip-rate", "0.5", "--out", str(tmp_path / "cf.json")])
    assert res.exit_code == 1, res.output


def test_counterfactual_cli_bad_term_list_exit_2(tmp_path, data) -> None:
    path, _ = data
    terms = tmp_path / "t.csv"
    terms.write_text("male,female\nhe,she,it\n")
    res = CliRunner().invoke(app, ["counterfactual", "--model", "m", "--data", str(path),
                                   "--terms", str(terms)])
    assert res.exit_code == 2
    assert "t.csv, line 2: expected 2 values" in res.output


def test_counterfactual_cli_with_a_saved_sklearn_model(tmp_path) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from fairslm.models import save_sklearn_model

    texts = ["he operates", "she nurses", "he cuts", "she cares"] * 5
    labels = ["surgeon", "nurse"] * 10
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, labels)
    model = save_sklearn_model(pipe, tmp_path / "m.skops")
    path = tmp_path / "d.csv"
    pd.DataFrame({"text": texts, "job": labels, "gender": ["M", "F"] * 10}).to_csv(path, index=False)
    out = tmp_path / "cf.json"
    res = CliRunner().invoke(app, ["counterfactual", "--model", str(model), "--data", str(path),
                                   "--label", "job", "--sensitive", "gender", "--pos-label",
                                   "surgeon", "--out", str(out)])
    assert res.exit_code == 0, res.output
    d = json.loads(out.read_text())
    assert d["provenance"]["model"] == "SklearnAdapter"
    assert d["overall"]["n"] == 20 and d["overall"]["n_flips"] == 20
    assert d["by_direction"]["male->female"]["mean_score_change"] < 0
