"""Counterfactual tests: exact values on a hand-built model, and on the real Bias in Bios data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import fairslm
from fairslm import ConfigError, InvalidDataError, load_dataset
from fairslm.audit import CounterfactualResult, counterfactual_test, mcnemar_exact
from fairslm.data import CounterfactualPerturber


class Keyword:
    """P(surgeon) = 0.9 with a male word ('he'/'his'), 0.4 with 'she', else 0.6."""

    classes_ = ["nurse", "surgeon"]

    def predict_proba(self, texts):
        out = []
        for t in texts:
            words = set(t.lower().replace(".", " ").split())
            p = 0.9 if words & {"he", "his"} else 0.4 if "she" in words else 0.6
            out.append([1 - p, p])
        return np.array(out)


TEXTS = [
    "He is a surgeon.",      # male -> female: 0.9 -> 0.4, flips surgeon -> nurse
    "She is a surgeon.",     # female -> male: 0.4 -> 0.9, flips nurse -> surgeon
    "She met his team.",     # tie, first mentioned: female -> male: 0.9 -> 0.9, no change
    "They are nurses.",      # nothing to swap
    "He operates.",          # male -> female: 0.9 -> 0.4, flips
]
GROUPS = ["M", "F", "F", "M", "M"]
LABELS = ["surgeon", "surgeon", "nurse", "nurse", "surgeon"]


def _run(**kw):
    return counterfactual_test(Keyword(), TEXTS, groups=GROUPS, labels=LABELS,
                               perturber=CounterfactualPerturber(names=False), **kw)


def test_exact_counts_and_scores() -> None:
    res = _run()
    assert res.counts == {"n_texts": 5, "n_changed": 4, "n_unchanged": 1}
    o = res.overall
    assert o["n"] == 4 and o["n_flips"] == 3 and res.flip_rate == pytest.approx(0.75)
    assert o["mean_score_change"] == pytest.approx((-0.5 + 0.5 + 0.0 - 0.5) / 4)
    assert o["mean_abs_score_change"] == pytest.approx(1.5 / 4)
    assert o["max_abs_score_change"] == pytest.approx(0.5)
    assert o["mcnemar"]["b"] == 2 and o["mcnemar"]["c"] == 1
    assert o["accuracy_original"] == pytest.approx(2 / 4)  # right on texts 0 and 4
    assert o["accuracy_counterfactual"] == pytest.approx(1 / 4)
    m2f = res.by_direction["male->female"]
    assert (m2f["n"], m2f["n_flips"], m2f["mcnemar"]["b"], m2f["mcnemar"]["c"]) == (2, 2, 2, 0)
    f2m = res.by_direction["female->male"]
    assert (f2m["n"], f2m["n_flips"]) == (2, 1)
    assert f2m["mean_score_change"] == pytest.approx(0.25)
    assert res.by_group["M"]["n_texts"] == 3 and res.by_group["M"]["n"] == 2
    assert res.by_group["F"]["flip_rate"] == pytest.approx(0.5)
    assert res.task["score_class"] == "surgeon"


def test_examples_are_sorted_and_marked() -> None:
    res = _run(n_examples=2)
    assert [e["index"] for e in res.examples] == [0, 1]  # |change| 0.5, ties by position
    assert res.examples[0]["marked"] == "[He->She] is a surgeon."
    assert res.examples[0]["decision_original"] == "surgeon"
    assert res.examples[0]["decision_counterfactual"] == "nurse"
    assert res.examples[0]["flipped"] is True


def test_mcnemar_exact_and_mid_p() -> None:
    # b=2, c=8, n=10: P(X<=2) = 56/1024; exact = 112/1024; mid-p = 112/1024 - 45/1024
    r = mcnemar_exact(2, 8)
    assert r["p_exact"] == pytest.approx(112 / 1024)
    assert r["p_mid"] == pytest.approx(67 / 1024)
    assert mcnemar_exact(3, 3)["p_exact"] == 1.0 and mcnemar_exact(3, 3)["p_mid"] == 1.0
    assert mcnemar_exact(0, 0)["p_exact"] == 1.0


def test_json_round_trip_and_kind(tmp_path) -> None:
    res = _run()
    path = tmp_path / "cf.json"
    res.to_json(path)
    data = json.loads(path.read_text())
    assert data["kind"] == "fairslm.counterfactual" and data["schema_version"] == "1.0"
    assert CounterfactualResult.from_json(path).to_dict() == res.to_dict()
    with pytest.raises(InvalidDataError, match="not a fairslm counterfactual result"):
        CounterfactualResult.from_dict({"kind": "fairslm.audit"})


def test_dataset_input_supplies_groups_and_labels() -> None:
    ds = load_dataset(pd.DataFrame({"text": TEXTS, "label": LABELS, "gender": GROUPS}),
                      pos_label="surgeon")
    res = counterfactual_test(Keyword(), ds, perturber=CounterfactualPerturber(names=False))
    assert set(res.by_group) == {"F", "M"} and res.provenance["dataset_sha256"] == ds.content_hash
    assert res.overall == _run().overall


def test_nothing_to_swap_is_reported() -> None:
    res = counterfactual_test(Keyword(), ["A nurse.", "A surgeon."])
    assert res.counts["n_changed"] == 0 and res.n_unchanged == 2
    assert res.overall["flip_rate"] is None and "no changed texts" in res.overall["mcnemar"]["reason"]


def test_multiclass_without_pos_label_skips_mcnemar() -> None:
    class Three:
        classes_ = [0, 1, 2]

        def predict_proba(self, texts):
            return np.array([[0.2, 0.7, 0.1] if "he" in t.split() else [0.5, 0.3, 0.2]
                             for t in texts])

    res = counterfactual_test(Three(), ["he is here", "she is here"])
    assert "pass pos_label" in res.overall["mcnemar"]["reason"]
    assert res.overall["n_flips"] == 2
    # the score is the originally predicted class: 0.7 -> 0.3 and 0.5 -> 0.2
    assert res.overall["mean_score_change"] == pytest.approx((-0.4 - 0.3) / 2)


def test_bad_inputs() -> None:
    with pytest.raises(ConfigError, match="model must have predict_proba"):
        counterfactual_test(object(), ["he"])
    with pytest.raises(InvalidDataError, match="texts is empty"):
        counterfactual_test(Keyword(), [])
    with pytest.raises(InvalidDataError, match="item 1 is ''"):
        counterfactual_test(Keyword(), ["he", ""])
    with pytest.raises(InvalidDataError, match="item 0 is 3"):
        counterfactual_test(Keyword(), [3])
    with pytest.raises(InvalidDataError, match="groups has 1 values but there are 2 texts"):
        counterfactual_test(Keyword(), ["he", "she"], groups=["M"])
    with pytest.raises(InvalidDataError, match=r"pos_label 'doctor' is not among the model's "
                                               r"classes \['nurse', 'surgeon'\]"):
        counterfactual_test(Keyword(), ["he"], pos_label="doctor")

    class Bad(Keyword):
        def predict_proba(self, texts):
            return np.zeros((len(texts), 3))

    with pytest.raises(InvalidDataError, match=r"returned shape \(4, 3\); expected \(4, 2\)"):
        counterfactual_test(Bad(), ["he", "she"])


@pytest.mark.slow  # fingerprinting the in-memory pipeline imports skops (seconds, once)
def test_tfidf_baseline_on_bias_in_bios_flips_significantly(biosbias_dir) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    ds = load_dataset(biosbias_dir, label="profession", pos_label="surgeon")
    train, test = ds.split("train"), ds.split("test")
    model = make_pipeline(TfidfVectorizer(min_df=2, sublinear_tf=True),
                          LogisticRegression(max_iter=1000))
    model.fit(train.texts, train.labels)
    res = counterfactual_test(fairslm.load_model(model, cache=False), test)
    assert res.provenance["model_fingerprint"]
    assert res.counts["n_changed"] > 0.9 * len(test)
    assert res.flip_rate > 0.05
    m2f = res.by_direction["male->female"]
    f2m = res.by_direction["female->male"]
    # swapping to female moves decisions away from surgeon, and back the other way
    assert m2f["mcnemar"]["b"] > m2f["mcnemar"]["c"] and m2f["mcnemar"]["p_exact"] < 1e-3
    assert f2m["mcnemar"]["c"] > f2m["mcnemar"]["b"] and f2m["mcnemar"]["p_exact"] < 1e-3
    assert m2f["mean_score_change"] < 0 < f2m["mean_score_change"]
    assert m2f["wilcoxon"]["p_value"] < 1e-3


def test_output_follows_the_json_schema() -> None:
    import jsonschema

    from fairslm.audit import counterfactual_json_schema

    schema = counterfactual_json_schema()
    jsonschema.validate(_run().to_dict(), schema)
    jsonschema.validate(counterfactual_test(Keyword(), ["A nurse."]).to_dict(), schema)
    bad = _run().to_dict()
    bad["counts"]["n_changed"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
