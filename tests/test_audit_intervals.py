"""Score intervals: hand-checked values, the audit's wiring, and coverage over small counts."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from fairslm import audit_predictions
from fairslm.audit import audit_count_table
from fairslm.engines import count_table_from_arrays
from fairslm.metrics import (
    mover_ratio_interval,
    newcombe_difference_interval,
    proportion_counts,
    wilson_interval,
)

SIZES = (30, 60, 200, 1000)
RATES = (0.02, 0.05, 0.3, 0.5)
REF_SIZE, REF_RATE = 1000, 0.4


def test_wilson_and_newcombe_match_published_examples() -> None:
    # Newcombe (1998), Table II, example (a): 56/70 vs 48/80 -> difference 0.2,
    # hybrid score interval 0.0524 to 0.3339.
    lo, hi = newcombe_difference_interval(56, 70, 48, 80)
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.0524, 0.3339)
    # Newcombe (1998) example (h): 10/10 vs 0/10 -> 0.6075 to 1.0000.
    lo, hi = newcombe_difference_interval(10, 10, 0, 10)
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.6075, 1.0)
    # Wilson (1927) interval of 0/10: 0 to 0.2775 (Newcombe 1998, Table I).
    lo, hi = wilson_interval(0, 10)
    assert float(lo) == 0.0 and round(float(hi), 4) == 0.2775


def test_mover_ratio_inverts_and_contains_the_estimate() -> None:
    # MOVER-R is invariant to swapping the groups: the interval of p2/p1 is the reciprocal
    # of that of p1/p2 (Newcombe 2016), and the estimate lies inside.
    rng = np.random.default_rng(0)
    n1, n2 = rng.integers(5, 2000, 500), rng.integers(5, 2000, 500)
    x1, x2 = rng.binomial(n1, rng.random(500)), rng.binomial(n2, rng.random(500))
    ok = (x1 > 0) & (x2 > 0)
    lo, hi = mover_ratio_interval(x1, n1, x2, n2)
    lo_inv, hi_inv = mover_ratio_interval(x2, n2, x1, n1)
    np.testing.assert_allclose(lo[ok], 1 / hi_inv[ok], rtol=1e-9)
    np.testing.assert_allclose(hi[ok], 1 / lo_inv[ok], rtol=1e-9)
    r = (x1 / n1) / np.where(x2 > 0, x2 / n2, 1)
    assert np.all((lo[ok] <= r[ok]) & (r[ok] <= hi[ok]))


def test_ratio_edges_zero_events() -> None:
    lo, hi = mover_ratio_interval([0, 3, 0], [30, 30, 0], [5, 0, 5], [30, 30, 30])
    assert lo[0] == 0.0 and 0 < hi[0] < np.inf  # no events in the group: from 0
    assert lo[1] > 0 and hi[1] == np.inf  # none in the reference: bounded below only
    assert np.isnan(lo[2]) and np.isnan(hi[2])  # no trials: undefined


def test_effective_counts_are_rows_for_equal_weights_and_kish_otherwise() -> None:
    conf = np.array([[[5.0, 1.0], [2.0, 6.0]]])  # TN, FP / FN, TP
    x, n, w = proportion_counts("precision", 2.5 * conf, 6.25 * conf)  # every weight 2.5
    assert (float(x[0]), float(n[0]), float(w[0])) == pytest.approx((6.0, 7.0, 17.5), rel=1e-12)
    # TP: 3 rows of weight 2 (sum 6, squares 12); FN: 2 rows of weight 1.
    conf = np.array([[[0.0, 0.0], [2.0, 6.0]]])
    conf_sq = np.array([[[0.0, 0.0], [2.0, 12.0]]])
    x, n, w = proportion_counts("true_positive_rate", conf, conf_sq)
    assert float(n[0]) == pytest.approx(64 / 14) and float(x[0] / n[0]) == pytest.approx(0.75)


def _two_groups(rng, size, rate, n_rows=None):
    """Rows of a reference group (1,000 rows, 0.4) and a small group, decisions independent
    of the label, so both the selection rate and the TPR of a group equal its rate."""
    n_rows = size
    g = np.repeat(["ref", "small"], [REF_SIZE, n_rows])
    yt = rng.integers(0, 2, g.size)
    p = np.where(g == "ref", REF_RATE, rate)
    yp = (rng.random(g.size) < p).astype(int)
    return yt, yp, g


@pytest.mark.parametrize("reference", ["ref", "overall", "min_max", "largest"])
def test_audit_intervals_are_the_score_intervals_of_its_counts(reference) -> None:
    rng = np.random.default_rng(1)
    yt, yp, g = _two_groups(rng, 60, 0.05)
    w = rng.choice([1.0, 3.0], g.size)  # varies within cells: the bootstrap's gamma path
    res = audit_predictions(yt, yp, sensitive_features={"g": g}, sample_weight=w,
                            n_bootstrap=50, seed=0, reference_group=reference)
    assert res.options["interval_method"] == "score"
    assert res.extras["intervals"]["ratio"].startswith("MOVER-R")
    assert res.extras["bootstrap"]["method"] == "multinomial-gamma"
    table = count_table_from_arrays(yt, yp, {"g": g}, sample_weight=w)
    conf, conf_sq = table.binary(1), table.binary(1, source=table.weight_sq_sums)
    x, n, wsum = proportion_counts("true_positive_rate", conf, conf_sq)
    entry = res.view("g").disparities["true_positive_rate"].by_group["small"]
    if reference == "overall":
        rest = conf.sum(axis=0) - conf[1]
        rest_sq = conf_sq.sum(axis=0) - conf_sq[1]
        xr, nr, wr = proportion_counts("true_positive_rate", rest[None], rest_sq[None])
        s = wsum[1] / (wsum[1] + wr[0])
        t_lo, t_hi = mover_ratio_interval(x[1], n[1], xr[0], nr[0])
        d_lo, d_hi = newcombe_difference_interval(x[1], n[1], xr[0], nr[0])
        want_r = [float(t / (s * t + 1 - s)) for t in (t_lo, t_hi)]
        want_d = [float((1 - s) * d) for d in (d_lo, d_hi)]
    else:
        want_r = [float(v) for v in mover_ratio_interval(x[1], n[1], x[0], n[0])]
        want_d = [float(v) for v in newcombe_difference_interval(x[1], n[1], x[0], n[0])]
    assert entry["ratio_interval"] == pytest.approx(want_r, rel=1e-12)
    assert entry["difference_interval"] == pytest.approx(want_d, rel=1e-12, abs=1e-15)
    assert res.view("g").group("small").intervals["true_positive_rate"] == pytest.approx(
        tuple(float(v) for v in wilson_interval(x[1], n[1])), rel=1e-12)
    # The criterion's interval is the worst group's, folded like its ratio.
    crit = res.view("g").criterion("equal_opportunity")
    assert crit.ratio_interval[0] == pytest.approx(min(want_r[0], 1 / want_r[1]), rel=1e-12)
    assert crit.ratio_interval[0] <= crit.ratio <= crit.ratio_interval[1] <= 1.0


def test_interval_method_bootstrap_keeps_the_percentile_intervals() -> None:
    rng = np.random.default_rng(2)
    yt, yp, g = _two_groups(rng, 200, 0.3)
    table = count_table_from_arrays(yt, yp, {"g": g})
    boot = audit_count_table(table, n_bootstrap=200, seed=3, interval_method="bootstrap")
    score = audit_count_table(table, n_bootstrap=200, seed=3)
    assert boot.extras["intervals"]["method"] == "bootstrap"
    b = boot.view("g").group("small").intervals["selection_rate"]
    s = score.view("g").group("small").intervals["selection_rate"]
    assert b != s and abs(b[0] - s[0]) < 0.03 and abs(b[1] - s[1]) < 0.03
    # Balanced accuracy has no closed form: the same bootstrap interval under both methods.
    assert (boot.view("g").group("small").intervals["balanced_accuracy"]
            == score.view("g").group("small").intervals["balanced_accuracy"])


@pytest.mark.parametrize("reference", ["min_max", "overall"])
def test_without_a_bootstrap_the_closed_form_intervals_are_still_given(reference) -> None:
    rng = np.random.default_rng(4)
    yt, yp, g = _two_groups(rng, 60, 0.05)
    kw = {"sensitive_features": {"g": g}, "reference_group": reference}
    none = audit_predictions(yt, yp, n_bootstrap=0, **kw)
    boot = audit_predictions(yt, yp, n_bootstrap=50, seed=0, **kw)
    assert none.extras["intervals"]["ratio"].startswith("MOVER-R")
    assert "bootstrap" not in none.extras and none.extras["rms_tpr_gap"]["g"]["interval"] is None
    for m in ("selection_rate", "true_positive_rate", "precision", "error_rate"):
        for label in ("ref", "small"):
            assert (none.view("g").group(label).intervals[m]
                    == boot.view("g").group(label).intervals[m])
        d0, d1 = none.view("g").disparities[m], boot.view("g").disparities[m]
        assert (d0.ratio_interval, d0.difference_interval) == (d1.ratio_interval,
                                                               d1.difference_interval)
        assert d0.by_group["small"]["ratio_interval"] == d1.by_group["small"]["ratio_interval"]
    for c0, c1 in zip(none.view("g").criteria, boot.view("g").criteria, strict=True):
        assert c0.ratio_interval == c1.ratio_interval is not None
    # No closed form, no bootstrap: no interval rather than a made-up one.
    assert "balanced_accuracy" not in none.view("g").group("small").intervals
    assert none.view("g").disparities["balanced_accuracy"].ratio_interval is None
    # With the percentile method there is nothing to give without replicates.
    bare = audit_predictions(yt, yp, n_bootstrap=0, interval_method="bootstrap", **kw)
    assert "intervals" not in bare.extras and bare.view("g").criteria[0].ratio_interval is None
    assert gc.isenabled()  # paused while the results were built, and resumed


def test_unknown_interval_method_is_refused() -> None:
    with pytest.raises(ValueError, match="interval_method must be one of score, bootstrap; got 'wald'"):
        audit_predictions([1, 0], [1, 0], sensitive_features={"g": ["a", "b"]},
                          interval_method="wald")


def _simulate(rng, size, rate, n_sim, weighted):
    """Confusion cells of the reference and the small group, ``(n_sim, 2, 2, 2)``, plus the
    squared-weight cells: labels are fair coins, decisions independent of them, so the
    selection rate and the TPR of a group both equal its rate."""
    cells, sq = [], []
    for n, p in ((REF_SIZE, REF_RATE), (size, rate)):
        probs = np.array([0.5 * (1 - p), 0.5 * p, 0.5 * (1 - p), 0.5 * p])  # TN FP FN TP
        k = rng.multinomial(n, probs, size=n_sim).astype(np.float64)
        if weighted:
            # Weight 3 for 30% of rows, 1 otherwise, independently of everything: sums of
            # weights and of squared weights per cell follow from the heavy rows' count.
            heavy = rng.binomial(k.astype(np.int64), 0.3)
            cells.append(k + 2 * heavy)
            sq.append(k + 8 * heavy)
        else:
            cells.append(k)
            sq.append(k)
    conf = np.stack(cells, axis=1).reshape(n_sim, 2, 2, 2)
    conf_sq = np.stack(sq, axis=1).reshape(n_sim, 2, 2, 2)
    return conf, (conf_sq if weighted else None)


@pytest.mark.parametrize("weighted", [False, True], ids=["counts", "weights"])
def test_coverage_over_small_groups_and_rare_events(weighted) -> None:
    """95% intervals cover the true ratio and difference 93-97% of the time over the grid
    group size {30, 60, 200, 1000} x rate {0.02, 0.05, 0.3, 0.5} x {selection rate, TPR},
    against a reference group of 1,000 rows at rate 0.4."""
    rng = np.random.default_rng(16)
    # 40,000 simulated audits a cell estimate a 95% coverage to +/-0.11 points (one SE).
    n_sim = 40_000
    table = {}
    for size in SIZES:
        for rate in RATES:
            conf, conf_sq = _simulate(rng, size, rate, n_sim, weighted)
            for metric in ("selection_rate", "true_positive_rate"):
                x, n, _ = proportion_counts(metric, conf, conf_sq)
                ok = n[:, 0] * n[:, 1] > 0  # a group without actual positives has no TPR
                r_lo, r_hi = mover_ratio_interval(x[ok, 1], n[ok, 1], x[ok, 0], n[ok, 0])
                d_lo, d_hi = newcombe_difference_interval(x[ok, 1], n[ok, 1], x[ok, 0], n[ok, 0])
                ratio, diff = rate / REF_RATE, rate - REF_RATE
                table[(metric, "ratio", size, rate)] = np.mean((r_lo <= ratio) & (ratio <= r_hi))
                table[(metric, "difference", size, rate)] = np.mean((d_lo <= diff) & (diff <= d_hi))
    # Two cells of the 64 sit outside 93-97%, both at well under one expected event:
    # * 30 rows at 0.02 (0.6 events), selection-rate ratio: every interval that is a function
    #   of the counts covers P(X <= 2) = 97.8% (2 of 30 still admits a rate of 0.02, 3 of 30
    #   does not, for Wilson, Katz or Jeffreys alike) or P(X <= 1) = 87.9%; MOVER-R: 97.6%.
    # * with uneven weights, the TPR ratio of ~15 positives at 0.02 (0.3 events): one
    #   success of weight 3 gives a weighted rate of ~0.12 and an interval above 0.02; 92%.
    exceptions = {(False, "selection_rate", "ratio", 30, 0.02): (0.97, 0.98),
                  (True, "true_positive_rate", "ratio", 30, 0.02): (0.90, 0.93)}
    for key, cover in table.items():
        lo, hi = exceptions.get((weighted, *key), (0.93, 0.97))
        assert lo <= cover <= hi, (key, cover)
