"""Paired bootstrap of two models on the same rows: no false alarms, real gaps found."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.mitigation.comparison import ComparisonResult, compare, paired_differences

N_GROUP = 1000
G = np.repeat(["a", "b"], N_GROUP)


def _by_stat(diffs):
    return {d.statistic: d for d in diffs}


def test_identical_decisions_report_no_difference() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, G.size)
    pred = np.where(rng.random(G.size) < 0.8, y, 1 - y)
    diffs = paired_differences(y, pred, pred.copy(), sensitive_features={"g": G}, pos_label=1,
                               n_bootstrap=300, seed=1)
    assert len(diffs) == 11  # accuracy + 5 criteria x (ratio, difference)
    for d in diffs:
        assert d.difference == 0.0 and d.interval == (0.0, 0.0), d.statistic
        assert d.verdict == "within noise" and "cannot tell the two models apart" in d.reading


def _fair_and_unfair(rng):
    """A 5-point gap between two models' disparities: model A selects 50% of group a and 40%
    of group b (difference 0.10); model B is A with 50 of group b's rejected rows selected
    (difference 0.05). Decisions are unrelated to the labels."""
    y = rng.integers(0, 2, G.size)
    a = np.zeros(G.size, dtype=int)
    a[rng.permutation(N_GROUP)[:500]] = 1
    a[N_GROUP + rng.permutation(N_GROUP)[:400]] = 1
    b = a.copy()
    rejected_b = np.flatnonzero((G == "b") & (a == 0))
    b[rng.choice(rejected_b, 50, replace=False)] = 1
    return y, a, b


def test_a_five_point_gap_with_1000_rows_per_group_is_detected() -> None:
    rng = np.random.default_rng(5)
    y, unfair, fair = _fair_and_unfair(rng)
    sp = _by_stat(paired_differences(y, unfair, fair, sensitive_features={"g": G}, pos_label=1,
                                     criteria=["statistical_parity"], seed=0))
    diff = sp["statistical_parity difference"]
    assert (diff.baseline, diff.model) == pytest.approx((0.10, 0.05)) and diff.better == "lower"
    assert diff.verdict == "better" and diff.interval[1] < 0, diff.reading
    assert sp["statistical_parity ratio"].verdict == "better"
    # The other way round the same change is worse.
    back = _by_stat(paired_differences(y, fair, unfair, sensitive_features={"g": G}, pos_label=1,
                                       criteria=["statistical_parity"], seed=0))
    assert back["statistical_parity difference"].verdict == "worse"


def test_power_and_false_alarms_over_simulations() -> None:
    """Equally fair models that disagree on 10% of rows: the 95% paired interval flags a
    difference in about 5% of simulations; the constructed 5-point gap is found nearly always
    (the paired interval of the change is about +/-0.015 wide, two separate audits' +/-0.045)."""
    rng = np.random.default_rng(16)
    n_sim = 80
    false_alarms = detected = 0
    for s in range(n_sim):
        y = rng.integers(0, 2, G.size)
        rate = np.where(G == "a", 0.5, 0.45)
        a = (rng.random(G.size) < rate).astype(int)
        redo = rng.random(G.size) < 0.1  # re-decided from the same group rate: same disparity
        b = np.where(redo, (rng.random(G.size) < rate).astype(int), a)
        same = _by_stat(paired_differences(y, a, b, sensitive_features={"g": G}, pos_label=1,
                                           criteria=["statistical_parity"], n_bootstrap=300, seed=s))
        false_alarms += same["statistical_parity difference"].verdict != "within noise"
        y, unfair, fair = _fair_and_unfair(rng)
        gap = _by_stat(paired_differences(y, unfair, fair, sensitive_features={"g": G}, pos_label=1,
                                          criteria=["statistical_parity"], n_bootstrap=300, seed=s))
        detected += gap["statistical_parity difference"].verdict == "better"
    # 80 simulations: 4 alarms expected at 5%; 10 or more would happen by chance < 1% of the time.
    assert false_alarms <= 9, false_alarms
    assert detected >= 0.9 * n_sim, detected


def test_compare_reports_paired_differences_against_the_baseline(tmp_path) -> None:
    rng = np.random.default_rng(7)
    y, unfair, fair = _fair_and_unfair(rng)
    res = compare({"unfair": unfair, "fair": fair, "same": unfair.copy()}, y_true=y,
                  sensitive_features={"gender": G}, criterion="statistical_parity",
                  n_bootstrap=200, seed=3)
    assert res.baseline == "unfair" and set(res.paired) == {"fair", "same"}
    assert _by_stat(res.paired["fair"])["statistical_parity difference"].verdict == "better"
    assert _by_stat(res.paired["same"])["accuracy"].verdict == "within noise"
    path = tmp_path / "c.json"
    res.to_json(path)
    back = ComparisonResult.from_dict(json.loads(path.read_text()))
    assert back.paired == res.paired and back.baseline == "unfair"
    named = compare({"unfair": unfair, "fair": fair}, y_true=y, sensitive_features={"gender": G},
                    baseline="fair", n_bootstrap=50)
    assert set(named.paired) == {"unfair"}
    assert compare({"a": unfair, "b": fair}, y_true=y, sensitive_features={"gender": G},
                   n_bootstrap=0).paired == {}


def test_bad_paired_input_is_refused_with_a_clear_message() -> None:
    y = [1, 0] * 50
    g = {"g": ["a"] * 50 + ["b"] * 50}
    with pytest.raises(ConfigError, match="baseline 'c' is not among the models: a, b"):
        compare({"a": y, "b": y}, y_true=y, sensitive_features=g, baseline="c")
    with pytest.raises(InvalidDataError, match="the model's decisions have 99 rows, y_true has 100"):
        paired_differences(y, y, y[:99], sensitive_features=g, pos_label=1)
    with pytest.raises(InvalidDataError, match="the model predicts 'maybe'"):
        paired_differences(y, y, ["maybe"] * 100, sensitive_features=g, pos_label=1)
    with pytest.raises(ConfigError, match="unknown criteria"):
        paired_differences(y, y, y, sensitive_features=g, pos_label=1, criteria=["parity"])


def test_sensitive_features_as_a_dataframe_give_the_same_paired_result() -> None:
    import pandas as pd

    rng = np.random.default_rng(2)
    y, unfair, fair = _fair_and_unfair(rng)
    frame = pd.DataFrame({"gender": G, "age": np.tile(["young", "old"], N_GROUP)})
    by_frame = compare({"a": unfair, "b": fair}, y_true=y, sensitive_features=frame, n_bootstrap=100)
    by_dict = compare({"a": unfair, "b": fair}, y_true=y, n_bootstrap=100,
                      sensitive_features={"gender": G, "age": frame["age"].to_numpy()})
    assert by_frame.paired == by_dict.paired
    assert compare({"a": unfair, "b": fair}, y_true=y, sensitive_features=frame["gender"],
                   n_bootstrap=100).paired["b"][0].statistic == "accuracy"
