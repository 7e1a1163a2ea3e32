"""Sweeps over a grid and over seeds: the result object, intervals across seeds, the CLI."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from fairslm.exceptions import ConfigError
from fairslm.metrics import SeedInterval, seed_interval
from fairslm.mitigation.comparison import pareto_front
from fairslm.models._testing import make_tiny_bert_classifier
from fairslm.training import SweepConfig, SweepResult, parse_seeds, sweep


def toy_rows(n: int, seed: int) -> dict[str, list[str]]:
    """Surgeons are mostly men, nurses mostly women; a third of the rows lack the job words,
    so gender is a proxy there and a model's TPRs differ between genders."""
    rng = random.Random(seed)
    rows: dict[str, list[str]] = {"text": [], "label": [], "gender": []}
    for i in range(n):
        surgeon = i % 2 == 0
        female = rng.random() < (0.25 if surgeon else 0.75)
        job = ["surgery", "surgeon", "doctor"] if surgeon else ["care", "nurse", "ward"]
        words = ["she" if female else "he", *(rng.sample(job, 2) if rng.random() < 0.67 else [])]
        words += rng.sample(["hospital", "patients", "team", "years", "works", "in", "the", "with"],
                            rng.randint(1, 6))
        rows["text"].append(" ".join(words))
        rows["label"].append("surgeon" if surgeon else "nurse")
        rows["gender"].append("F" if female else "M")
    return rows


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    return make_tiny_bert_classifier(tmp_path_factory.mktemp("tiny-bert"),
                                     id2label={0: "nurse", 1: "surgeon"})


@pytest.fixture(scope="module")
def data():
    return toy_rows(96, 0), toy_rows(48, 1)


def base(tiny_bert: Path, out: Path, **kw):
    cfg = {"output_dir": str(out), "model": str(tiny_bert),
           "data": {"sensitive": ["gender"], "pos_label": "surgeon"},
           "batch_size": 16, "epochs": 1, "learning_rate": 3e-3, "checkpoint_every": 0,
           "audit_min_group_size": 5, "progress": False}
    cfg.update(kw)
    return cfg


def test_seed_interval_by_hand_and_edges() -> None:
    r = seed_interval([1.0, 2.0, 3.0])
    # t(0.975, 2) = 4.302653; sd = 1; half = 4.302653 / sqrt(3)
    assert (r.mean, r.n, r.sd) == (2.0, 3, 1.0)
    assert r.high - r.mean == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    one = seed_interval([0.5, float("nan")])
    assert one.n == 1 and one.mean == 0.5 and math.isnan(one.low)
    assert seed_interval([]).n == 0
    with pytest.raises(ValueError, match="confidence must be in"):
        seed_interval([1.0, 2.0], confidence=95)


@pytest.mark.parametrize("spread", ["normal", "skewed"])
def test_seed_interval_covers_the_mean_over_seeds(spread) -> None:
    """5 seeds from a known spread: the 95% t-interval covers the true mean ~95% of the time
    (exactly for normal spread; within 93-97% for a moderately skewed one)."""
    rng = np.random.default_rng(16)
    n_sim, k, true_mean = 20_000, 5, 0.70
    if spread == "normal":
        x = rng.normal(true_mean, 0.03, size=(n_sim, k))
    else:  # a gamma with skewness 1: runs usually near the mean, now and then a poor one
        shape = 4.0
        x = true_mean - (rng.gamma(shape, 0.015, size=(n_sim, k)) - shape * 0.015)
    mean = x.mean(axis=1)
    half = 2.7764451 * x.std(axis=1, ddof=1) / np.sqrt(k)  # t(0.975, 4)
    cover = np.mean((mean - half <= true_mean) & (true_mean <= mean + half))
    assert 0.93 <= cover <= 0.97, cover
    # seed_interval computes the same interval
    r = seed_interval(x[0])
    assert (r.low, r.high) == pytest.approx((mean[0] - half[0], mean[0] + half[0]), rel=1e-6)


def test_parse_seeds() -> None:
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("0,2, 5-6") == [0, 2, 5, 6]
    assert parse_seeds([3, 1]) == [3, 1]
    for bad in ("a-b", "", "1,1", "-1"):
        with pytest.raises(ConfigError, match="seeds must be"):
            parse_seeds(bad)


def _iv(mean, low, high, n=5):
    return SeedInterval(mean, low, high, n, 0.01)


def test_ranking_by_the_lower_bound_prefers_the_steady_configuration() -> None:
    steady = SweepConfig(0, {"penalty.weight": 1}, (0, 1, 2, 3, 4), _iv(0.95, 0.94, 0.96),
                         {"equal_opportunity": _iv(0.88, 0.85, 0.91)}, _iv(0.05, 0.04, 0.06))
    lucky = SweepConfig(1, {"penalty.weight": 5}, (0, 1, 2, 3, 4), _iv(0.94, 0.90, 0.98),
                        {"equal_opportunity": _iv(0.90, 0.70, 1.10)}, _iv(0.04, 0.0, 0.09))
    res = SweepResult("equal_opportunity", (0, 1, 2, 3, 4), 0.95, (steady, lucky), ())
    assert [c.index for c in res.ranked()] == [0, 1]
    assert [c.index for c in res.ranked(conservative=False)] == [1, 0]  # by the mean
    assert [c.index for c in res.ranked("rms_tpr_gap")] == [0, 1]  # upper bound, ascending
    assert res.select(0.8).index == 0 and res.select(0.95) is None
    with pytest.raises(KeyError, match="unknown statistic 'auc'"):
        res.ranked("auc")
    back = SweepResult.from_dict(json.loads(json.dumps(res.to_dict())))
    assert back.configs == res.configs


def test_sweep_over_seeds_measures_each_configuration_against_same_seed_baselines(
        tiny_bert, data, tmp_path) -> None:
    tr, va = data
    res = sweep(base(tiny_bert, tmp_path / "sw", epochs=2), {"penalty.weight": [0.0, 50.0]}, train_data=tr,
                validation_data=va, fairness="statistical_parity", seeds="0-1",
                baseline={"penalty": None})
    assert isinstance(res, SweepResult) and res.seeds == (0, 1)
    assert len(res.runs) == 4 and len(res.baseline) == 2 and len(list(res)) == 4
    assert [(r.config, r.seed) for r in res.runs] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert Path(res.runs[3].output_dir).relative_to(tmp_path / "sw").as_posix() == "01-weight=50.0/seed-1"
    assert [r.train_result.config["seed"] for r in res.runs] == [0, 1, 0, 1]
    base_rms = {b.seed: b.rms_tpr_gap for b in res.baseline}
    c = res.configs[1]
    runs = [r for r in res.runs if r.config == 1]
    assert c.accuracy == seed_interval([r.accuracy for r in runs])
    assert min(base_rms.values()) > 0
    assert c.rms_cut == seed_interval([1 - r.rms_tpr_gap / base_rms[r.seed] for r in runs])
    # penalty weight 0 is plain fine-tuning: the same runs as the baselines, no cut
    assert res.configs[0].rms_cut.mean == 0.0 and res.configs[0].accuracy_change.mean == 0.0
    assert c.ratios["statistical_parity"].n == 2
    assert list(res.pareto_front) == pareto_front([x.accuracy.mean for x in res.configs],
                                                  [-x.ratios["statistical_parity"].mean for x in res.configs])
    on_disk = SweepResult.from_json(tmp_path / "sw" / "sweep.json")
    assert on_disk.configs == res.configs and on_disk.runs == res.runs
    with pytest.raises(ConfigError, match="unknown key 'penalty.wieght'"):
        sweep(base(tiny_bert, tmp_path / "sw2"), {"penalty.wieght": [1.0]}, train_data=tr)
    with pytest.raises(ConfigError, match="unknown fairness criterion 'parity'"):
        sweep(base(tiny_bert, tmp_path / "sw2"), {"penalty.weight": [1.0]}, fairness="parity")
    assert not (tmp_path / "sw2").exists()


def test_cli_sweep_prints_intervals_over_seeds_and_rejects_bad_input(tiny_bert, data, tmp_path,
                                                                       capsys) -> None:
    from fairslm.cli import main

    tr, va = data
    for name, rows in (("train", tr), ("validation", va)):
        lines = [{"text": t, "profession": lab, "gender": g}
                 for t, lab, g in zip(rows["text"], rows["label"], rows["gender"], strict=True)]
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    (tmp_path / "train.toml").write_text(
        f'output_dir = "sw"\nmodel = "{tiny_bert}"\nepochs = 1\nbatch_size = 16\n'
        'learning_rate = 0.003\ncheckpoint_every = 0\naudit_min_group_size = 5\nprogress = false\n'
        '[data]\ntrain = "train.jsonl"\nvalidation = "validation.jsonl"\nlabel = "profession"\n'
        'sensitive = ["gender"]\npos_label = "surgeon"\n'
    )
    cfg = str(tmp_path / "train.toml")
    out = tmp_path / "sw"
    args = ["sweep", "--config", cfg, "-o", str(out), "--fairness", "statistical_parity"]
    assert main([*args, "--seeds", "0-1", "--grid", "constraints.targets=[\"statistical_parity ratio >= 0.5\", "
                 "\"statistical_parity ratio >= 0.9\"]"]) == 0
    text = capsys.readouterr().out
    res = SweepResult.from_json(out / "sweep.json")
    assert text.startswith("4 runs over seeds 0, 1 and 2 baseline runs")
    assert [c.overrides["constraints.targets"] for c in res.configs] == [
        ["statistical_parity ratio >= 0.5"], ["statistical_parity ratio >= 0.9"]]
    for c in res.configs:
        a = c.accuracy
        assert f"{c.index:2d}  acc {a.mean:.4f} [{a.low:.4f}, {a.high:.4f}]" in text
    assert text.count("baseline seed") == 2
    # Bad input never starts training.
    assert main([*args, "--grid", "penalty.weight=1", "--seeds", "1,1"]) == 2
    assert "seeds must be distinct" in capsys.readouterr().err
    assert main([*args, "--grid", "penalty.weight=1", "--rank-by", "auc"]) == 2
    assert "--rank-by 'auc' is not a statistic of the sweep" in capsys.readouterr().err
    assert main([*args, "--grid", "penalty.weight=1", "--baseline", "penalty=null", "--no-baseline"]) == 2
    assert "contradict each other" in capsys.readouterr().err
    assert main([*args, "-o", str(tmp_path / "sw3"), "--grid", "penalty.weight=1",
                 "--baseline", "penalty.wieght=2"]) == 2
    assert "unknown key 'penalty.wieght'" in capsys.readouterr().err
    # Existing run directories are refused without --overwrite; bad grids never start training.
    assert main([*args, "--seeds", "0-1", "--grid", "constraints.targets=[\"statistical_parity ratio >= 0.5\"]"]) == 2
    assert "error: output directory" in capsys.readouterr().err
    assert main([*args, "--grid", "penalty.weight"]) == 2
    assert "--grid expects KEY=V1,V2,..." in capsys.readouterr().err
    assert main([*args, "--grid", "penalty.weight=[1, 2"]) == 2
    assert "does not parse" in capsys.readouterr().err
    assert main([*args, "-o", str(tmp_path / "sw4"), "--grid", "penalty.wieght=1,2"]) == 2
    assert "unknown key 'penalty.wieght'" in capsys.readouterr().err
    assert not (tmp_path / "sw3").exists() and not (tmp_path / "sw4").exists()
