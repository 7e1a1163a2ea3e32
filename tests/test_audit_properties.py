"""Invariants of the audit (Hypothesis): row order, duplicated rows, relabelled groups, weights."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fairslm import audit_predictions

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)


@st.composite
def datasets(draw):
    n = draw(st.integers(4, 60))
    yt = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    yp = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    g = np.array(draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n)))
    g[:2] = ["a", "b"]  # at least two groups
    return yt, yp, g


def _audit(yt, yp, g, **kw):
    return audit_predictions(yt, yp, sensitive_features={"g": g}, min_group_size=0,
                             significance=False, **kw)


def _numbers(res, rename=None):
    rename = rename or {}
    view = res.view("g")
    groups = {rename.get(x.label, x.label): x.metrics for x in view.groups}
    summaries = {m: (d.ratio, d.difference) for m, d in view.disparities.items()}
    crits = {c.name: (c.ratio, c.difference, c.verdict) for c in view.criteria}
    return groups, summaries, crits


def _same(a, b) -> None:
    # NaN-aware exact equality of nested numbers
    np.testing.assert_equal(a, b)


@SETTINGS
@given(datasets(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(data, rnd) -> None:
    yt, yp, g = data
    perm = np.array(rnd.sample(range(len(yt)), len(yt)))
    _same(_numbers(_audit(yt, yp, g)), _numbers(_audit(yt[perm], yp[perm], g[perm])))


@SETTINGS
@given(datasets())
def test_duplicating_every_row_leaves_rates_unchanged(data) -> None:
    yt, yp, g = data
    one, two = _audit(yt, yp, g), _audit(np.r_[yt, yt], np.r_[yp, yp], np.r_[g, g])
    _same(_numbers(one), _numbers(two))
    assert [x.count * 2 for x in one.view("g").groups] == [x.count for x in two.view("g").groups]


@SETTINGS
@given(datasets())
def test_relabelling_groups_relabels_results(data) -> None:
    yt, yp, g = data
    mapping = {"a": "zeta", "b": "alpha", "c": "mu"}
    renamed = np.array([mapping[x] for x in g])
    back = {v: k for k, v in mapping.items()}
    _same(_numbers(_audit(yt, yp, g)), _numbers(_audit(yt, yp, renamed), rename=back))


@SETTINGS
@given(datasets())
def test_unit_weights_equal_no_weights(data) -> None:
    yt, yp, g = data
    _same(_numbers(_audit(yt, yp, g)), _numbers(_audit(yt, yp, g, sample_weight=np.ones(len(yt)))))


@SETTINGS
@given(datasets(), st.floats(0.1, 10.0))
def test_constant_weights_scale_out(data, c) -> None:
    yt, yp, g = data
    a = _numbers(_audit(yt, yp, g))[0]
    b = _numbers(_audit(yt, yp, g, sample_weight=np.full(len(yt), c)))[0]
    for k in a:
        np.testing.assert_allclose(list(a[k].values()), list(b[k].values()), rtol=1e-12, atol=1e-15)
