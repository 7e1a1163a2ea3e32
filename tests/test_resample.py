"""Resampler: target cell sizes, seeding, reports, bad targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairslm import ConfigError, InvalidDataError
from fairslm.mitigation import Resampler

# a: 6 rows, 4 positive ; b: 4 rows, 1 positive ; pooled positive rate 0.5
Y = np.array([1, 1, 1, 1, 0, 0, 1, 0, 0, 0])
G = np.array(list("aaaaaabbbb"))


def _cell_counts(y, g) -> dict[tuple[str, int], int]:
    return pd.Series(1, index=pd.MultiIndex.from_arrays([g, y])).groupby(level=[0, 1]).sum().to_dict()


def test_pooled_label_rate_keeps_group_sizes() -> None:
    rs = Resampler(target="pooled_label_rate", seed=0)
    X = np.arange(10)
    X_res, y_res = rs.fit_resample(X, Y, sensitive_features=G)
    g_res = G[rs.sample_indices_]
    assert _cell_counts(y_res, g_res) == {("a", 0): 3, ("a", 1): 3, ("b", 0): 2, ("b", 1): 2}
    np.testing.assert_array_equal(X_res, X[rs.sample_indices_])
    np.testing.assert_array_equal(y_res, Y[rs.sample_indices_])
    rep = rs.report_
    # a: 4 -> 3 positives (1 dropped), 2 -> 3 negatives (1 dup); b: 1 -> 2 (1 dup), 3 -> 2 (1 drop)
    assert (rep.rows_before, rep.rows_after, rep.n_duplicated, rep.n_dropped) == (10, 10, 2, 2)
    assert {"group": "b", "label": 1, "before": 1, "after": 2, "duplicated": 1, "dropped": 0} in rep.cells


def test_balanced_gives_equal_group_sizes_and_pooled_rate() -> None:
    rs = Resampler(target="balanced", seed=0)
    _, y_res = rs.fit_resample(None, Y, sensitive_features=G)
    g_res = G[rs.sample_indices_]
    # 10 rows over 2 groups -> 5 each; pooled rate 0.5 -> 2.5 per cell, largest remainder
    counts = _cell_counts(y_res, g_res)
    assert counts[("a", 0)] + counts[("a", 1)] == 5 and counts[("b", 0)] + counts[("b", 1)] == 5
    assert sorted(counts.values()) == [2, 2, 3, 3]
    np.testing.assert_array_equal(rs.targets_.sum(), 10)


def test_over_only_duplicates_and_under_only_drops() -> None:
    # a: 40 positive, 20 negative ; b: 10 positive, 30 negative ; pooled rate 0.5
    y = np.r_[np.ones(40, int), np.zeros(20, int), np.ones(10, int), np.zeros(30, int)]
    g = np.array(["a"] * 60 + ["b"] * 40)
    over = Resampler(target="pooled_label_rate", mode="over", seed=0)
    _, y_over = over.fit_resample(None, y, sensitive_features=g)
    assert over.report_.n_dropped == 0
    assert set(over.sample_indices_) == set(range(100))  # every original row survives
    # the b-negative cell (30 rows, share 0.2) sets the size: 150 rows, a 45+45, b 30+30
    np.testing.assert_array_equal(over.targets_, [[45, 45], [30, 30]])
    assert over.report_.n_duplicated == 50 and len(y_over) == 150
    under = Resampler(target="pooled_label_rate", mode="under", seed=0)
    _, y_under = under.fit_resample(None, y, sensitive_features=g)
    assert under.report_.n_duplicated == 0
    assert len(set(under.sample_indices_)) == len(under.sample_indices_)
    # the b-positive cell (10 rows, share 0.2) sets the size: 50 rows, a 15+15, b 10+10
    np.testing.assert_array_equal(under.targets_, [[15, 15], [10, 10]])
    g_under = g[under.sample_indices_]
    for grp in ("a", "b"):
        assert y_under[g_under == grp].mean() == 0.5


def test_seeded_and_seed_matters() -> None:
    y = np.r_[np.ones(40, int), np.zeros(10, int), np.ones(5, int), np.zeros(45, int)]
    g = np.r_[["a"] * 50, ["b"] * 50]
    fitted = Resampler(seed=1).fit(None, y, sensitive_features=g)
    # 50 rows a group, pooled negative share 0.55: 27.5 -> 28 and 22.5 -> 22 (ties to the first)
    np.testing.assert_array_equal(fitted.targets_, [[28, 22], [28, 22]])
    r1, r2, r3 = Resampler(seed=1), Resampler(seed=1), Resampler(seed=2)
    for r in (r1, r2, r3):
        r.fit_resample(None, y, sensitive_features=g)
    np.testing.assert_array_equal(r1.sample_indices_, r2.sample_indices_)
    assert not np.array_equal(r1.sample_indices_, r3.sample_indices_)


def test_user_target_distribution_on_dataframe() -> None:
    df = pd.DataFrame({"label": Y, "g": G, "text": [f"t{i}" for i in range(10)]})
    snapshot = df.copy()
    target = {("a", 1): 0.25, ("a", 0): 0.25, ("b", 1): 0.25, ("b", 0): 0.25}
    out = Resampler(target=target, seed=0).fit_resample(df, "label", sensitive_features="g")
    pd.testing.assert_frame_equal(df, snapshot)
    assert len(out) == 10
    counts = out.groupby(["g", "label"]).size().to_dict()
    assert sorted(counts.values()) == [2, 2, 3, 3]
    assert set(out["text"]) <= set(df["text"])


def test_target_not_summing_to_one() -> None:
    target = {("a", 1): 0.3, ("a", 0): 0.3, ("b", 1): 0.3, ("b", 0): 0.3}
    with pytest.raises(ConfigError, match=r"must sum to 1; its shares sum to 1\.2"):
        Resampler(target=target).fit(None, Y, sensitive_features=G)


def test_target_errors_name_the_cells() -> None:
    with pytest.raises(ConfigError, match=r"no share for 1 cell\(s\): group sensitive_feature_0=b with label 0"):
        Resampler(target={("a", 1): 0.5, ("a", 0): 0.25, ("b", 1): 0.25}).fit(
            None, Y, sensitive_features=G
        )
    with pytest.raises(ConfigError, match=r"not in the data: \('c', 1\). Groups are: a, b"):
        Resampler(target={("c", 1): 1.0}).fit(None, Y, sensitive_features=G)
    with pytest.raises(ConfigError, match="unknown resampling target 'equal'; use one of balanced"):
        Resampler(target="equal").fit(None, Y, sensitive_features=G)
    with pytest.raises(ConfigError, match="unknown resampling mode 'both'"):
        Resampler(mode="both").fit(None, Y, sensitive_features=G)
    with pytest.raises(ConfigError, match="must be >= 0"):
        Resampler(target={("a", 1): -0.5, ("a", 0): 0.5, ("b", 1): 0.5, ("b", 0): 0.5}).fit(
            None, Y, sensitive_features=G
        )


def test_empty_cell_cannot_be_oversampled() -> None:
    with pytest.raises(InvalidDataError, match="needs rows in 1 cell.*group sensitive_feature_0=b with label 1"):
        Resampler().fit(None, [1, 0, 0, 0], sensitive_features=["a", "a", "b", "b"])
