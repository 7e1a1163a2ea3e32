"""Reweighing: exact cell weights, equal weighted label rates, AIF360's formula, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairslm import ConfigError, InvalidDataError
from fairslm.mitigation import Reweighing

# Group a: labels 1,1,0 ; group b: 1,0,0  (hand-computed weights: 3/4 and 3/2)
Y = [1, 1, 0, 1, 0, 0]
G = list("aaabbb")


def _random(n: int = 500, seed: int = 1) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    sens = pd.DataFrame(
        {"gender": rng.choice(["F", "M"], n, p=[0.3, 0.7]), "race": rng.choice(["x", "y", "z"], n)}
    )
    # label depends on group, so the cells are unequal
    p = np.where(sens["gender"] == "M", 0.7, 0.2) + np.where(sens["race"] == "z", 0.1, 0.0)
    y = (rng.random(n) < p).astype(int)
    w = rng.uniform(0.5, 2.0, n)
    return y, sens, w


def _aif360_formula(y, groups: pd.Series, w=None) -> np.ndarray:
    """AIF360's Reweighing, written out independently: W_g * W_y / (W * W_gy) times w."""
    df = pd.DataFrame({"y": y, "g": groups, "w": np.ones(len(y)) if w is None else w})
    total = df["w"].sum()
    w_g = df.groupby("g")["w"].transform("sum")
    w_y = df.groupby("y")["w"].transform("sum")
    w_gy = df.groupby(["g", "y"])["w"].transform("sum")
    return (df["w"] * w_g * w_y / (total * w_gy)).to_numpy()


def test_hand_computed_weights() -> None:
    w = Reweighing().fit_transform(None, Y, sensitive_features=G)
    np.testing.assert_allclose(w, [0.75, 0.75, 1.5, 1.5, 0.75, 0.75], rtol=0, atol=1e-15)


def test_weighted_label_rate_identical_across_intersectional_groups() -> None:
    y, sens, _ = _random()
    w = Reweighing().fit_transform(None, y, sensitive_features=sens)
    groups = sens["gender"] + "|" + sens["race"]
    pooled = y.mean()
    rates = pd.Series(w * y).groupby(groups).sum() / pd.Series(w).groupby(groups).sum()
    assert len(rates) == 6
    np.testing.assert_allclose(rates.to_numpy(), pooled, rtol=0, atol=1e-12)
    # before weighting the rates differ by much more than that
    assert pd.Series(y).groupby(groups).mean().std() > 0.05


def test_weighted_rate_of_every_label_equal_for_multiclass() -> None:
    rng = np.random.default_rng(3)
    g = rng.choice(["a", "b", "c"], 300)
    y = np.where(g == "a", rng.choice(["x", "y", "z"], 300, p=[0.6, 0.3, 0.1]),
                 rng.choice(["x", "y", "z"], 300))
    w = Reweighing().fit_transform(None, y, sensitive_features=g)
    for label in ("x", "y", "z"):
        pooled = np.mean(y == label)
        for grp in ("a", "b", "c"):
            m = g == grp
            assert abs((w[m] * (y[m] == label)).sum() / w[m].sum() - pooled) < 1e-12


def test_equals_aif360_formula_without_and_with_existing_weights() -> None:
    y, sens, w0 = _random(seed=7)
    groups = sens["gender"] + "|" + sens["race"]
    got = Reweighing().fit_transform(None, y, sensitive_features=sens)
    np.testing.assert_allclose(got, _aif360_formula(y, groups), rtol=1e-12)
    got_w = Reweighing().fit_transform(None, y, sensitive_features=sens, sample_weight=w0)
    np.testing.assert_allclose(got_w, _aif360_formula(y, groups, w0), rtol=1e-12)
    # weighted label rates are still equal when the base weights vary
    rates = pd.Series(got_w * y).groupby(groups).sum() / pd.Series(got_w).groupby(groups).sum()
    np.testing.assert_allclose(rates.to_numpy(), (w0 * y).sum() / w0.sum(), atol=1e-12)


def test_multiplies_existing_weights_by_hand() -> None:
    # a: (y=1, w=2), (y=0, w=1) ; b: (y=1, w=1), (y=0, w=1), (y=0, w=1)  total W = 6
    y = [1, 0, 1, 0, 0]
    g = list("aabbb")
    w0 = [2.0, 1.0, 1.0, 1.0, 1.0]
    got = Reweighing().fit_transform(None, y, sensitive_features=g, sample_weight=w0)
    # W_a=3 W_b=3 W_1=3 W_0=3 ; W_a1=2 W_a0=1 W_b1=1 W_b0=2
    expect = [2 * (3 * 3) / (6 * 2), 1 * 9 / (6 * 1), 1 * 9 / (6 * 1), 9 / 12, 9 / 12]
    np.testing.assert_allclose(got, expect, rtol=0, atol=1e-15)


def test_unit_weights_equal_no_weights() -> None:
    y, sens, _ = _random(seed=11)
    a = Reweighing().fit_transform(None, y, sensitive_features=sens)
    b = Reweighing().fit_transform(None, y, sensitive_features=sens, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(a, b)


def test_dataframe_input_returns_new_frame_and_leaves_input_alone() -> None:
    df = pd.DataFrame({"label": Y, "g": G, "w": [1.0, 2.0, 1.0, 1.0, 1.0, 1.0], "text": list("uvwxyz")})
    snapshot = df.copy()
    out = Reweighing().fit_transform(df, "label", sensitive_features="g")
    pd.testing.assert_frame_equal(df, snapshot)
    np.testing.assert_allclose(out["sample_weight"], [0.75, 0.75, 1.5, 1.5, 0.75, 0.75])
    assert list(out["text"]) == list("uvwxyz")
    out_w = Reweighing().fit_transform(df, "label", sensitive_features="g", sample_weight="w")
    assert "sample_weight" not in out_w.columns
    np.testing.assert_allclose(out_w["w"], _aif360_formula(Y, pd.Series(G), df["w"].to_numpy()))
    pd.testing.assert_frame_equal(df, snapshot)


def test_fitted_attributes_and_params_untouched() -> None:
    rw = Reweighing(smoothing=0.0)
    assert rw.fit(None, Y, sensitive_features=G) is rw
    assert rw.smoothing == 0.0
    assert rw.classes_ == (0, 1)
    assert rw.groups_ == ["a", "b"]
    np.testing.assert_allclose(rw.weight_table_, [[1.5, 0.75], [0.75, 1.5]])
    row = rw.cells_.query("group == 'a' and label == 1").iloc[0]
    assert row["rows"] == 2 and row["expected"] == pytest.approx(0.25)
    assert row["observed"] == pytest.approx(1 / 3)


def test_zero_row_cell_is_explained() -> None:
    y = [1, 1, 0, 1, 1]
    g = ["F", "F", "F", "M", "M"]  # no M row with label 0
    with pytest.raises(InvalidDataError) as exc:
        Reweighing().fit(None, y, sensitive_features={"gender": g})
    msg = str(exc.value)
    assert "group gender=M with label 0" in msg
    assert "1 cell(s) have none" in msg
    assert "smoothing" in msg


def test_smoothing_adds_pseudo_counts() -> None:
    y = [1, 1, 0, 1, 1]
    g = ["F", "F", "F", "M", "M"]
    w = Reweighing(smoothing=0.5).fit_transform(None, y, sensitive_features=g)
    # smoothed sums: F1=2.5 F0=1.5 M1=2.5 M0=0.5 ; total 7 ; F=4 M=3 ; y1=5 y0=2
    expect_f1 = (4 * 5) / (7 * 2.5)
    expect_f0 = (4 * 2) / (7 * 1.5)
    expect_m1 = (3 * 5) / (7 * 2.5)
    np.testing.assert_allclose(w, [expect_f1, expect_f1, expect_f0, expect_m1, expect_m1])


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "x"])
def test_bad_smoothing(bad) -> None:
    with pytest.raises(ConfigError, match="smoothing must be a finite number >= 0"):
        Reweighing(smoothing=bad).fit(None, Y, sensitive_features=G)


def test_transform_refuses_unseen_group_and_label() -> None:
    rw = Reweighing().fit(None, Y, sensitive_features=G)
    with pytest.raises(InvalidDataError, match="group 'c' was not seen in fit"):
        rw.transform(None, [1, 0], sensitive_features=["a", "c"])
    with pytest.raises(InvalidDataError, match=r"labels \['2'\] were not seen in fit"):
        rw.transform(None, [1, 2], sensitive_features=["a", "b"])


def test_not_fitted_and_missing_inputs() -> None:
    with pytest.raises(InvalidDataError, match="not fitted yet"):
        Reweighing().transform(None, Y, sensitive_features=G)
    with pytest.raises(InvalidDataError, match="labels are required"):
        Reweighing().fit(None, sensitive_features=G)
    with pytest.raises(InvalidDataError, match="sensitive_features= is required"):
        Reweighing().fit(None, Y)
    with pytest.raises(InvalidDataError, match="column 'sex' not found; columns are: label, g"):
        Reweighing().fit(pd.DataFrame({"label": Y, "g": G}), "label", sensitive_features="sex")
    with pytest.raises(InvalidDataError, match="2 missing value"):
        Reweighing().fit(None, Y, sensitive_features=["a", None, "a", "b", None, "b"])


@pytest.mark.parametrize("seed", range(4))
def test_invariant_to_row_order_and_duplicating_every_row(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 60))
    g = np.r_[rng.choice(["a", "b", "c"], n), ["a", "a", "b", "b", "c", "c"]]
    y = np.r_[rng.integers(0, 2, n), [0, 1, 0, 1, 0, 1]]  # every cell has a row
    w = Reweighing().fit_transform(None, y, sensitive_features=g)
    perm = rng.permutation(len(y))
    w_perm = Reweighing().fit_transform(None, y[perm], sensitive_features=g[perm])
    np.testing.assert_allclose(w_perm, w[perm], rtol=1e-12)
    w_twice = Reweighing().fit_transform(None, np.r_[y, y], sensitive_features=np.r_[g, g])
    np.testing.assert_allclose(w_twice, np.r_[w, w], rtol=1e-12)


def test_dataframe_with_group_values_instead_of_column_names() -> None:
    df = pd.DataFrame({"label": Y, "text": list("uvwxyz")})
    out = Reweighing().fit_transform(df, "label", sensitive_features=G)
    np.testing.assert_allclose(out["sample_weight"], [0.75, 0.75, 1.5, 1.5, 0.75, 0.75])
