"""ROC AUC and calibration error per group from the (group, y_true, score bin) table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fairslm import InvalidDataError, audit_predictions

skm = pytest.importorskip("sklearn.metrics")


def _scored(seed: int, n: int = 3000, n_bins: int = 1000):
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], n)
    yt = rng.integers(0, 2, n)
    # scores on bin centres: no two distinct scores share a bin
    k = np.clip(rng.normal(400 + 250 * yt, 200).astype(int), 0, n_bins - 1)
    score = (k + 0.5) / n_bins
    return g, yt, score


@pytest.mark.parametrize("weighted", [False, True])
def test_auc_equals_sklearn_on_bin_centre_scores(weighted: bool) -> None:
    g, yt, score = _scored(1)
    w = np.random.default_rng(2).gamma(2.0, 1.0, g.size) if weighted else None
    res = audit_predictions(yt, (score > 0.5).astype(int), sensitive_features={"g": g},
                            y_score=score, sample_weight=w, significance=False)
    for grp in res.view("g").groups:
        m = g == grp.label
        expected = skm.roc_auc_score(yt[m], score[m], sample_weight=None if w is None else w[m])
        assert grp.metrics["roc_auc"] == pytest.approx(expected, abs=1e-12)
    overall = skm.roc_auc_score(yt, score, sample_weight=w)
    assert res.overall["roc_auc"] == pytest.approx(overall, abs=1e-12)


def test_binning_ties_scores_within_a_bin() -> None:
    yt = np.array([0, 1, 0, 1])
    score = np.array([0.101, 0.102, 0.5, 0.9])  # the first two share bin [0.1, 0.2) of 10
    res = audit_predictions(yt, yt, sensitive_features={"g": ["a", "a", "b", "b"]},
                            y_score=score, n_score_bins=10, n_calibration_bins=10,
                            min_group_size=1)
    a = res.view("g").group("a")
    assert skm.roc_auc_score(yt[:2], score[:2]) == 1.0
    assert a.metrics["roc_auc"] == 0.5  # tied by binning
    # bin 1: mean score 0.1015, half positive; bins 5 and 9 (group b) are not in group a
    assert a.metrics["calibration_error"] == pytest.approx(abs(0.1015 - 0.5), abs=1e-12)


def test_expected_calibration_error_by_hand() -> None:
    # 10 equal-width bins. Group a: bin [0.2, 0.3) holds 0.25 (negative) and 0.25 (positive),
    # bin [0.8, 0.9) holds 0.8 (positive). Group b: 0.85 and 0.95, both positive.
    score = np.array([0.25, 0.25, 0.8, 0.85, 0.95])
    yt = np.array([0, 1, 1, 1, 1])
    grp = ["a", "a", "a", "b", "b"]
    res = audit_predictions(yt, yt, sensitive_features={"g": grp}, y_score=score,
                            min_group_size=1)
    a = res.view("g").group("a")
    # a: bin 2 -> |0.25 - 0.5| * 2/3; bin 8 -> |0.8 - 1| * 1/3
    assert a.metrics["calibration_error"] == pytest.approx(0.25 * 2 / 3 + 0.2 / 3, abs=1e-12)
    b = res.view("g").group("b")
    assert b.metrics["calibration_error"] == pytest.approx((0.15 + 0.05) / 2, abs=1e-12)
    assert math.isnan(b.metrics["roc_auc"])
    assert "lacks actual positives or actual negatives" in b.undefined["roc_auc"]


def test_scores_with_many_classes_need_pos_label() -> None:
    yt = ["x", "y", "z", "x"]
    with pytest.raises(InvalidDataError, match="the labels have 3 classes.*pass pos_label="):
        audit_predictions(yt, yt, sensitive_features=["a", "a", "b", "b"],
                          y_score=[0.1, 0.2, 0.3, 0.4], min_group_size=1)
    with pytest.raises(InvalidDataError, match=r"y_score must be probabilities in \[0, 1\]"):
        audit_predictions([0, 1], [0, 1], sensitive_features=["a", "b"], y_score=[0.5, 2.0])
