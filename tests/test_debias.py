"""The debias pipeline: composition through the config, summaries, config errors, the CLI."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from fairslm import ConfigError, InvalidDataError
from fairslm.cli._app import main
from fairslm.mitigation import DebiasConfig, debias
from fairslm.mitigation.preprocessing import parse_config, steps_from_options


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = rng.choice(["F", "M"], n, p=[0.4, 0.6])
    surgeon = rng.random(n) < np.where(gender == "M", 0.75, 0.2)
    pron = np.where(gender == "M", "he", "she")
    return pd.DataFrame(
        {
            "text": [f"{p} works on ward {i}" for i, p in enumerate(pron)],
            "label": np.where(surgeon, "surgeon", "nurse"),
            "gender": gender,
        }
    )


def test_reweigh_equalises_weighted_label_rate_in_summary() -> None:
    df = _frame()
    snapshot = df.copy()
    res = debias(df, [{"method": "reweigh"}], y="label", sensitive_features="gender",
                 pos_label="surgeon")
    pd.testing.assert_frame_equal(df, snapshot)
    assert res.before.label_rate_gap() > 0.3
    assert res.after.label_rate_gap() < 1e-12
    pooled = (df["label"] == "surgeon").mean()
    assert res.after.group("F").weighted_label_rates["surgeon"] == pytest.approx(pooled, abs=1e-12)
    # unweighted rates do not move under reweighing
    assert res.after.group("F").label_rates == res.before.group("F").label_rates
    assert res.report[0]["method"] == "reweigh" and res.report[0]["rows_after"] == 200
    assert res.provenance["input_hash"].startswith("sha256:")


def test_resample_then_reweigh_chain_on_dataframe() -> None:
    res = debias(_frame(), [{"method": "resample", "target": "pooled_label_rate", "seed": 3},
                            {"method": "reweigh"}],
                 y="label", sensitive_features=["gender"], pos_label="surgeon")
    step = res.report[0]
    assert step["rows_before"] == step["rows_after"] == 200
    assert step["n_duplicated"] == step["n_dropped"] > 0
    # after resampling the cells are already independent up to rounding: weights near 1
    w = res.dataset["sample_weight"]
    assert 0.9 < w.min() <= w.max() < 1.1
    assert res.after.label_rate_gap() < 1e-12


@dataclass
class _Result:
    texts: list[str]
    changed: np.ndarray


class _Swap:
    def perturb(self, texts):
        out = [re.sub(r"\b(he|she)\b", lambda m: "she" if m.group(1) == "he" else "he", t)
               for t in texts]
        return _Result(out, np.array([a != b for a, b in zip(texts, out, strict=True)]))


def test_augment_then_reweigh(monkeypatch: pytest.MonkeyPatch) -> None:
    import fairslm.data

    monkeypatch.setattr(fairslm.data, "CounterfactualPerturber", lambda **kw: _Swap())
    df = _frame()
    res = debias(df, [{"method": "augment"}, {"method": "reweigh"}], y="label",
                 sensitive_features="gender", text="text", pos_label="surgeon")
    out = res.dataset
    assert len(out) == 400 and out["fairslm_augmented"].sum() == 200
    # every text has a copy with the other gender, so gender and label become independent
    assert res.after.label_rate_gap(weighted=False) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(out["sample_weight"], 1.0, atol=1e-12)
    assert res.after.augmented_rows == 200
    assert [r["method"] for r in res.report] == ["augment", "reweigh"]
    assert res.report[0]["n_added"] == 200


def test_unknown_method_lists_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown debiasing method 'reweight' in step 2; valid methods: augment, resample, reweigh"):
        debias(_frame(), [{"method": "augment"}, {"method": "reweight"}], y="label",
               sensitive_features="gender")


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'smoothin' in step 1 \(reweigh\); valid keys: method, smoothing"):
        parse_config([{"method": "reweigh", "smoothin": 1}])
    with pytest.raises(ConfigError, match=r"p in step 1 \(augment\): .*less than or equal to 1"):
        parse_config([{"method": "augment", "p": 2}])
    with pytest.raises(ConfigError, match="step 1 has no 'method'"):
        parse_config([{"smoothing": 1}])
    with pytest.raises(ConfigError, match="no debiasing steps given"):
        parse_config([])
    with pytest.raises(ConfigError, match=r"option\(s\) p apply to none of the chosen methods \(reweigh\)"):
        steps_from_options(["reweigh"], {"p": 0.5})


def test_config_from_toml(tmp_path) -> None:
    cfg = tmp_path / "debias.toml"
    cfg.write_text(
        '[[steps]]\nmethod = "resample"\ntarget = [{group = "F", label = "nurse", share = 0.5},'
        ' {group = "F", label = "surgeon", share = 0.5}]\n[[steps]]\nmethod = "reweigh"\n'
    )
    config = DebiasConfig.from_toml(cfg)
    assert config.steps[0].target_value() == {("F", "nurse"): 0.5, ("F", "surgeon"): 0.5}
    cfg.write_text('seed = 1\n[[steps]]\nmethod = "reweigh"\n')
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['seed'\]"):
        DebiasConfig.from_toml(cfg)


def test_debias_refuses_arrays_and_unnamed_columns() -> None:
    with pytest.raises(InvalidDataError, match="takes a fairslm Dataset or a pandas DataFrame"):
        debias([1, 2], [{"method": "reweigh"}])
    with pytest.raises(InvalidDataError, match="name the columns"):
        debias(_frame(), [{"method": "reweigh"}])


# -- CLI ------------------------------------------------------------------------------------


def test_cli_writes_new_file_and_prints_summary(tmp_path, capsys) -> None:
    src = tmp_path / "train.csv"
    _frame().to_csv(src, index=False)
    before = src.read_bytes()
    out = tmp_path / "train_debiased.parquet"
    code = main(["debias", str(src), "--method", "resample", "--method", "reweigh", "--label",
                 "label", "--sensitive", "gender", "--pos-label", "surgeon", "--out", str(out),
                 "--seed", "1", "--report", str(tmp_path / "r.json")])
    text = capsys.readouterr().out
    assert code == 0
    assert src.read_bytes() == before
    df = pd.read_parquet(out)
    assert len(df) == 200 and "sample_weight" in df.columns
    assert "label rate of 'surgeon'" in text and "duplicated" in text
    assert re.search(r"largest gap in weighted label rate across groups: 0\.\d+ -> 0\.000", text)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["kind"] == "fairslm.debias" and report["report"][0]["method"] == "resample"
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_errors(tmp_path, capsys) -> None:
    src = tmp_path / "train.csv"
    _frame().to_csv(src, index=False)
    base = ["debias", str(src), "--label", "label", "--sensitive", "gender"]
    assert main([*base, "--method", "reweigh", "--out", str(src)]) == 2
    assert "refusing to overwrite the input file" in capsys.readouterr().err
    assert main([*base, "--method", "reweight", "--out", str(tmp_path / "o.parquet")]) == 2
    assert "valid methods: augment, resample, reweigh" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "o.parquet")]) == 2
    assert "no debiasing method" in capsys.readouterr().err
    assert main([*base, "--method", "reweigh", "--pos-label", "doctor",
                 "--out", str(tmp_path / "o.parquet")]) == 2
    assert "--pos-label 'doctor' is not among the labels" in capsys.readouterr().err
    assert main(["debias", str(src), "--label", "label", "--sensitive", "sex", "--method",
                 "reweigh", "--out", str(tmp_path / "o.parquet")]) == 2
    assert "column(s) ['sex'] not found in train.csv" in capsys.readouterr().err
    assert not (tmp_path / "o.parquet").exists()


def test_cli_config_file(tmp_path, capsys) -> None:
    src = tmp_path / "train.csv"
    _frame().to_csv(src, index=False)
    cfg = tmp_path / "debias.toml"
    cfg.write_text('[[steps]]\nmethod = "resample"\ntarget = "balanced"\nmode = "over"\n')
    out = tmp_path / "out.csv"
    assert main(["debias", str(src), "--config", str(cfg), "--label", "label", "--sensitive",
                 "gender", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    sizes = df.groupby("gender").size()
    assert sizes["F"] == sizes["M"] and len(df) > 200
    assert "duplicated, 0 dropped" in capsys.readouterr().out
    cfg.write_text('[[steps]]\nmethod = "reweigh"\nsmoth = 1\n')
    assert main(["debias", str(src), "--config", str(cfg), "--label", "label", "--sensitive",
                 "gender", "--out", str(out)]) == 2
    assert "unknown key 'smoth' in step 1 (reweigh)" in capsys.readouterr().err
