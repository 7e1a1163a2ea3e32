"""fairslm.train on the tiny random BERT of the ``tiny_bert`` fixture (2 layers, hidden 32)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

import fairslm
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.training import load_train_config, train


def toy_rows(n: int, seed: int) -> dict[str, list[str]]:
    """Surgeons are mostly men, nurses mostly women; the job words give the label away."""
    rng = random.Random(seed)
    rows: dict[str, list[str]] = {"text": [], "label": [], "gender": []}
    for i in range(n):
        surgeon = i % 2 == 0
        female = rng.random() < (0.25 if surgeon else 0.75)
        job = ["operates", "surgery", "doctor"] if surgeon else ["cares", "nurse", "ward"]
        words = ["she" if female else "he", *rng.sample(job, 2)]
        words += rng.sample(["hospital", "patients", "team", "years", "works", "in", "the", "with"],
                            rng.randint(1, 6))
        rows["text"].append(" ".join(words))
        rows["label"].append("surgeon" if surgeon else "nurse")
        rows["gender"].append("F" if female else "M")
    return rows


@pytest.fixture(scope="module")
def data():
    return toy_rows(96, 0), toy_rows(48, 1)


def base(tiny_bert: Path, out: Path, **kw):
    cfg = {"output_dir": str(out), "model": str(tiny_bert),
           "data": {"sensitive": ["gender"], "pos_label": "surgeon"},
           "batch_size": 8, "epochs": 2, "learning_rate": 3e-3, "checkpoint_every": 0,
           "audit_min_group_size": 5}
    cfg.update(kw)
    return cfg


def _weights(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(path / "model.safetensors"))


def test_train_writes_loadable_model_log_audit_and_provenance(tiny_bert, data, tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from fairslm.training._model import quiet_transformers

    tr, va = data
    res = train(base(tiny_bert, tmp_path / "run", checkpoint_every=5), train_data=tr,
                validation_data=va)
    out = res.output_dir
    assert res.steps == 24  # 2 epochs x ceil(96 / 8)
    assert res.validation["accuracy"] > 0.75  # the job words give the label away (chance: 0.5)
    with quiet_transformers():
        model = AutoModelForSequenceClassification.from_pretrained(out)
        tok = AutoTokenizer.from_pretrained(out)
    assert model.config.id2label == {0: "nurse", 1: "surgeon"}
    enc = tok(va["text"], padding=True, return_tensors="pt")
    with torch.no_grad():
        pred = model(**enc).logits.argmax(-1).numpy()
    acc = np.mean(np.array(["nurse", "surgeon"])[pred] == np.array(va["label"]))
    assert acc == pytest.approx(res.validation["accuracy"])

    meta = json.loads((out / "fairslm.json").read_text())
    prov = meta["provenance"]
    assert prov["seed"] == 0 and prov["fairslm_version"] == fairslm.__version__
    assert len(prov["dataset_sha256"]) == 64 and len(prov["base_model_sha256"]) == 64
    assert meta["pos_label"] == "surgeon" and meta["group_labels"] == ["F", "M"]
    assert meta["kind"] == "hf-classifier"
    adapter = fairslm.load_model(out)  # the adapter the audit uses reads the same directory
    assert np.mean(np.asarray(adapter.classes_)[adapter.predict_proba(va["text"]).argmax(1)]
                   == np.asarray(va["label"])) == pytest.approx(res.validation["accuracy"])
    log = [json.loads(x) for x in (out / "train_log.jsonl").read_text().splitlines()]
    steps = [r for r in log if "event" not in r]
    assert [r["step"] for r in steps] == list(range(1, 25))
    assert {"loss", "task_loss", "lr", "step_time", "grad_norm"} <= set(steps[0])
    # warm-up over int(0.1 * 24) = 2 steps, then linear decay to 0 at step 24
    assert [round(r["lr"], 8) for r in steps[:3]] == [0.0015, 0.003, 0.003]
    assert steps[-1]["lr"] == pytest.approx(0.003 * 1 / 22)
    audit = json.loads((out / "audit.json").read_text())
    assert audit["task"]["pos_label"] == "surgeon" and audit["task"]["n_rows"] == 48
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-00000020", "step-00000024"]


def test_training_is_deterministic(tiny_bert, data, tmp_path):
    tr, va = data
    kw = {"penalty": {"criterion": "equalized_odds", "weight": 1.0}, "adversary": {"alpha": 0.5},
          "epochs": 1}
    a = train(base(tiny_bert, tmp_path / "a", **kw), train_data=tr, validation_data=va)
    b = train(base(tiny_bert, tmp_path / "b", **kw), train_data=tr, validation_data=va)
    wa, wb = _weights(a.output_dir), _weights(b.output_dir)
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    c = train(base(tiny_bert, tmp_path / "c", seed=1, **kw), train_data=tr, validation_data=va)
    assert not all(np.array_equal(wa[k], _weights(c.output_dir)[k]) for k in wa)


def test_statistical_parity_penalty_narrows_the_selection_gap(tiny_bert, data, tmp_path):
    tr, va = data
    # 5 epochs (60 steps): the scores of the tiny model separate only after ~20 steps, and the
    # penalty, on soft selection rates, has no gap to close before then. With seeds 0, 1 and 2
    # the penalised run selects both groups at one rate (ratio 1.0, accuracy 0.5); the
    # accurate run keeps the labels' ratio of 0.29.
    plain = train(base(tiny_bert, tmp_path / "plain", epochs=5), train_data=tr, validation_data=va)
    fair = train(base(tiny_bert, tmp_path / "fair", epochs=5,
                      penalty={"criterion": "statistical_parity", "weight": 50.0}),
                 train_data=tr, validation_data=va)
    # base rates differ (surgeons are 75% men), so an accurate model has an unequal selection
    # rate; the penalty trades accuracy for parity
    assert fair.validation["statistical_parity"] > plain.validation["statistical_parity"] + 0.2
    log = [json.loads(x) for x in (fair.output_dir / "train_log.jsonl").read_text().splitlines()]
    assert all(len(r["group_rates"]["selection_rate"]) == 2 for r in log if "event" not in r)


def test_prediction_adversary_reads_the_class_log_probabilities(tiny_bert, data, tmp_path, monkeypatch):
    from fairslm.mitigation import inprocessing

    seen: list[tuple[int, ...]] = []
    build = inprocessing.build_adversary

    def spy(n_features, n_groups, **kw):
        adv = build(n_features, n_groups, **kw)
        forward = adv.forward

        def record(rep, y=None):
            seen.append(tuple(rep.shape))
            return forward(rep, y)

        adv.forward = record
        return adv

    monkeypatch.setattr(inprocessing, "build_adversary", spy)
    tr, va = data
    res = train(base(tiny_bert, tmp_path / "adv", epochs=1,
                     adversary={"criterion": "equalized_odds", "alpha": 1.0, "source": "prediction"}),
                train_data=tr, validation_data=va)
    # 96 rows in batches of 8: every step shows the adversary 8 rows x 2 class log-probabilities
    assert seen == [(8, 2)] * 12
    log = [json.loads(x) for x in (res.output_dir / "train_log.jsonl").read_text().splitlines()]
    assert all(0.0 <= r["adversary_accuracy"] <= 1.0 and r["adversary_loss"] > 0 for r in log if "event" not in r)
    with pytest.raises(ConfigError, match="source"):
        load_train_config(base(tiny_bert, tmp_path / "x", adversary={"source": "logits"}))


def test_constraints_log_multipliers_and_select_a_feasible_checkpoint(tiny_bert, data, tmp_path):
    tr, va = data
    res = train(base(tiny_bert, tmp_path / "c", eval_every=4,
                     constraints={"targets": ["statistical_parity ratio >= 0.8"], "update_every": 2}),
                train_data=tr, validation_data=va)
    log = [json.loads(x) for x in (res.output_dir / "train_log.jsonl").read_text().splitlines()]
    steps = [r for r in log if "event" not in r]
    assert set(steps[0]["multipliers"]) == {"selection_rate:F/M", "selection_rate:M/F"}
    measured = [r["constraints"]["statistical_parity ratio >= 0.8"] for r in steps if "constraints" in r]
    assert len(measured) == res.steps // 2
    assert max(max(r["multipliers"].values()) for r in steps) > 0  # the accurate model violates it
    evals = [r for r in log if r.get("event") == "eval"]
    assert [c["step"] for c in res.candidates] == [e["step"] for e in evals] == [4, 8, 12, 16, 20, 22]
    feasible = [c for c in res.candidates if c["feasible"]]
    if feasible:
        best = max(feasible, key=lambda c: (c["accuracy"], -c["step"]))
        assert res.feasible is True and res.selected_step == best["step"]
    else:
        assert res.feasible is False
        meta = json.loads((res.output_dir / "fairslm.json").read_text())
        assert "no checkpoint met the constraints" in meta["selection"]["note"]


def test_the_old_pareto_front_warns_and_keeps_its_convention():
    from fairslm import training
    from fairslm.mitigation.comparison import pareto_front

    # one convention: accuracy up, disparity down, by increasing disparity
    assert pareto_front([0.9, 0.8, 0.95, 0.7], [-0.5, -0.9, -0.4, -0.9]) == [1, 0, 2]
    assert pareto_front([0.9, float("nan"), 0.8], [-0.5, -1.0, None]) == [0]
    with pytest.warns(DeprecationWarning, match="use fairslm.mitigation.comparison.pareto_front"):
        assert training.pareto_front([0.9, 0.8, 0.95, 0.7], [0.5, 0.9, 0.4, 0.9]) == [2, 0, 1]
    with pytest.warns(DeprecationWarning):
        assert training.pareto_front([0.9, float("nan"), 0.8], [0.5, 1.0, None]) == [0]


# ---- bad input ---------------------------------------------------------------------------


def test_unknown_config_keys_are_named(tiny_bert, tmp_path):
    with pytest.raises(ConfigError, match=r"invalid training config: unknown key 'learning_rat'; valid keys: adversary,"):
        load_train_config(base(tiny_bert, tmp_path, learning_rat=1e-3))
    with pytest.raises(ConfigError, match=r"unknown key 'penalty.wieght'; valid keys in \[penalty\]: criterion, momentum, weight"):
        load_train_config(base(tiny_bert, tmp_path), **{"penalty.wieght": 2})
    toml = tmp_path / "t.toml"
    toml.write_text('output_dir = "o"\n[constraints]\ntargets = []\nrate = 1\n')
    with pytest.raises(ConfigError, match=rf"invalid training config {toml}: unknown key 'constraints.rate'"):
        load_train_config(toml)


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"constraints": {"targets": ["equal_oportunity ratio >= 0.9"]}}, ConfigError,
         "unknown fairness metric 'equal_oportunity'"),
        ({"constraints": {"targets": ["equal_opportunity ratio >= 1.2"]}}, ConfigError,
         r"target must be in \(0, 1\]"),
        ({"constraints": {"targets": ["equal_opportunity ratio >= 0.9 for F, X"]}}, ConfigError,
         r"names group\(s\) \['X'\] that do not exist; groups are: F, M"),
        ({"penalty": {"criterion": "accuracy"}}, ConfigError, "unknown fairness metric 'accuracy'"),
        # audit criteria training has no loss for
        ({"penalty": {"criterion": "predictive_parity"}}, ConfigError,
         r"the audit criterion 'predictive_parity' compares precision, which training has no loss "
         r"for \(audits still report it after training\); training can act on: equal_opportunity"),
        ({"adversary": {"criterion": "error_rate_parity"}}, ConfigError,
         r"the audit criterion 'error_rate_parity' compares error_rate, .*; the adversary can act "
         r"on: equal_opportunity, equalized_odds, statistical_parity"),
        ({"data": {"sensitive": ["sex"], "pos_label": "surgeon"}}, InvalidDataError,
         r"column\(s\) \['sex'\] not found in in-memory data; columns are: text, label, gender"),
        ({"data": {"sensitive": ["gender"]}}, ConfigError, "positive \\(favourable\\) class is ambiguous"),
    ],
)
def test_bad_fairness_config(tiny_bert, data, tmp_path, kw, error, message):
    with pytest.raises(error, match=message):
        train(base(tiny_bert, tmp_path / "x", **kw), train_data=data[0], validation_data=data[1])
    assert not (tmp_path / "x").exists()  # refused before anything was written


def test_group_without_positives_for_equal_opportunity(tiny_bert, data, tmp_path):
    tr = {k: list(v) for k, v in data[0].items()}
    tr["gender"] = ["M" if lab == "surgeon" else g for lab, g in zip(tr["label"], tr["gender"], strict=True)]
    with pytest.raises(InvalidDataError, match="group 'F' has no rows with true label 'surgeon' in the training data"):
        train(base(tiny_bert, tmp_path / "x", penalty={"criterion": "equal_opportunity"}), train_data=tr)
    with pytest.raises(InvalidDataError, match="group 'F' has no rows with true label 'surgeon'"):
        train(base(tiny_bert, tmp_path / "x", constraints={"targets": ["equal_opportunity ratio >= 0.9"]}),
              train_data=tr)


def test_output_dir_exists_and_resume_errors(tiny_bert, data, tmp_path):
    tr, va = data
    cfg = base(tiny_bert, tmp_path / "run", epochs=1, checkpoint_every=4)
    train(cfg, train_data=tr, validation_data=va)
    with pytest.raises(ConfigError, match="already exists and is not empty; pass --overwrite"):
        train(cfg, train_data=tr, validation_data=va)
    with pytest.raises(ConfigError, match=r"different configuration \(differs in: learning_rate, seed\)"):
        train({**cfg, "learning_rate": 1e-3, "seed": 3}, train_data=tr, validation_data=va, resume=True)
    with pytest.raises(ConfigError, match="nothing to resume"):
        train(base(tiny_bert, tmp_path / "empty"), train_data=tr, resume=True)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="does not look like a fairslm training directory"):
        train(base(tiny_bert, foreign), train_data=tr, overwrite=True)
    assert (foreign / "notes.txt").exists()
    res = train(cfg, train_data=tr, validation_data=va, overwrite=True)
    assert res.steps == 12


def test_nan_loss_stops_with_message_and_keeps_checkpoint(tiny_bert, data, tmp_path, monkeypatch):
    import torch

    from fairslm.training import _model

    real = _model.TrainableModel.forward
    calls = {"n": 0}

    def poisoned(self, *a, **k):
        logits, rep = real(self, *a, **k)
        calls["n"] += 1
        if calls["n"] == 7:
            logits = logits * torch.tensor(float("nan"))
        return logits, rep

    monkeypatch.setattr(_model.TrainableModel, "forward", poisoned)
    out = tmp_path / "nan"
    with pytest.raises(InvalidDataError, match=r"loss became nan at step 7 \(epoch 0, batch \d+\); training "
                       r"stopped and the last good checkpoint is .*step-00000004"):
        train(base(tiny_bert, out, checkpoint_every=4), train_data=data[0])
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["step-00000004"]
    last = json.loads((out / "train_log.jsonl").read_text().splitlines()[-1])
    assert last["event"] == "nan" and last["step"] == 6


def test_cli_train_and_errors(tiny_bert, data, tmp_path, capsys):
    from fairslm.cli import main

    tr, va = data
    for name, rows in (("train", tr), ("validation", va)):
        with (tmp_path / f"{name}.jsonl").open("w") as fh:
            for t, lab, g in zip(rows["text"], rows["label"], rows["gender"], strict=True):
                fh.write(json.dumps({"text": t, "profession": lab, "gender": g}) + "\n")
    (tmp_path / "train.toml").write_text(
        f'output_dir = "out"\nmodel = "{tiny_bert}"\nepochs = 1\nbatch_size = 8\n'
        'learning_rate = 0.003\ncheckpoint_every = 0\n'
        '[data]\ntrain = "train.jsonl"\nvalidation = "validation.jsonl"\nlabel = "profession"\n'
        'sensitive = ["gender"]\npos_label = "surgeon"\n'
    )
    cfg = str(tmp_path / "train.toml")
    assert main(["train", "--config", cfg, "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "trained 12 steps" in out
    # 48 validation rows: no group reaches the default min_group_size of 30, so each ratio
    # is shown with the word insufficient (and audit.json says so), never as a bare number.
    line = next(x for x in out.splitlines() if "validation statistical_parity" in x)
    assert line.endswith("(insufficient)"), out
    audit = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert audit["verdict"] == "insufficient"
    sp = next(c for c in audit["views"][0]["criteria"] if c["name"] == "statistical_parity")
    assert sp["verdict"] == "insufficient" and sp["ratio"] != 1.0
    assert main(["train", "--config", cfg, "-o", str(tmp_path / "out")]) == 2
    assert "error: output directory" in capsys.readouterr().err
    assert main(["train", "--config", cfg, "-o", str(tmp_path / "o2"), "--set", "penalty.wieght=2"]) == 2
    assert "unknown key 'penalty.wieght'" in capsys.readouterr().err
    assert main(["train", "--config", cfg, "--set", "seed"]) == 2
    assert "--set expects KEY=VALUE" in capsys.readouterr().err


def test_epoch_batches_are_stratified_bucketed_and_reproducible():
    from fairslm.training._data import epoch_batches

    rng = np.random.default_rng(0)
    key = np.repeat([0, 1, 2, 3], [120, 40, 24, 16])  # cells of 60%, 20%, 12%, 8%
    cells = [np.flatnonzero(key == k) for k in range(4)]
    lengths = rng.integers(5, 200, size=200)
    kw = {"seed": 3, "epoch": 1, "length_buckets": True, "chunk_batches": 5}
    batches = epoch_batches(cells, lengths, 10, **kw)
    assert sorted(np.concatenate(batches).tolist()) == list(range(200))
    # every cell holding at least 1/batch_size of the rows is in every batch; the 8% cell's 16
    # rows land in 16 different batches of the 20
    assert all({0, 1, 2} <= set(key[b]) for b in batches)
    assert sum(3 in set(key[b]) for b in batches) == 16
    # length-bucketed: within a batch, each cell's rows come from one length quantile, so the
    # mean within-batch spread is far below that of random batches
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    plain = epoch_batches(cells, lengths, 10, seed=3, epoch=1, length_buckets=False)
    assert spread < 0.6 * np.mean([np.ptp(lengths[b]) for b in plain])
    again = epoch_batches(cells, lengths, 10, **kw)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    other = epoch_batches(cells, lengths, 10, **{**kw, "epoch": 2})
    assert not all(np.array_equal(a, b) for a, b in zip(batches, other, strict=True))


def test_stratified_holdout_split():
    from fairslm.training._data import read_rows, stratified_split

    rows = read_rows(toy_rows(96, 0), sensitive=["gender"], pos_label="surgeon")
    keep, held = stratified_split(rows, 0.1, seed=0)
    assert sorted(np.concatenate([keep, held]).tolist()) == list(range(96))
    for g in range(2):
        for y in range(2):
            cell = np.flatnonzero((rows.group == g) & (rows.y == y))
            assert np.isin(held, cell).sum() == max(1, round(0.1 * len(cell)))


def test_selection_needs_validation_data_but_constraints_do_not(tiny_bert, data, tmp_path):
    with pytest.raises(ConfigError, match=r"selection = \[...\] picks a checkpoint on validation data"):
        train(base(tiny_bert, tmp_path / "s", selection=["equal_opportunity ratio >= 0.9"]),
              train_data=data[0])
    res = train(base(tiny_bert, tmp_path / "c", epochs=1,
                     constraints={"targets": ["equal_opportunity ratio >= 0.9"]}), train_data=data[0])
    assert res.feasible is None and res.selected_step == res.steps and res.validation == {}
    assert not (tmp_path / "c" / "audit.json").exists()


def test_dataset_input_and_sample_weights(tiny_bert, data, tmp_path):
    import pandas as pd

    from fairslm.data import load_dataset

    frame = pd.DataFrame(data[0])
    cfg = base(tiny_bert, tmp_path / "plain", epochs=1)
    plain = _weights(train(cfg, train_data=frame).output_dir)

    def run(name, w):
        ds = load_dataset(frame.assign(w=w), sensitive="gender", weight="w", pos_label="surgeon")
        return _weights(train({**cfg, "output_dir": str(tmp_path / name)}, train_data=ds).output_dir)

    # weights are normalised within each batch: a constant weight is no weight at all
    doubled = run("doubled", 2.0)
    assert all(np.allclose(plain[k], doubled[k], atol=1e-6) for k in plain)
    skewed = run("skewed", np.where(frame.gender == "F", 3.0, 0.5))
    assert not all(np.allclose(plain[k], skewed[k], atol=1e-6) for k in plain)


def test_a_file_gives_audit_debias_and_training_the_same_labels_and_groups(tmp_path):
    import pandas as pd

    from fairslm.audit import audit_file, audit_predictions
    from fairslm.data import load_dataset
    from fairslm.mitigation.preprocessing import debias_file
    from fairslm.training._data import read_rows

    path = tmp_path / "rows.csv"
    # ages 9 and 10 sort one way as numbers and the other as strings; 0/1 labels read as numbers
    pd.DataFrame({"text": [f"applicant {i} has nursing and surgery experience" for i in range(8)],
                  "label": [0, 1, 1, 0, 1, 0, 1, 1],
                  "age": [9, 10, 9, 10, 9, 10, 9, 10]}).to_csv(path, index=False)
    ds = load_dataset(path, sensitive="age")  # what `fairslm audit` scores and audits
    audited = audit_predictions(ds.labels, ds.labels, sensitive_features=ds.sensitive,
                                pos_label=ds.pos_label, min_group_size=1).view("age").groups
    from_file = audit_file(path, y_true="label", y_pred="label", sensitive=["age"],
                           min_group_size=1).view("age").groups
    summary = debias_file(path, out=tmp_path / "out.csv", steps=[{"method": "reweigh"}],
                          label="label", sensitive=["age"]).before
    rows = read_rows(path, sensitive=["age"])

    base_rates = {g.label: g.metrics["base_rate"] for g in audited}
    assert base_rates == {"9": 0.75, "10": 0.5}
    assert {g.label: g.metrics["base_rate"] for g in from_file} == base_rates
    assert {g.group: g.label_rates["1"] for g in summary.groups} == base_rates
    assert {name: rows.y_pos[rows.group == k].mean() for k, name in enumerate(rows.group_labels)} == base_rates
    # the same group order where rows are coded (the audit's count table, debiasing, training)
    assert [g.label for g in audited] == [g.group for g in summary.groups] == rows.group_labels
    # FairnessTrainer reads a map-style dataset of the same rows the same way
    from fairslm.training._trainer_data import TrainerRows

    records = pd.read_csv(path).to_dict("records")
    hf = TrainerRows(records, "training", columns=["age"], label="label", weight=None, group_labels=None)
    assert hf.group_labels == rows.group_labels
    assert np.array_equal(hf.group, rows.group) and np.array_equal(hf.y, rows.y_pos)
    assert [rows.classes[i] for i in rows.y] == [str(v) for v in ds.labels]
    assert rows.pos_label == summary.pos_label == str(ds.pos_label) == "1"
    # an empty group cell is a missing value in every command, not a group named ""
    path.write_text("text,label,age\na b,0,30\nc d,1,\ne f,1,40\n")
    with pytest.raises(InvalidDataError, match="sensitive column 'age' has 1 missing value"):
        read_rows(path, sensitive=["age"])
    with pytest.raises(InvalidDataError, match="sensitive column 'age' has 1 missing value"):
        load_dataset(path, sensitive="age")
