"""Model comparison, Pareto front, constrained selection and the compare command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import fairslm
from fairslm.cli._app import app
from fairslm.exceptions import ConfigError, InvalidDataError, ModelLoadError
from fairslm.mitigation.comparison import (
    ComparisonResult,
    compare,
    pareto_front,
    select_most_accurate,
)
from fairslm.mitigation.postprocessing import ThresholdedModel

# 8 rows; group F has positives at rows 4, 5; M at 0, 1.
Y = [1, 1, 0, 0, 1, 1, 0, 0]
G = ["M"] * 4 + ["F"] * 4
PRED_A = [1, 1, 0, 0, 1, 0, 0, 0]  # acc 7/8, TPR M 1, F 1/2
PRED_B = [1, 1, 0, 1, 1, 1, 0, 0]  # acc 7/8, TPR 1 and 1
PRED_C = [1, 0, 0, 0, 0, 0, 0, 0]  # acc 5/8, TPR M 1/2, F 0


def test_compare_hand_computed():
    res = compare(
        {"a": PRED_A, "b": PRED_B, "c": PRED_C}, y_true=Y, sensitive_features={"gender": G},
        min_group_size=1,
    )
    assert [(r.name, r.accuracy, r.ratio, r.difference) for r in res.rows] == [
        ("a", 0.875, 0.5, 0.5), ("b", 0.875, 1.0, 0.0), ("c", 0.625, 0.0, 0.5),
    ]
    assert res.row("a").group_metrics["F"]["true_positive_rate"] == 0.5
    assert res.pareto == ("b",)
    assert res.select(0.9).name == "b"
    assert res.row("c").verdict == "fail"


def test_compare_models_with_texts_and_thresholds():
    class Scores:
        def predict_proba(self, texts):
            return np.array([float(t) for t in texts])

        def predict(self, texts):
            return (self.predict_proba(texts) >= 0.5).astype(int)

    s = [0.9, 0.8, 0.3, 0.1, 0.6, 0.4, 0.35, 0.2]
    df = pd.DataFrame({"text": [str(v) for v in s], "label": Y, "gender": G})
    models = {"plain": Scores(), "thresholded": ThresholdedModel(Scores(), {"F": 0.4, "M": 0.5}, "gender")}
    res = fairslm.compare(models, df, sensitive=["gender"], min_group_size=1)
    assert res.row("plain").ratio == 0.5
    assert res.row("thresholded").accuracy == 1.0
    assert res.row("thresholded").ratio == 1.0


def test_json_roundtrip_and_svg(tmp_path):
    res = compare({"a": PRED_A, "b": PRED_B}, y_true=Y, sensitive_features={"gender": G},
                  min_group_size=1, extra={"a": {"train_seconds": 1.5}})
    path = tmp_path / "c.json"
    res.to_json(path)
    data = json.loads(path.read_text())
    assert data["kind"] == "fairslm.comparison"
    assert data["schema_version"] == "1.1"
    back = ComparisonResult.from_dict(data)
    assert back.rows == res.rows
    assert back.to_dict() == res.to_dict()
    assert res.to_frame().loc[0, "train_seconds"] == 1.5
    svg = res.plot_svg()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert ">a</text>" in svg and ">b</text>" in svg
    assert res.plot_svg() == svg  # deterministic: no timestamp


def test_from_dict_rejects_other_kinds():
    with pytest.raises(InvalidDataError, match=r"not a fairslm comparison \(kind='x'\); expected the JSON written by fairslm compare"):
        ComparisonResult.from_dict({"kind": "x"})
    with pytest.raises(InvalidDataError, match="comparison has schema version '9', newer than this fairslm reads .*upgrade fairslm"):
        ComparisonResult.from_dict({"kind": "fairslm.comparison", "schema_version": "9"})


def test_compare_bad_input():
    with pytest.raises(ConfigError, match="unknown criterion 'fairness'"):
        compare({"a": PRED_A}, y_true=Y, sensitive_features={"g": G}, criterion="fairness")
    with pytest.raises(InvalidDataError, match="no models to compare"):
        compare({}, y_true=Y, sensitive_features={"g": G})
    df = pd.DataFrame({"label": Y, "sex": G})
    with pytest.raises(InvalidDataError, match=r"column\(s\) \['gender'\] not found in the test data; columns are: label, sex"):
        compare({"a": PRED_A}, df, sensitive=["gender"])
    with pytest.raises(InvalidDataError, match="pass data=, or both y_true= and sensitive_features="):
        compare({"a": PRED_A}, y_true=Y)


def test_pareto_front():
    assert pareto_front([0.95, 0.93, 0.90, 0.92], [0.20, 0.05, 0.04, 0.10]) == [2, 1, 0]
    # Duplicates: only one survives; NaN never does; a dominated point is dropped.
    assert pareto_front([0.9, 0.9, float("nan"), 0.8], [0.1, 0.1, 0.0, 0.2]) == [0]
    assert pareto_front([], []) == []
    with pytest.raises(InvalidDataError, match="equal length"):
        pareto_front([0.9], [0.1, 0.2])


def test_the_old_package_name_warns():
    from fairslm.mitigation import comparison

    with pytest.warns(DeprecationWarning, match="use fairslm.mitigation.comparison.ModelSelection"):
        from fairslm.mitigation.selection import Selection
    assert Selection is comparison.ModelSelection
    with pytest.warns(DeprecationWarning):
        from fairslm.mitigation.selection import compare as old_compare
    assert old_compare is comparison.compare


def test_select_most_accurate():
    s = select_most_accurate(["a", "b", "c"], [0.95, 0.93, 0.92], [0.7, 0.91, 0.95], target=0.9)
    assert (s.index, s.name, s.feasible) == (1, "b", ("b", "c"))
    d = select_most_accurate(["a", "b"], [0.95, 0.93], [0.2, 0.04], target=0.05, kind="difference")
    assert d.name == "b"
    none = select_most_accurate(["a", "b"], [0.95, 0.93], [0.7, 0.85], target=0.9)
    assert none.name is None
    assert "no candidate meets equal opportunity ratio >= 0.9" in none.message
    assert "the closest is 'b' (ratio 0.850" in none.message
    with pytest.raises(ConfigError, match=r"a ratio target must be in \(0, 1\]; got 1.5"):
        select_most_accurate(["a"], [0.9], [0.9], target=1.5)
    with pytest.raises(InvalidDataError, match="equal lengths"):
        select_most_accurate(["a"], [0.9, 0.8], [0.9], target=0.9)


def test_cli_compare(tmp_path):
    df = pd.DataFrame({"label": Y, "gender": G, "a": PRED_A, "b": PRED_B})
    data = tmp_path / "test.jsonl"
    df.to_json(data, orient="records", lines=True)
    out, svg = tmp_path / "cmp.json", tmp_path / "cmp.svg"
    r = CliRunner().invoke(
        app,
        ["compare", "--data", str(data), "--pred-column", "a", "--pred-column", "b",
         "--sensitive", "gender", "--min-group-size", "1", "--out", str(out), "--svg", str(svg)],
    )
    assert r.exit_code == 0, r.output
    assert "'b' is the most accurate" in r.output
    assert json.loads(out.read_text())["pareto"] == ["b"]
    assert svg.read_text().startswith("<svg")
    # Only model a: it fails the 0.8 threshold -> exit 1.
    r = CliRunner().invoke(app, ["compare", "--data", str(data), "--pred-column", "a",
                                 "--sensitive", "gender", "--min-group-size", "1", "--out", str(out)])
    assert r.exit_code == 1
    assert "no candidate meets" in r.output


def test_cli_compare_errors(tmp_path):
    df = pd.DataFrame({"label": Y, "gender": G, "a": PRED_A})
    data = tmp_path / "test.jsonl"
    df.to_json(data, orient="records", lines=True)
    r = CliRunner().invoke(app, ["compare", "--data", str(data), "--pred-column", "zz",
                                 "--sensitive", "gender", "--out", str(tmp_path / "o.json")])
    assert r.exit_code == 2
    assert "prediction column(s) ['zz'] not found in test.jsonl" in r.output
    r = CliRunner().invoke(app, ["compare", "--data", str(data), "--sensitive", "gender"])
    assert r.exit_code == 2
    assert "nothing to compare" in r.output
    r = CliRunner().invoke(app, ["compare", "--data", str(data), "--model", str(tmp_path / "nope"),
                                 "--sensitive", "gender"])
    assert r.exit_code == 2
    assert "does not exist" in r.output


def test_load_missing_model_dir(tmp_path):
    from fairslm.mitigation.comparison import load_for_comparison

    with pytest.raises(ModelLoadError, match="does not exist; pass a saved model directory"):
        load_for_comparison(tmp_path / "missing")


def test_cli_compare_saved_models_with_thresholds(tmp_path):
    """A saved model and the same model with group thresholds in its fairslm.json."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from fairslm.mitigation.postprocessing import GroupThresholdOptimizer, save_group_thresholds
    from fairslm.models import load_model, save_sklearn_model

    rng = np.random.default_rng(0)
    n = 400
    gender = rng.choice(["M", "F"], n)
    label = np.where(rng.random(n) < np.where(gender == "M", 0.8, 0.2), "surgeon", "nurse")
    words = np.where(label == "surgeon", "operates", "cares")
    noisy = np.where(rng.random(n) < 0.25, np.where(words == "operates", "cares", "operates"), words)
    texts = [f"{'he' if g == 'M' else 'she'} {w}" for g, w in zip(gender, noisy, strict=True)]
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression(C=100)).fit(texts, label)
    plain, fair = tmp_path / "plain", tmp_path / "fair"
    for d in (plain, fair):
        d.mkdir()
        save_sklearn_model(pipe, d / "model.skops")
    model = load_model(fair)
    scores = model.predict_proba(texts)[:, list(model.classes_).index("surgeon")]
    opt = GroupThresholdOptimizer(constraint="equal_opportunity", target=0.95, pos_label="surgeon")
    opt.fit(label, scores, sensitive_features=gender)
    save_group_thresholds(fair, opt, sensitive_column="gender")
    data = tmp_path / "test.csv"
    pd.DataFrame({"text": texts, "label": label, "gender": gender}).to_csv(data, index=False)
    out = tmp_path / "cmp.json"
    r = CliRunner().invoke(app, ["compare", "--data", str(data), "--model", str(plain),
                                 "--model", str(fair), "--sensitive", "gender",
                                 "--pos-label", "surgeon", "--threshold", "0.95", "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = ComparisonResult.from_dict(json.loads(out.read_text()))
    assert res.row("plain").ratio < 0.95  # "she" pulls women's scores down
    assert res.row("fair").ratio >= 0.95
    assert res.row("fair").ratio == pytest.approx(opt.validation_["ratio"])
    assert res.row("fair").accuracy == pytest.approx(opt.validation_["accuracy"])
