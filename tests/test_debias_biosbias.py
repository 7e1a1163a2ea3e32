"""Debiasing the real Bias in Bios surgeon/nurse training split (skips when it is absent)."""

from __future__ import annotations

import pandas as pd
import pytest

from fairslm.mitigation import debias

pytestmark = pytest.mark.slow


def test_reweigh_resample_augment_on_real_train(biosbias_dir) -> None:
    train = pd.read_json(biosbias_dir / "train.jsonl", lines=True)
    cells = train.groupby(["gender", "profession"]).size().to_dict()
    # the README of the data set: surgeon M 1839, surgeon F 258, nurse F 1585, nurse M 150
    assert cells == {("M", "surgeon"): 1839, ("F", "surgeon"): 258, ("F", "nurse"): 1585,
                     ("M", "nurse"): 150}
    kw = {"y": "profession", "sensitive_features": "gender", "text": "text", "pos_label": "surgeon"}
    pooled = 2097 / 3832
    rw = debias(train, [{"method": "reweigh"}], **kw)
    assert rw.before.group("M").label_rates["surgeon"] == pytest.approx(1839 / 1989)
    assert rw.before.group("F").label_rates["surgeon"] == pytest.approx(258 / 1843)
    for g in ("F", "M"):
        assert rw.after.group(g).weighted_label_rates["surgeon"] == pytest.approx(pooled, abs=1e-12)
    # F surgeons are 258 rows where independence predicts 1843 * 2097 / 3832
    f_surgeon = rw.dataset.loc[(train["gender"] == "F") & (train["profession"] == "surgeon"),
                               "sample_weight"]
    assert f_surgeon.iloc[0] == pytest.approx(1843 * 2097 / (3832 * 258))

    rs = debias(train, [{"method": "resample", "target": "pooled_label_rate"}], **kw)
    assert rs.after.group("F").rows == 1843 and rs.after.group("M").rows == 1989
    assert rs.after.label_rate_gap(weighted=False) < 1 / 1843

    aug = debias(train, [{"method": "augment"}], **kw)
    out = aug.dataset
    n_added = int(out["fairslm_augmented"].sum())
    assert n_added == aug.report[0]["n_changed"] > 0.95 * len(train)
    assert (out["augmented_from"] >= 0).sum() == n_added
    # labels of copies are those of their sources
    src = out.loc[out["fairslm_augmented"], "augmented_from"].to_numpy()
    assert (out.loc[out["fairslm_augmented"], "profession"].to_numpy()
            == train["profession"].to_numpy()[src]).all()
