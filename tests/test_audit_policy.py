"""Small groups, the undefined-value policy (vs Fairlearn's), and bad in-memory input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fairslm import ConfigError, InvalidDataError, audit_predictions


def test_small_group_is_reported_but_never_drives_a_verdict() -> None:
    g = np.repeat(["a", "b", "tiny"], [100, 100, 5])
    yt = np.tile([0, 1], 103)[: g.size]
    yp = np.r_[np.tile([0, 1], 50), np.tile([0, 1], 50), np.zeros(5)].astype(int)
    res = audit_predictions(yt, yp, sensitive_features={"g": g}, min_group_size=30)
    view = res.view("g")
    tiny = view.group("tiny")
    assert not tiny.sufficient and tiny.metrics["selection_rate"] == 0.0
    sp = view.criterion("statistical_parity")
    assert sp.verdict == "pass" and sp.ratio == 1.0 and "tiny" not in sp.failing_groups
    # the same data with a lower minimum size lets the tiny group decide
    low = audit_predictions(yt, yp, sensitive_features={"g": g}, min_group_size=5)
    assert low.view("g").criterion("statistical_parity").verdict == "fail"
    none = audit_predictions(yt, yp, sensitive_features={"g": g}, min_group_size=1000)
    sp_none = none.view("g").criterion("statistical_parity")
    assert sp_none.verdict == "insufficient"
    # No evidence is not a pass, and the groups that exist are shown (tiny selects no one),
    # never a ratio of 1.0.
    assert none.verdict == "insufficient" and not none.passed
    assert sp_none.ratio == 0.0


def test_undefined_rate_is_nan_with_reason_where_fairlearn_says_zero() -> None:
    """fairslm: a group without actual positives has an undefined TPR (NaN, with the reason),
    left out of the summaries. Fairlearn (via scikit-learn's zero_division) reports 0, which
    makes its summary ratio 0."""
    fl = pytest.importorskip("fairlearn.metrics")
    yt = np.array([0, 0, 0, 0, 1, 1, 0, 0, 1, 1])
    yp = np.array([0, 1, 0, 0, 1, 0, 0, 1, 1, 1])
    g = np.repeat(["x", "y", "z"], [4, 3, 3])
    res = audit_predictions(yt, yp, sensitive_features={"g": g}, min_group_size=1)
    x = res.view("g").group("x")
    assert math.isnan(x.metrics["true_positive_rate"])
    assert x.undefined["true_positive_rate"] == "no actual positives (y_true = positive) in the group"
    d = res.view("g").disparities["true_positive_rate"]
    assert d.ratio == pytest.approx(0.5 / 1.0) and math.isnan(d.by_group["x"]["ratio"])
    assert res.options["undefined"] == "nan"
    mf = fl.MetricFrame(metrics=fl.true_positive_rate, y_true=yt, y_pred=yp, sensitive_features=g)
    assert mf.by_group["x"] == 0.0
    assert mf.ratio() == 0.0
    res.to_json()  # NaN is written as null, not as an invalid JSON token


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_true": [1, np.nan, 0, 1]}, r"y_true has 1 missing \(NaN/None\) value\(s\); first at row 1"),
        ({"y_pred": [1, 0, None, 1]}, r"y_pred has 1 missing"),
        ({"sample_weight": [1.0, -2.0, 1.0, 1.0]}, r"sample_weight has 1 negative value\(s\); first at row 1"),
        ({"sample_weight": [1.0, np.nan, 1.0, 1.0]}, r"sample_weight has 1 NaN or infinite value"),
        ({"sample_weight": [1.0, 1.0]}, "sample_weight has 2 values but y_true has 4"),
        ({"sensitive_features": {"g": ["a", None, "b", None]}},
         r"sensitive feature 'g' has 2 missing value\(s\) out of 4 rows.*missing='group'"),
        ({"sensitive_features": {"g": ["a", "a", "a", "a"]}},
         r"sensitive feature 'g' has only one group \('a'\) in 4 rows"),
        ({"sensitive_features": {"g": ["a", "b", "a"]}}, "sensitive feature 'g' has 3 values but y_true has 4"),
        ({"reference_group": "c"}, r"reference group 'c' does not exist; groups are: a, b"),
        ({"y_true": ["u", "v", "w", "u"], "y_pred": ["u", "v", "w", "u"], "y_score": [0.1] * 4},
         "the labels have 3 classes"),
    ],
)
def test_bad_input_messages(kwargs: dict, message: str) -> None:
    args = {"y_true": [1, 0, 0, 1], "y_pred": [1, 0, 1, 1],
            "sensitive_features": {"g": ["a", "a", "b", "b"]}, "min_group_size": 1, **kwargs}
    yt, yp = args.pop("y_true"), args.pop("y_pred")
    with pytest.raises(InvalidDataError, match=message):
        audit_predictions(yt, yp, **args)


def test_missing_sensitive_values_as_their_own_group() -> None:
    res = audit_predictions([1, 0, 0, 1], [1, 0, 1, 1], sensitive_features={"g": ["a", None, "b", None]},
                            missing="group", min_group_size=1)
    assert res.view("g").group("(missing)").count == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 0}, r"threshold must be in \(0, 1\]"),
        ({"min_group_size": -1}, "min_group_size must be >= 0"),
        ({"n_bootstrap": -5}, "n_bootstrap must be >= 0"),
        ({"confidence": 1.5}, r"confidence must be in \(0, 1\)"),
        ({"criteria": ["fairness"]}, r"unknown criteria \['fairness'\]; known criteria: statistical_parity"),
    ],
)
def test_bad_options(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        audit_predictions([1, 0, 0, 1], [1, 0, 1, 1], sensitive_features=["a", "a", "b", "b"],
                          **kwargs)
