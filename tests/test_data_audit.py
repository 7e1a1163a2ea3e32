"""The data audit: exact values on small fixtures, the probe, and the real Bias in Bios data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fairslm import ConfigError, InvalidDataError, load_dataset
from fairslm.audit import DataAuditResult, audit_data
from fairslm.audit._proxy import log_odds_terms, probe_attribute

# 8 rows: F has labels 1,0,0,0 (rate 0.25); M has 1,1,1,0 (rate 0.75).
FRAME = pd.DataFrame(
    {
        "text": ["she a", "she b", "she c", "she d", "he a", "he b", "he c", "he d"],
        "label": [1, 0, 0, 0, 1, 1, 1, 0],
        "gender": ["F"] * 4 + ["M"] * 4,
        "race": ["x", "x", "y", "y", "x", "x", "x", "x"],
        "part": ["train", "test"] * 4,
    }
)


def _audit(**kw):
    ds = load_dataset(FRAME, sensitive=["gender", "race"], split="part")
    kw.setdefault("probe", None)
    kw.setdefault("min_group_size", 2)
    return audit_data(ds, **kw)


def test_representation_counts_shares_splits_and_intersections() -> None:
    rep = _audit().representation
    g = rep["gender"]["groups"]
    assert g["F"]["count"] == 4 and g["F"]["share"] == 0.5
    assert g["F"]["by_split"]["train"] == {"count": 2, "share": 0.5}
    inter = rep["gender & race"]
    assert inter["groups"]["F, y"]["count"] == 2 and inter["groups"]["M, x"]["share"] == 0.5
    assert inter["empty"] == ["M, y"]
    assert inter["tiny"] == []
    assert _audit(min_group_size=3).representation["gender & race"]["tiny"] == ["F, x", "F, y"]


def test_reference_distribution_flags_under_representation() -> None:
    res = _audit(reference_distribution={"race": {"x": 0.5, "y": 0.4, "z": 0.1}})
    view = res.representation["race"]
    # y: 2/8 = 0.25 against 0.4 -> ratio 0.625 < 1/1.25; z absent -> ratio 0
    assert view["groups"]["y"]["representation_ratio"] == pytest.approx(0.625)
    assert view["under_represented"] == ["y", "z"]
    assert view["groups"]["z"]["count"] == 0
    assert any("race=y makes up 25.0%" in f for f in res.findings)
    loose = _audit(reference_distribution={"race": {"x": 0.5, "y": 0.4, "z": 0.1}},
                   underrep_factor=2.0)
    assert loose.representation["race"]["under_represented"] == ["z"]


def test_label_rates_disparity_and_intervals() -> None:
    lab = _audit().labeling["1"]["gender"]
    assert lab["groups"]["F"]["rate"] == 0.25 and lab["groups"]["M"]["rate"] == 0.75
    assert lab["ratio"] == pytest.approx(1 / 3) and lab["difference"] == pytest.approx(0.5)
    assert (lab["worst_group"], lab["reference"], lab["verdict"]) == ("F", "M", "fail")
    if lab["interval_method"] == "Wilson / Katz log":
        # Wilson 95% interval for 1/4: (0.0456, 0.6994)
        lo, hi = lab["groups"]["F"]["ci"]
        assert lo == pytest.approx(0.04558, abs=1e-4) and hi == pytest.approx(0.69936, abs=1e-4)
        # Katz: se = sqrt(1/1 - 1/4 + 1/3 - 1/4) = sqrt(5/6)
        se = math.sqrt(5 / 6)
        assert lab["ratio_ci"][0] == pytest.approx((1 / 3) * math.exp(-1.959964 * se), rel=1e-5)
    lo, hi = lab["ratio_ci"]
    assert lo < lab["ratio"] < hi


def test_multiclass_labels_are_audited_per_label() -> None:
    df = FRAME.assign(label=["a", "b", "c", "a", "a", "a", "b", "c"])
    res = audit_data(load_dataset(df), probe=None, min_group_size=1)
    assert set(res.labeling) == {"a", "b", "c"}
    assert res.labeling["a"]["gender"]["groups"]["M"]["rate"] == 0.5


def test_aggregation_total_variation_distance() -> None:
    agg = _audit().aggregation["gender"]
    # pooled label-1 share 0.5; F 0.25, M 0.75 -> TVD 0.25 each
    assert agg["groups"]["F"]["tvd"] == pytest.approx(0.25)
    assert agg["flagged"] == ["F", "M"]
    assert _audit(aggregation_threshold=0.3).aggregation["gender"]["flagged"] == []


def test_log_odds_terms_hand_computed() -> None:
    texts = ["she cat"] * 3 + ["he cat"] * 3
    groups = ["F"] * 3 + ["M"] * 3
    terms = log_odds_terms(texts, groups)
    # she: y_F=3, y_M=0, prior a=3, a0=12, n_F=n_M=6:
    # delta = log(6/12) - log(3/15) = log 2.5; z = delta / sqrt(1/6 + 1/3)
    assert [t["term"] for t in terms["F"]] == ["she"]
    assert terms["F"][0]["z"] == pytest.approx(math.log(2.5) / math.sqrt(0.5))
    assert [t["term"] for t in terms["M"]] == ["he"]


def test_probe_on_embeddings_separates_and_random_does_not() -> None:
    rng = np.random.default_rng(0)
    g = np.array(["a", "b"] * 100)
    emb = rng.normal(size=(200, 4))
    informative = emb.copy()
    informative[:, 0] += 3.0 * (g == "a")
    good = probe_attribute(None, g, embeddings=informative, seed=0)
    assert good["auc"] > 0.9 and good["ci"][0] > 0.8 and good["p_value"] < 1e-10
    noise = probe_attribute(None, g, embeddings=emb, seed=0)
    assert noise["ci"][0] < 0.5 + 0.1 and noise["p_value"] > 0.001


def test_probe_skips_tiny_groups_and_checks_shapes() -> None:
    out = probe_attribute(["a b", "c d", "e f"], ["x", "x", "y"])
    assert "smallest group has 1 row" in out["reason"]
    with pytest.raises(InvalidDataError, match=r"embeddings must have shape \(n_rows, dim\) = \(4, d\)"):
        probe_attribute(None, ["x", "x", "y", "y"], embeddings=np.zeros((3, 2)))


def test_json_round_trip(tmp_path) -> None:
    res = _audit(reference_distribution={"gender": {"F": 0.5, "M": 0.5}})
    path = tmp_path / "data_audit.json"
    res.to_json(path)
    again = DataAuditResult.from_json(path)
    assert again.to_dict() == res.to_dict()
    assert again.to_dict()["kind"] == "fairslm.data_audit"


def test_bad_options() -> None:
    with pytest.raises(InvalidDataError, match="needs a fairslm Dataset; got DataFrame"):
        audit_data(FRAME)
    with pytest.raises(ConfigError, match="must be non-negative and sum to 1; they sum to 0.700"):
        _audit(reference_distribution={"gender": {"F": 0.3, "M": 0.4}})
    with pytest.raises(ConfigError, match="names 'sex', which is not a sensitive feature; "
                                          "features are: gender & race, gender, race"):
        _audit(reference_distribution={"sex": {"F": 0.5, "M": 0.5}})
    with pytest.raises(ConfigError, match=r"with several sensitive features \(gender, race\)"):
        _audit(reference_distribution={"F": 0.5, "M": 0.5})
    with pytest.raises(ConfigError, match="probe must be 'tfidf', an embeddings array or None"):
        _audit(probe="bert")


@pytest.mark.slow
def test_bias_in_bios_probe_finds_gender(biosbias_dir) -> None:
    ds = load_dataset(biosbias_dir, label="profession", pos_label="surgeon", splits=["train"])
    res = audit_data(ds, reference_distribution={"F": 0.5, "M": 0.5})
    p = res.proxies["gender"]
    assert p["auc"] > 0.9 and p["ci"][0] > 0.85 and p["p_value"] < 1e-10
    assert "she" in [t["term"] for t in p["top_terms"]["F"][:3]]
    assert "he" in [t["term"] for t in p["top_terms"]["M"][:3]]
    lab = res.labeling["surgeon"]["gender"]
    assert lab["worst_group"] == "F" and lab["verdict"] == "fail"
    assert res.representation["gender"]["under_represented"] == []


def test_probe_sample_and_embedding_rows() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"text": [f"w{i} she" if i % 2 else f"w{i} he" for i in range(60)],
                       "label": rng.integers(0, 2, 60), "gender": ["F", "M"] * 30})
    ds = load_dataset(df)
    res = audit_data(ds, probe_max_rows=40, n_folds=3, min_group_size=1)
    assert res.proxies["gender"]["n_rows_probed"] == 40
    assert res.proxies["gender"]["auc"] > 0.9
    with pytest.raises(InvalidDataError, match="probe embeddings have 10 rows but the data set has 60"):
        audit_data(ds, probe=np.zeros((10, 3)))


def test_output_follows_the_json_schema() -> None:
    import jsonschema

    from fairslm.audit import data_audit_json_schema

    schema = data_audit_json_schema()
    res = audit_data(load_dataset(FRAME.assign(label=[1, 0, 0, 1, 1, 0, 1, 0] * 1)),
                     min_group_size=1, n_folds=2)
    jsonschema.validate(res.to_dict(), schema)
    jsonschema.validate(_audit(reference_distribution={"gender": {"F": 0.5, "M": 0.5}}).to_dict(),
                        schema)
    bad = res.to_dict() | {"kind": "fairslm.audit"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
