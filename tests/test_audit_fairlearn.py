"""Cross-check against Fairlearn on random data for every metric both define (to 1e-12)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairslm import audit_predictions

fl = pytest.importorskip("fairlearn.metrics")
skm = pytest.importorskip("sklearn.metrics")

TOL = 1e-12


def _precision(y_true, y_pred, sample_weight=None):
    return skm.precision_score(y_true, y_pred, sample_weight=sample_weight, zero_division=np.nan)


# fairslm metric name -> Fairlearn / scikit-learn function (all take sample_weight)
METRICS = {
    "selection_rate": fl.selection_rate,
    "true_positive_rate": fl.true_positive_rate,
    "false_positive_rate": fl.false_positive_rate,
    "true_negative_rate": fl.true_negative_rate,
    "false_negative_rate": fl.false_negative_rate,
    "precision": _precision,
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
}


def _data(seed: int, n_features: int, weighted: bool):
    rng = np.random.default_rng(seed)
    n = 4000
    feats = {
        "race": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
        "sex": rng.choice(["F", "M"], n),
        "age": rng.choice(["<30", "30-50", ">50"], n),
    }
    sf = pd.DataFrame({k: feats[k] for k in list(feats)[:n_features]})
    group_bias = sf.iloc[:, 0].map({"a": 0.0, "b": 0.15, "c": -0.1}).to_numpy()
    y_true = (rng.random(n) < 0.4 + group_bias).astype(int)
    y_pred = np.where(rng.random(n) < 0.75, y_true, 1 - y_true)
    w = rng.gamma(2.0, 1.0, n) if weighted else None
    return y_true, y_pred, sf, w


def _frame(y_true, y_pred, sf, w):
    params = {m: {"sample_weight": w} for m in METRICS} if w is not None else None
    return fl.MetricFrame(
        metrics=METRICS, y_true=y_true, y_pred=y_pred, sensitive_features=sf,
        sample_params=params,
    )


def _key(values: dict, features: list[str]):
    vals = tuple(values[f] for f in features)
    return vals if len(vals) > 1 else vals[0]


@pytest.mark.parametrize("n_features", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_by_group_and_summaries_match_metricframe(n_features: int, weighted: bool) -> None:
    y_true, y_pred, sf, w = _data(n_features + 10 * weighted, n_features, weighted)
    mf = _frame(y_true, y_pred, sf, w)
    features = list(sf.columns)
    name = " & ".join(features)
    for reference, method in (("min_max", "between_groups"), ("overall", "to_overall")):
        res = audit_predictions(
            y_true, y_pred, sensitive_features=sf, sample_weight=w, min_group_size=0,
            reference_group=reference, significance=False,
        )
        view = res.view(name)
        assert len(view.groups) == len(mf.by_group)
        for g in view.groups:
            expected = mf.by_group.loc[_key(g.values, features)]
            for m in METRICS:
                assert g.metrics[m] == pytest.approx(expected[m], abs=TOL, rel=0), (m, g.label)
            assert g.count == int(((sf[features] == pd.Series(g.values)).all(axis=1)).sum())
        diff = mf.difference(method=method)
        ratio = mf.ratio(method=method)
        for m in METRICS:
            d = view.disparities[m]
            assert d.difference == pytest.approx(diff[m], abs=TOL, rel=0), (m, method)
            assert d.ratio == pytest.approx(ratio[m], abs=TOL, rel=0), (m, method)
        for m in METRICS:
            assert res.overall[m] == pytest.approx(mf.overall[m], abs=TOL, rel=0)


@pytest.mark.parametrize("weighted", [False, True])
def test_named_fairness_metrics_match_fairlearn(weighted: bool) -> None:
    y_true, y_pred, sf, w = _data(7 + weighted, 2, weighted)
    res = audit_predictions(
        y_true, y_pred, sensitive_features=sf, sample_weight=w, min_group_size=0,
        significance=False,
    )
    view = res.view("race & sex")
    kw = {"sensitive_features": sf, "sample_weight": w}
    sp = view.criterion("statistical_parity")
    assert sp.ratio == pytest.approx(fl.demographic_parity_ratio(y_true, y_pred, **kw), abs=TOL)
    assert sp.difference == pytest.approx(
        fl.demographic_parity_difference(y_true, y_pred, **kw), abs=TOL
    )
    eo = view.criterion("equalized_odds")
    assert eo.ratio == pytest.approx(fl.equalized_odds_ratio(y_true, y_pred, **kw), abs=TOL)
    assert eo.difference == pytest.approx(
        fl.equalized_odds_difference(y_true, y_pred, **kw), abs=TOL
    )
    res_o = audit_predictions(
        y_true, y_pred, sensitive_features=sf, sample_weight=w, min_group_size=0,
        reference_group="overall", significance=False,
    )
    sp_o = res_o.view("race & sex").criterion("statistical_parity")
    assert sp_o.ratio == pytest.approx(
        fl.demographic_parity_ratio(y_true, y_pred, method="to_overall", **kw), abs=TOL
    )
    assert sp_o.difference == pytest.approx(
        fl.demographic_parity_difference(y_true, y_pred, method="to_overall", **kw), abs=TOL
    )


def test_marginal_views_match_single_feature_metricframe() -> None:
    y_true, y_pred, sf, w = _data(3, 2, True)
    res = audit_predictions(
        y_true, y_pred, sensitive_features=sf, sample_weight=w, min_group_size=0,
        significance=False,
    )
    mf = _frame(y_true, y_pred, sf[["sex"]], w)
    for g in res.view("sex").groups:
        for m in METRICS:
            assert g.metrics[m] == pytest.approx(mf.by_group.loc[g.label, m], abs=TOL, rel=0)


@pytest.mark.parametrize("reference", ["b", "largest"])
def test_named_and_largest_references_fold_like_to_overall(reference: str) -> None:
    """Against a group, the summary ratio is Fairlearn's ``to_overall`` fold with that group's
    value in place of the overall one: min over groups of min(m_g / m_ref, m_ref / m_g)."""
    y_true, y_pred, sf, _ = _data(3, 1, False)
    mf = _frame(y_true, y_pred, sf, None)
    sizes = sf.iloc[:, 0].value_counts()
    ref = sizes.idxmax() if reference == "largest" else reference
    res = audit_predictions(y_true, y_pred, sensitive_features=sf, reference_group=reference,
                            significance=False)
    view = res.view()
    for metric in ("selection_rate", "true_positive_rate", "false_positive_rate", "precision"):
        by_group = mf.by_group[metric]
        folded = np.minimum(by_group / by_group[ref], by_group[ref] / by_group)
        disp = view.disparities[metric]
        assert disp.reference == ref
        assert disp.ratio == pytest.approx(float(folded.min()), abs=TOL), metric


def test_reading_names_the_group_that_decides_a_two_sided_ratio() -> None:
    """A group far above the reference decides the ratio: the reading names it, in the right
    direction, and it is among the failing groups."""
    def decisions(rate: float, n: int = 100) -> list[int]:
        k = round(rate * n)
        return [1] * k + [0] * (n - k)

    y = np.array(decisions(0.5) + decisions(0.9) + decisions(0.45))
    groups = np.array(["A"] * 100 + ["B"] * 100 + ["C"] * 100)
    selected = pd.Series(y).groupby(groups).mean()
    for reference, ref_value in (("A", selected["A"]), ("overall", y.mean())):
        res = audit_predictions(y, y, sensitive_features=groups, reference_group=reference,
                                significance=False)
        sp = res.view().criteria[0]
        assert sp.name == "statistical_parity" and sp.verdict == "fail"
        assert sp.ratio == pytest.approx(ref_value / selected["B"], abs=TOL)
        assert "B" in sp.failing_groups
        assert sp.reading.startswith("B receives positive decisions ")
        assert "more often than" in sp.reading
