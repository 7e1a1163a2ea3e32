"""scikit-learn, callable and predictions-file adapters; text checks; load_model dispatch."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from fairslm import (
    ConfigError,
    InvalidDataError,
    ModelAdapter,
    ModelLoadError,
    UnsafeModelError,
    load_model,
)
from fairslm.models import (
    CallableAdapter,
    PredictionsFileAdapter,
    ScoreCache,
    SklearnAdapter,
    check_texts,
    save_sklearn_model,
)

TRAIN = ["good nurse", "bad surgeon", "good surgeon", "bad nurse", "great nurse", "poor surgeon"]
Y = [1, 0, 1, 0, 1, 0]


@pytest.fixture(scope="module")
def pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(TRAIN, Y)


def test_sklearn_roundtrip_with_skops(pipeline, tmp_path):
    path = save_sklearn_model(pipeline, tmp_path / "model")
    assert path.name == "model.skops"
    model = load_model(path)
    assert isinstance(model, SklearnAdapter) and isinstance(model, ModelAdapter)
    assert model.classes_ == [0, 1]
    np.testing.assert_array_equal(model.predict_proba(TRAIN), pipeline.predict_proba(TRAIN))
    assert model.predict(TRAIN).tolist() == pipeline.predict(TRAIN).tolist()
    # A directory holding the file (and fairslm.json) loads too, with the same fingerprint.
    (tmp_path / "fairslm.json").write_text(json.dumps({"note": "baseline"}))
    from_dir = load_model(tmp_path)
    assert from_dir.metadata == {"note": "baseline"}
    assert from_dir.fingerprint() == model.fingerprint()
    # The in-memory pipeline is an adapter too.
    np.testing.assert_array_equal(
        load_model(pipeline).predict_proba(TRAIN), pipeline.predict_proba(TRAIN)
    )


def test_sklearn_untrusted_type_refused(tmp_path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(
        FunctionTransformer(np.strings.lower), TfidfVectorizer(), LogisticRegression()
    ).fit(np.array(TRAIN), Y)
    path = save_sklearn_model(pipe, tmp_path / "custom.skops")
    with pytest.raises(
        UnsafeModelError, match=r"not trusted by default: \['numpy.strings.lower'\]"
    ):
        load_model(path)
    trusted = load_model(path, trusted=["numpy.strings.lower"])
    assert trusted.predict(["GOOD NURSE"]).tolist() == [1]


def test_sklearn_pickle_and_corrupt_files_refused(pipeline, tmp_path):
    pkl = tmp_path / "model.pkl"
    pkl.write_bytes(pickle.dumps(pipeline))
    with pytest.raises(UnsafeModelError, match="pickle/joblib file"):
        load_model(pkl, kind="sklearn")
    bad = tmp_path / "broken.skops"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelLoadError, match="is not a valid skops file"):
        load_model(bad)


def test_callable_adapter_and_cache():
    calls: list[int] = []

    def fn(texts):
        calls.append(len(texts))
        return np.array([[0.8, 0.2] if "nurse" in t else [0.1, 0.9] for t in texts])

    model = load_model(fn, classes=["nurse", "surgeon"])
    assert isinstance(model, CallableAdapter)
    texts = ["a nurse", "a surgeon", "a nurse"]
    assert model.predict(texts).tolist() == ["nurse", "surgeon", "nurse"]
    assert calls == [2]  # the repeated text is scored once
    model.predict_proba(texts + ["another surgeon"])
    assert calls == [2, 1]
    assert model.last_run_ == {**model.last_run_, "n_texts": 4, "n_scored": 1, "n_cached": 3}


def test_callable_binary_vector_and_batches():
    model = CallableAdapter(
        lambda ts: np.full(len(ts), 0.25), classes=[0, 1], batch_size=2, cache=False
    )
    np.testing.assert_array_equal(model.predict_proba(["a", "b", "c"]), [[0.75, 0.25]] * 3)


def test_callable_errors():
    with pytest.raises(ConfigError, match="needs classes="):
        load_model(lambda ts: ts)
    with pytest.raises(InvalidDataError, match=r"shape \(2, 3\) for 2 texts; expected \(2, 2\)"):
        CallableAdapter(lambda ts: np.ones((len(ts), 3)) / 3, classes=[0, 1]).predict_proba(
            ["a", "b"]
        )
    with pytest.raises(InvalidDataError, match="outside"):
        CallableAdapter(lambda ts: np.full((len(ts), 2), 3.0), classes=[0, 1]).predict_proba(["a"])
    with pytest.raises(ConfigError, match="fingerprint="):
        CallableAdapter(lambda ts: ts, classes=[0, 1], cache_dir="unused")


def test_class_count_mismatch_with_data_labels():
    model = CallableAdapter(lambda ts: np.full((len(ts), 2), 0.5), classes=[0, 1])
    model.check_labels(np.array([0, 1, 1]))
    with pytest.raises(
        InvalidDataError,
        match=r"predicts 2 classes \[0, 1\] but the data's labels take 3 values \[0, 1, 2\]; \[2\] is not a class",
    ):
        model.check_labels([0, 1, 2])


def test_predictions_file_proba_columns(tmp_path):
    df = pd.DataFrame(
        {
            "text": ["a nurse", "a surgeon"],
            "proba_0": [0.7, 0.1],
            "proba_1": [0.3, 0.9],
            "g": ["F", "M"],
        }
    )
    path = tmp_path / "preds.parquet"
    df.to_parquet(path)
    model = load_model(path)
    assert isinstance(model, PredictionsFileAdapter)
    assert model.classes_ == [0, 1]
    np.testing.assert_array_equal(
        model.predict_proba(["a surgeon", "a nurse"]), [[0.1, 0.9], [0.7, 0.3]]
    )
    with pytest.raises(
        InvalidDataError, match=r"1 of 2 texts are not in preds.parquet \(first: 'a doctor'\)"
    ):
        model.predict_proba(["a nurse", "a doctor"])


def test_predictions_file_score_and_prediction_columns(tmp_path):
    path = tmp_path / "preds.csv"
    pd.DataFrame({"bio": ["x one", "x two"], "y_score": [0.2, 0.6]}).to_csv(path, index=False)
    model = load_model(path, text_column="bio")
    np.testing.assert_allclose(model.predict_proba(["x two"]), [[0.4, 0.6]])
    pd.DataFrame({"text": ["x one", "x two"], "y_pred": ["nurse", "surgeon"]}).to_csv(
        path, index=False
    )
    model = load_model(path)
    assert model.classes_ == ["nurse", "surgeon"]
    np.testing.assert_array_equal(model.predict_proba(["x one", "x two"]), [[1, 0], [0, 1]])


def test_predictions_file_errors(tmp_path):
    path = tmp_path / "preds.csv"
    pd.DataFrame({"text": ["a", "b"], "y_score": [0.2, 0.6]}).to_csv(path, index=False)
    with pytest.raises(
        InvalidDataError, match="column 'bio' not found in preds.csv; columns are: text, y_score"
    ):
        load_model(path, text_column="bio")
    pd.DataFrame({"text": ["a", "a"], "y_score": [0.2, 0.6]}).to_csv(path, index=False)
    with pytest.raises(InvalidDataError, match="same text twice with different scores"):
        load_model(path)
    pd.DataFrame({"text": ["a", "b"], "other": [1, 2]}).to_csv(path, index=False)
    with pytest.raises(InvalidDataError, match="has no score columns"):
        load_model(path)
    pd.DataFrame({"text": ["a", "b"], "y_score": [0.2, 1.6]}).to_csv(path, index=False)
    with pytest.raises(InvalidDataError, match="outside"):
        load_model(path)


def test_check_texts_messages():
    assert check_texts(pd.Series(["a", "b"])) == ["a", "b"]
    with pytest.raises(
        InvalidDataError, match="2 of 3 are not, the first at position 0 is NoneType None"
    ):
        check_texts([None, "x", 3])
    with pytest.raises(
        InvalidDataError, match=r"1 of 2 are empty or only whitespace \(positions 0\)"
    ):
        check_texts(["", "x"])
    with pytest.raises(InvalidDataError, match="got int"):
        check_texts(5)  # type: ignore[arg-type]


def test_score_cache_on_disk(tmp_path):
    cache = ScoreCache(tmp_path / "c")
    cache.put("fp", ["h1", "h2"], np.array([[0.1, 0.9], [0.5, 0.5]]))
    cache.close()
    again = ScoreCache(tmp_path / "c")
    got = again.get("fp", ["h2", "h3"])
    assert list(got) == ["h2"]
    np.testing.assert_array_equal(got["h2"], [0.5, 0.5])
    assert again.get("other", ["h1"]) == {}
    again.clear()
    assert again.get("fp", ["h1"]) == {}
    again.close()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is not a directory"):
        ScoreCache(tmp_path / "file")


def test_load_model_dispatch_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown model kind 'onnx'"):
        load_model(tmp_path, kind="onnx")
    with pytest.raises(ConfigError, match="cannot load a model from a int"):
        load_model(3)
    odd = tmp_path / "weights.onnx"
    odd.write_bytes(b"")
    with pytest.raises(ModelLoadError, match="cannot tell what kind of model"):
        load_model(odd)


def test_load_model_unknown_option(pipeline):
    with pytest.raises(
        ConfigError, match="unknown option 'batchsize' for a model of kind 'sklearn'"
    ):
        load_model(pipeline, batchsize=3)


def test_progress_bar_only_for_long_runs():
    from fairslm.models._batching import PROGRESS_MIN_TEXTS, progress

    items = [1, 2]
    assert progress(items, total_texts=10, show=None, desc="x") is items
    assert progress(items, total_texts=PROGRESS_MIN_TEXTS, show=False, desc="x") is items
    bar = progress(items, total_texts=PROGRESS_MIN_TEXTS, show=None, desc="x")
    assert bar is not items and list(bar) == items
