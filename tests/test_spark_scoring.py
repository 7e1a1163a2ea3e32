"""Batch scoring on Spark equals in-process scoring; counterfactual tests at scale reuse it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairslm import InvalidDataError, audit_spark, load_model
from fairslm.audit import counterfactual_spark, counterfactual_test
from fairslm.models import score_spark
from fairslm.models._testing import TINY_WORDS, make_tiny_bert_classifier

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return make_tiny_bert_classifier(tmp_path_factory.mktemp("tiny") / "model",
                                     id2label={0: "nurse", 1: "surgeon"})


def _texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    words = list(TINY_WORDS)
    return [" ".join(rng.choice(words, rng.integers(3, 30))) for _ in range(n)]


def test_spark_scores_equal_in_process_scores(spark, tiny_model: Path) -> None:
    texts = _texts(300)
    gender = np.resize(["F", "M"], 300)
    df = spark.createDataFrame(pd.DataFrame({"text": texts, "gender": gender,
                                             "label": np.resize(["nurse", "surgeon"], 300)}))
    scored = score_spark(df.repartition(3), tiny_model, text="text")
    rows = scored.select("text", "proba", "y_pred", "y_score").collect()
    want = load_model(tiny_model).predict_proba(texts)
    index = {t: i for i, t in enumerate(texts)}
    got = np.array([r["proba"] for r in rows])
    order = [index[r["text"]] for r in rows]
    np.testing.assert_allclose(got, want[order], rtol=0, atol=1e-6)
    np.testing.assert_allclose([r["y_score"] for r in rows], want[order, 1], atol=1e-6)
    assert [r["y_pred"] for r in rows] == [["nurse", "surgeon"][j] for j in want[order].argmax(1)]
    res = audit_spark(scored, y_true="label", y_pred="y_pred", sensitive=["gender"],
                      y_score="y_score", pos_label="surgeon", min_group_size=1)
    assert res.provenance["engine"] == "spark" and res.view("gender").groups


def test_scoring_errors(spark, tiny_model: Path) -> None:
    df = spark.createDataFrame(pd.DataFrame({"bio": ["a b"]}))
    with pytest.raises(InvalidDataError, match="text column 'text' not found; columns are: bio"):
        score_spark(df, tiny_model)
    with pytest.raises(InvalidDataError, match="pos_label 'doctor' is not a class"):
        score_spark(df, tiny_model, text="bio", pos_label="doctor")


def test_counterfactual_at_scale_equals_in_process(spark, tiny_model: Path) -> None:
    rng = np.random.default_rng(1)
    texts = [f"{rng.choice(['he', 'she', 'the'])} {t} {rng.choice(['his', 'her', 'a'])} bio"
             for t in _texts(120, 2)]
    groups = np.resize(["female", "male"], len(texts))
    labels = np.resize(["nurse", "surgeon"], len(texts))
    df = spark.createDataFrame(pd.DataFrame({"text": texts, "g": groups, "y": labels}))
    got = counterfactual_spark(tiny_model, df.repartition(2), text="text", label="y", group="g",
                               pos_label="surgeon", n_examples=3)
    want = counterfactual_test(load_model(tiny_model), texts, labels=labels, groups=groups,
                               pos_label="surgeon", n_examples=3)
    assert got.counts == want.counts and got.counts["n_changed"] > 0
    for a, b in [(got.overall, want.overall), *zip(got.by_group.values(),
                                                   want.by_group.values(), strict=True)]:
        assert (a["n"], a["n_flips"]) == (b["n"], b["n_flips"])
        assert a["mean_score_change"] == pytest.approx(b["mean_score_change"], abs=1e-6)
        assert a["mcnemar"] == b["mcnemar"]
    assert [e["original"] for e in got.examples] == [e["original"] for e in want.examples]
    assert got.provenance["engine"] == "spark" and len(got.provenance["texts_sha256"]) == 64
