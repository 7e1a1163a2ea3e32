"""Debiasing a fairslm Dataset: the result is a Dataset with the same column mapping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairslm.data import load_dataset
from fairslm.mitigation import CounterfactualAugmenter, Resampler, Reweighing, debias


def _dataset(weight: bool = False):
    df = pd.DataFrame(
        {
            "bio": ["she operates", "he operates", "he operates", "she nurses", "he nurses",
                    "she nurses", "she operates", "he nurses"],
            "job": ["surgeon", "surgeon", "surgeon", "nurse", "nurse", "nurse", "nurse", "surgeon"],
            "sex": ["F", "M", "M", "F", "M", "F", "F", "M"],
            "w": [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        }
    )
    return load_dataset(df, text="bio", label="job", sensitive="sex", pos_label="surgeon",
                        weight="w" if weight else None)


def test_reweigh_dataset_sets_its_weights() -> None:
    ds = _dataset()
    out = Reweighing().fit_transform(ds)
    assert type(out) is type(ds) and out.spec.weight == "sample_weight"
    y, g, w = out.labels, out.sensitive["sex"].to_numpy(), out.weights
    for grp in ("F", "M"):
        m = g == grp
        assert (w[m] * (y[m] == "surgeon")).sum() / w[m].sum() == pytest.approx(0.5, abs=1e-12)
    assert ds.weights is None  # input untouched


def test_reweigh_dataset_multiplies_its_weight_column() -> None:
    ds = _dataset(weight=True)
    out = Reweighing().fit_transform(ds)
    assert out.spec.weight == "w" and "sample_weight" not in out.frame.columns
    np.testing.assert_array_equal(ds.frame["w"], [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    # weight sums per cell: F-surgeon 1, F-nurse 3, M-surgeon 4, M-nurse 1
    # W_M = 5, W_surg = 5, W = 9: M-surgeon factor 5*5/(9*4)
    assert out.weights[1] == pytest.approx(2.0 * 25 / 36)


def test_resample_and_augment_dataset() -> None:
    ds = _dataset()
    res = Resampler(target="pooled_label_rate", seed=0).fit_resample(ds)
    assert len(res) == 8 and res.spec == ds.spec
    aug = CounterfactualAugmenter().fit_resample(ds)
    assert len(aug) == 16
    assert aug.frame["fairslm_augmented"].sum() == 8
    assert aug.texts[8:] == ["he operates", "she operates", "she operates", "he nurses",
                             "she nurses", "he nurses", "he operates", "she nurses"]
    assert list(aug.sensitive["sex"][8:]) == ["M", "F", "F", "M", "F", "M", "M", "F"]


def test_debias_dataset_compose() -> None:
    res = debias(_dataset(), [{"method": "augment"}, {"method": "reweigh"}])
    assert len(res.dataset) == 16 and res.dataset.weights is not None
    assert res.before.label_rate_gap() == pytest.approx(0.5)
    assert res.after.label_rate_gap() < 1e-12
    assert res.provenance["input_hash"] == _dataset().content_hash


def test_dataset_without_labels_is_refused() -> None:
    from fairslm import InvalidDataError

    ds = load_dataset(pd.DataFrame({"text": ["a", "b"], "g": ["F", "M"]}), label=None,
                      sensitive="g")
    with pytest.raises(InvalidDataError, match="the Dataset has no label column"):
        Reweighing().fit(ds)
