"""Exact values of the audit on small hand-computed fixtures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fairslm import InvalidDataError, audit_predictions

# Group A: TP=2 FN=1 FP=1 TN=2 ; Group B: TP=1 FN=1 FP=0 TN=2
Y_TRUE = [1, 1, 1, 0, 0, 0, 1, 1, 0, 0]
Y_PRED = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]
GROUP = ["A"] * 6 + ["B"] * 4


def _audit(**kw):
    return audit_predictions(
        Y_TRUE, Y_PRED, sensitive_features={"g": GROUP}, min_group_size=1, **kw
    )


def test_group_rates_match_hand_computation() -> None:
    view = _audit().view("g")
    a, b = view.group("A"), view.group("B")
    assert a.count == 6 and b.count == 4
    assert a.metrics["selection_rate"] == pytest.approx(3 / 6)
    assert b.metrics["selection_rate"] == pytest.approx(1 / 4)
    assert a.metrics["true_positive_rate"] == pytest.approx(2 / 3)
    assert b.metrics["true_positive_rate"] == pytest.approx(1 / 2)
    assert a.metrics["false_positive_rate"] == pytest.approx(1 / 3)
    assert b.metrics["false_positive_rate"] == pytest.approx(0.0)
    assert a.metrics["precision"] == pytest.approx(2 / 3)
    assert b.metrics["precision"] == pytest.approx(1.0)
    assert b.metrics["negative_predictive_value"] == pytest.approx(2 / 3)
    assert a.metrics["accuracy"] == pytest.approx(4 / 6)
    assert b.metrics["balanced_accuracy"] == pytest.approx((0.5 + 1.0) / 2)


def test_criteria_min_max_semantics() -> None:
    view = _audit().view("g")
    sp = view.criterion("statistical_parity")
    assert sp.ratio == pytest.approx((1 / 4) / (3 / 6))
    assert sp.difference == pytest.approx(3 / 6 - 1 / 4)
    assert sp.verdict == "fail" and sp.worst_group == "B" and sp.reference == "A"
    eo = view.criterion("equalized_odds")
    # worst of TPR ratio (0.5/0.667 = 0.75) and FPR ratio (0/0.333 = 0)
    assert eo.ratio == pytest.approx(0.0)
    assert eo.difference == pytest.approx(1 / 3)
    assert "50% less often" in sp.reading


def test_named_reference_group() -> None:
    view = _audit(reference_group="B").view("g")
    d = view.disparities["selection_rate"]
    assert d.reference == "B"
    assert d.by_group["A"]["ratio"] == pytest.approx(2.0)
    assert d.ratio == pytest.approx(0.5)  # folded: min(2, 1/2)


def test_undefined_rate_is_kept_with_reason() -> None:
    res = audit_predictions(
        [0, 0, 1, 1], [0, 1, 1, 0], sensitive_features=["x", "x", "y", "y"], min_group_size=1
    )
    g = res.view().group("x")
    assert math.isnan(g.metrics["true_positive_rate"])
    assert "no actual positives" in g.undefined["true_positive_rate"]


def test_unknown_reference_group_lists_groups() -> None:
    with pytest.raises(InvalidDataError, match="does not exist; groups are: A, B"):
        _audit(reference_group="C")


def test_json_round_trip(tmp_path) -> None:
    res = _audit()
    path = tmp_path / "audit.json"
    res.to_json(path)
    again = type(res).from_json(path)
    assert again.to_dict() == res.to_dict()


def test_length_mismatch_message() -> None:
    with pytest.raises(InvalidDataError, match="y_pred has 3 values but y_true has 4"):
        audit_predictions([1, 0, 1, 0], [1, 0, 1], sensitive_features=[1, 1, 2, 2])


def test_intersections_and_marginals_from_one_table() -> None:
    rng = np.random.default_rng(0)
    n = 500
    yt, yp = rng.integers(0, 2, n), rng.integers(0, 2, n)
    sf = {"a": rng.choice(["p", "q"], n), "b": rng.choice(["u", "v", "w"], n)}
    res = audit_predictions(yt, yp, sensitive_features=sf, min_group_size=1)
    assert [v.name for v in res.views] == ["a & b", "a", "b"]
    assert len(res.view("a & b").groups) == 6
    alone = audit_predictions(yt, yp, sensitive_features={"a": sf["a"]}, min_group_size=1)
    assert res.view("a").group("p").metrics == alone.view("a").group("p").metrics
