"""Audits of scores: scoring rates, SMD, AUC per group and criteria across thresholds, each
checked against a direct computation on the rows."""

from __future__ import annotations

import numpy as np
import pytest

from fairslm import audit_predictions
from fairslm.audit import ScoreAuditResult, audit_scores
from fairslm.engines import median_count_table
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.metrics import (
    impact_ratios,
    one_person_sensitivity,
    shortfall_to_threshold,
    standardized_mean_difference,
    threshold_confusion,
    threshold_indices,
    two_proportion_z,
)


def _data(n: int = 600, seed: int = 3):
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    shift = np.select([g == "a", g == "b"], [0.1, 0.0], -0.1)
    y = (rng.random(n) < 0.5).astype(int)
    # scores on bin centres (k + 0.5) / 1000, so binning loses nothing
    s = np.clip(0.45 + shift + 0.2 * (y - 0.5) + rng.normal(0, 0.15, n), 0, 0.999)
    s = (np.floor(s * 1000) + 0.5) / 1000
    return s, y, g


def test_scoring_rate_smd_and_auc_match_rows() -> None:
    from sklearn.metrics import roc_auc_score

    s, y, g = _data()
    res = audit_scores(s, sensitive_features={"g": g}, y_true=y, min_group_size=1)
    med = np.median(s)
    assert res.median == med and res.ties_at_median == int((s == med).sum())
    view = res.view("g")
    means = {k: s[g == k].mean() for k in "abc"}
    assert view.reference == "a" and view.highest_scoring == max(
        "abc", key=lambda k: (s[g == k] > med).mean())
    for k in "abc":
        grp = view.group(k)
        m = g == k
        assert grp.count == m.sum()
        assert grp.scoring_rate == pytest.approx((s[m] > med).mean())
        assert grp.mean == pytest.approx(means[k])
        assert grp.sd == pytest.approx(s[m].std())
        assert grp.roc_auc == pytest.approx(roc_auc_score(y[m], s[m]))
        na, nb = m.sum(), (g == "a").sum()
        pooled = np.sqrt(((na - 1) * s[m].var(ddof=1) + (nb - 1) * s[g == "a"].var(ddof=1))
                         / (na + nb - 2))
        assert grp.smd == pytest.approx((means[k] - means["a"]) / pooled)
        assert sum(grp.histogram) == pytest.approx(1.0)
    assert view.group("a").smd == 0.0 and view.group("a").smd_interval is None
    assert view.group("b").smd_interval[0] < view.group("b").smd < view.group("b").smd_interval[1]


def test_criteria_across_thresholds_match_audits_at_each_threshold() -> None:
    s, y, g = _data()
    res = audit_scores(s, sensitive_features={"g": g}, y_true=y, min_group_size=1,
                       thresholds=[0.3, 0.45, 0.6])
    assert res.thresholds == pytest.approx((0.3, 0.45, 0.6))
    view = res.view("g")
    for i, t in enumerate(res.thresholds):
        direct = audit_predictions(y, (s >= t).astype(int), sensitive_features={"g": g},
                                   min_group_size=1)
        dv = direct.view("g")
        for crit in ("statistical_parity", "equal_opportunity", "predictive_parity",
                     "equalized_odds"):
            assert view.criteria[crit][i] == pytest.approx(dv.criterion(crit).ratio), (crit, t)
        for k in "abc":
            m = g == k
            assert view.curves["selection_rate"][k][i] == pytest.approx((s[m] >= t).mean())


def test_no_labels_and_scores_outside_unit_interval() -> None:
    s, _, g = _data()
    ratings = 20 + 60 * s  # a 0-100 style rating
    res = audit_scores(ratings, sensitive_features={"g": g}, min_group_size=1)
    assert not res.labelled and set(res.view("g").criteria) == {"statistical_parity"}
    assert res.score_range == (ratings.min(), ratings.max())
    assert res.median == np.median(ratings)
    assert np.isnan(res.view("g").group("b").roc_auc)
    plain = audit_scores(s, sensitive_features={"g": g}, min_group_size=1)
    for k in "abc":  # SMD does not depend on the units
        assert res.view("g").group(k).smd == pytest.approx(plain.view("g").group(k).smd)
    assert res.view("g").group("a").mean == pytest.approx(ratings[g == "a"].mean())
    # default thresholds: 0.1 ... 0.9 of the score range, reported in the scores' units
    lo, hi = ratings.min(), ratings.max()
    assert res.thresholds[0] == pytest.approx(lo + 0.1 * (hi - lo))
    back = ScoreAuditResult.from_json(res.to_json())
    assert back.view("g").group("c").scoring_rate == res.view("g").group("c").scoring_rate


def test_intersections_and_marginals() -> None:
    s, y, g = _data()
    h = np.where(np.arange(len(s)) % 2 == 0, "x", "y")
    res = audit_scores(s, sensitive_features={"g": g, "h": h}, min_group_size=1)
    assert [v.name for v in res.views] == ["g & h", "g", "h"]
    assert res.view("g & h").group("a, x").count == ((g == "a") & (h == "x")).sum()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"y_score": [0.5, 0.5, 0.5, 0.5]}, InvalidDataError, "all 4 scores equal 0.5"),
        ({"y_score": [0.1, np.nan, 0.3, 0.4]}, InvalidDataError, "1 missing or infinite"),
        ({"y_score": ["a", "b", "c", "d"]}, InvalidDataError, "scores must be numbers"),
        ({"y_score": [0.1, 0.2, 0.3, 0.4], "thresholds": [1.5]}, ConfigError,
         "within the scores' range [0, 1]"),
        ({"y_score": [0.1, 0.2, 0.3, 0.4], "y_true": ["no", "yes", "no", "yes"]},
         InvalidDataError, "y_true must be 0/1"),
    ],
)
def test_bad_input(kwargs, error, message) -> None:
    with pytest.raises(error, match=message.replace("[", r"\[").replace("]", r"\]")):
        audit_scores(sensitive_features={"g": ["a", "a", "b", "b"]}, min_group_size=1, **kwargs)


def test_threshold_confusion_one_pass_equals_rows() -> None:
    s, y, g = _data(200)
    mt = median_count_table(s, {"g": g}, y_true=y)
    t = mt.table
    idx = threshold_indices(t.score_edges, [0.0, 0.25, 0.5, 1.0])
    conf = threshold_confusion(t.score_counts, 1, idx)
    for i, thr in enumerate([0.0, 0.25, 0.5, 1.0]):
        for gi, lab in enumerate(t.group_labels):
            m = g == lab
            p = s[m] >= thr
            assert conf[i, gi, 1, 1] == (p & (y[m] == 1)).sum()
            assert conf[i, gi, 0, 1] == (p & (y[m] == 0)).sum()
    with pytest.raises(ValueError, match="threshold 0.1234 is not on the score table's bin edges"):
        threshold_indices(t.score_edges, [0.1234])


def test_adverse_impact_helpers() -> None:
    ratios, top = impact_ratios(np.array([0.6, 0.45, 0.48, 0.51]))
    # The Guidelines' Questions and Answers: 45/60 = 75%, 48/60 = 80%, 51/60 = 85%
    assert top == 0 and ratios.round(2).tolist() == [1.0, 0.75, 0.8, 0.85]
    assert shortfall_to_threshold(np.array([48.0]), np.array([100.0]), 60, 100).tolist() == [0.0]
    assert shortfall_to_threshold(np.array([44.0]), np.array([100.0]), 60, 100).tolist() == [4.0]
    z, p = two_proportion_z(np.array([45.0]), np.array([100.0]), np.array([60.0]), np.array([100.0]))
    assert z[0] == pytest.approx(-2.1239, abs=1e-4) and p[0] == pytest.approx(0.03368, abs=1e-4)
    # 4/10 flagged against 6/10 (0.67), 5/10 would not be (0.83); 1/2 is not (0.83), 0/2 would be
    flips, moved = one_person_sensitivity(np.array([6.0, 4.0, 1.0]), np.array([10.0, 10.0, 2.0]))
    assert flips.tolist() == [False, True, True]
    assert moved[1] == pytest.approx(5 / 6) and moved[2] == 0.0
    stable, _ = one_person_sensitivity(np.array([60.0, 30.0]), np.array([100.0, 100.0]))
    assert stable.tolist() == [False, False]
    d, lo, hi = standardized_mean_difference(np.array([1.0]), np.array([0.5]), np.array([0.1]),
                                             10.0, 0.4, 0.1)
    assert np.isnan(d[0]) and np.isnan(lo[0])


def test_engines_carry_exact_score_squares(tmp_path) -> None:
    import pandas as pd

    from fairslm.engines import count_table_from_arrays, count_table_from_file

    s, y, g = _data(300)
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(s))
    pd.DataFrame({"y": y, "p": (s > 0.5).astype(int), "g": g, "s": s, "w": w}).to_parquet(
        tmp_path / "p.parquet")
    mem = count_table_from_arrays(y, (s > 0.5).astype(int), {"g": g}, y_score=s, sample_weight=w)
    disk = count_table_from_file(tmp_path / "p.parquet", y_true="y", y_pred="p", sensitive=["g"],
                                 y_score="s", weight="w")
    np.testing.assert_allclose(disk.score_sq_sums, mem.score_sq_sums)
    assert mem.score_sq_sums.sum() == pytest.approx((w * s * s).sum())
    assert mem.marginal(["g"]).total().score_sq_sums.sum() == pytest.approx((w * s * s).sum())
