"""Multiclass labels: one-vs-rest views, the RMS TPR gap; binary tasks with string labels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fairslm import InvalidDataError, audit_predictions


def _multiclass(seed: int = 0, n: int = 3000):
    rng = np.random.default_rng(seed)
    classes = np.array(["dentist", "nurse", "surgeon"])
    g = rng.choice(["F", "M"], n)
    yt = classes[rng.integers(0, 3, n)]
    keep = rng.random(n) < np.where(g == "F", 0.7, 0.85)
    yp = np.where(keep, yt, classes[rng.integers(0, 3, n)])
    return g, yt, yp


def _tpr(yt, yp, mask, c):
    pos = mask & (yt == c)
    return (yp[pos] == c).mean()


def test_one_vs_rest_views_per_class() -> None:
    g, yt, yp = _multiclass()
    res = audit_predictions(yt, yp, sensitive_features={"gender": g})
    assert [(v.name, v.label) for v in res.views] == [
        ("gender", "dentist"), ("gender", "nurse"), ("gender", "surgeon")
    ]
    assert res.task["multiclass"] is True and res.task["pos_label"] is None
    for c in ("dentist", "nurse", "surgeon"):
        view = res.view("gender", label=c)
        for sex in ("F", "M"):
            grp = view.group(sex)
            m = g == sex
            assert grp.metrics["true_positive_rate"] == pytest.approx(_tpr(yt, yp, m, c), abs=1e-12)
            assert grp.metrics["selection_rate"] == pytest.approx((yp[m] == c).mean(), abs=1e-12)
        assert view.criteria[0].reading.startswith(f"For class {c}: ")


def test_rms_tpr_gap_two_groups_is_the_bias_in_bios_formula() -> None:
    g, yt, yp = _multiclass(1)
    res = audit_predictions(yt, yp, sensitive_features={"gender": g}, n_bootstrap=200, seed=0)
    gaps = [_tpr(yt, yp, g == "F", c) - _tpr(yt, yp, g == "M", c)
            for c in ("dentist", "nurse", "surgeon")]
    rms = res.extras["rms_tpr_gap"]["gender"]
    assert rms["value"] == pytest.approx(math.sqrt(np.mean(np.square(gaps))), abs=1e-12)
    assert rms["by_class"]["nurse"] == pytest.approx(abs(gaps[1]), abs=1e-12)
    lo, hi = rms["interval"]
    assert lo <= rms["value"] <= hi
    assert "max_g TPR(c, g) - min_g TPR(c, g)" in res.extras["rms_tpr_gap_definition"]


def test_rms_tpr_gap_more_groups_uses_the_widest_gap_per_class() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    g = rng.choice(["a", "b", "c"], n)
    yt = rng.integers(0, 3, n)
    yp = np.where(rng.random(n) < 0.8, yt, rng.integers(0, 3, n))
    res = audit_predictions(yt, yp, sensitive_features={"g": g}, min_group_size=1)
    gaps = []
    for c in range(3):
        t = [_tpr(yt, yp, g == k, c) for k in "abc"]
        gaps.append(max(t) - min(t))
    assert res.extras["rms_tpr_gap"]["g"]["value"] == pytest.approx(
        math.sqrt(np.mean(np.square(gaps))), abs=1e-12
    )


def test_surgeon_nurse_binary_with_pos_label() -> None:
    rng = np.random.default_rng(2)
    n = 2000
    g = rng.choice(["F", "M"], n)
    y01 = rng.integers(0, 2, n)
    p01 = np.where(rng.random(n) < 0.8, y01, 1 - y01)
    names = np.array(["nurse", "surgeon"])
    res = audit_predictions(names[y01], names[p01], sensitive_features={"gender": g},
                            pos_label="surgeon")
    ref = audit_predictions(y01, p01, sensitive_features={"gender": g})
    assert res.task["pos_label"] == "surgeon" and res.task["multiclass"] is False
    assert [v.label for v in res.views] == [None]
    for sex in ("F", "M"):
        assert res.view("gender").group(sex).metrics == ref.view("gender").group(sex).metrics
    # two classes: the RMS gap averages the TPR gap and the TNR gap (the nurse class's TPR)
    v = ref.view("gender")
    tpr_gap = v.group("F").metrics["true_positive_rate"] - v.group("M").metrics["true_positive_rate"]
    tnr_gap = v.group("F").metrics["true_negative_rate"] - v.group("M").metrics["true_negative_rate"]
    assert res.extras["rms_tpr_gap"]["gender"]["value"] == pytest.approx(
        math.sqrt((tpr_gap**2 + tnr_gap**2) / 2), abs=1e-12
    )
    with pytest.raises(InvalidDataError, match=r"the labels are \['nurse', 'surgeon'\], not 0/1"):
        audit_predictions(names[y01], names[p01], sensitive_features={"gender": g})
    with pytest.raises(InvalidDataError, match="pos_label 'doctor' is not among the labels"):
        audit_predictions(names[y01], names[p01], sensitive_features={"gender": g},
                          pos_label="doctor")
