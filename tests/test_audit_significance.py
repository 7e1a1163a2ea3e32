"""Two-proportion tests of each group's gap, Fisher for small counts, Holm across groups."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from fairslm import audit_predictions
from fairslm.metrics import (
    fisher_exact_p,
    holm,
    proportion_parts,
    two_proportion_test,
    two_proportion_tests,
)


def test_z_test_matches_the_textbook_formula() -> None:
    x1, n1, x2, n2 = 45, 120, 70, 130
    pooled = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p, test = two_proportion_test(x1, n1, x2, n2)
    assert test == "z"
    assert p == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-12)


def test_fisher_when_an_expected_count_is_below_five() -> None:
    p, test = two_proportion_test(2, 12, 9, 15)
    assert test == "fisher"
    assert p == pytest.approx(stats.fisher_exact([[2, 10], [9, 6]]).pvalue, rel=1e-12)
    p, tests = two_proportion_tests(np.array([2.0, 45.0]), np.array([12.0, 120.0]),
                                    np.array([9.0, 70.0]), np.array([15.0, 130.0]))
    assert tests.tolist() == ["fisher", "z"]
    assert np.isnan(two_proportion_test(0, 0, 3, 10)[0])


def test_fisher_matches_scipy_on_many_tables_and_repeated_tables_share_one_answer() -> None:
    rng = np.random.default_rng(7)
    for top in (3, 12, 60, 400):
        for a, b, c, d in rng.integers(0, top, size=(60, 4)).tolist():
            assert fisher_exact_p(a, b, c, d) == pytest.approx(
                stats.fisher_exact([[a, b], [c, d]]).pvalue, rel=1e-9, abs=1e-12
            ), (a, b, c, d)
    # Thousands of two-row groups against one reference: every group gets its own table's p.
    x1 = rng.integers(0, 3, 5000).astype(np.float64)
    p, tests = two_proportion_tests(x1, np.full(5000, 2.0), np.full(5000, 3.0),
                                    np.full(5000, 40.0))
    assert set(tests.tolist()) == {"fisher"}
    for k in (0, 1, 2):
        expected = stats.fisher_exact([[k, 2 - k], [3, 37]]).pvalue
        assert np.allclose(p[x1 == k], expected, rtol=1e-9)


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.02, 0.04 -> x3, x2, x1 = 0.03, 0.04, 0.04 (monotone), then capped at 1
    np.testing.assert_allclose(holm(np.array([0.04, 0.01, 0.02])), [0.04, 0.03, 0.04])
    np.testing.assert_allclose(holm(np.array([0.5, 0.6])), [1.0, 1.0])


def test_kish_effective_size_for_weights() -> None:
    conf = np.array([[[0.0, 0.0], [2.0, 6.0]]])  # weighted FN=2, TP=6
    conf_sq = np.array([[[0.0, 0.0], [2.0, 18.0]]])
    x, n = proportion_parts("true_positive_rate", conf, conf_sq)
    assert n[0] == pytest.approx(64 / 20)
    assert x[0] / n[0] == pytest.approx(6 / 8)


def test_audit_stores_tests_against_the_reference_with_holm() -> None:
    rng = np.random.default_rng(0)
    g = np.repeat(["a", "b", "c", "d"], [400, 400, 400, 8])
    yt = rng.integers(0, 2, g.size)
    rate = np.select([g == "a", g == "b", g == "c"], [0.5, 0.35, 0.48], 0.5)
    yp = (rng.random(g.size) < rate).astype(int)
    res = audit_predictions(yt, yp, sensitive_features={"g": g}, reference_group="a",
                            min_group_size=1)
    by = res.view("g").disparities["selection_rate"].by_group
    assert by["a"]["test"] == "reference" and math.isnan(by["a"]["p_value"])
    assert by["b"]["test"] == "z" and by["d"]["test"] == "fisher"
    sel = {k: (yp[g == k].sum(), (g == k).sum()) for k in "abcd"}
    p_b = two_proportion_test(*sel["b"], *sel["a"])[0]
    assert by["b"]["p_value"] == pytest.approx(p_b, rel=1e-12)
    raw = np.array([by[k]["p_value"] for k in "bcd"])
    np.testing.assert_allclose([by[k]["p_value_holm"] for k in "bcd"], holm(raw))
    assert by["b"]["p_value_holm"] < 0.01 < 0.3 < by["c"]["p_value_holm"]


def test_overall_reference_tests_against_the_rest() -> None:
    g = np.repeat(["a", "b"], 100)
    yp = np.r_[np.ones(60), np.zeros(40), np.ones(30), np.zeros(70)].astype(int)  # 60%, 30%
    res = audit_predictions(np.ones(200, dtype=int), yp, sensitive_features={"g": g},
                            reference_group="overall", min_group_size=1)
    by = res.view("g").disparities["selection_rate"].by_group
    assert by["a"]["p_value"] == pytest.approx(two_proportion_test(60, 100, 30, 100)[0])
    assert res.extras["significance"]["correction"].startswith("Holm")
