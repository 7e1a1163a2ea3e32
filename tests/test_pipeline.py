"""The pipeline end to end on a tiny random transformer: steps, cache reuse, report, CLI."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from fairslm.cli import main  # noqa: E402
from fairslm.pipeline import demo_config, run_pipeline  # noqa: E402


def _config(out, model, **train):
    settings = {"max_steps": 4, "batch_size": 16, "max_length": 32, **train}
    cfg = demo_config(out, rows=240, model=str(model), **settings)
    # No bootstrap: a 4-step random model can leave a criterion undefined in every replicate,
    # and the interval code then warns on 0/0 (fairslm.audit._uncertainty).
    return cfg.model_copy(update={"audit": cfg.audit.model_copy(update={"n_bootstrap": 0})})


@pytest.mark.slow
def test_reduced_demo_runs_reuses_and_reports(tmp_path, tiny_bert):
    """The demo's pipeline with a tiny model and 240 rows, end to end, then again."""
    out = tmp_path / "run"
    first = run_pipeline(_config(out, tiny_bert))
    assert [s.name for s in first.steps] == ["data_audit", "baseline", "audit_baseline",
                                             "debias", "train", "audit", "counterfactual",
                                             "compare", "report"]
    assert {s.status for s in first.steps} == {"ran"}
    report = json.loads((out / "report.json").read_text())
    assert report["kind"] == "fairslm.report"
    assert [m["name"] for m in report["models"]] == ["baseline", "mitigated"]
    assert set(report["models"][0]["scores"]) == {"accuracy (labels)", "accuracy (true label)"}
    assert report["data_audit"]["kind"] == "fairslm.data_audit"
    assert report["comparison"]["kind"] == "fairslm.comparison"
    assert [r["name"] for r in report["comparison"]["rows"]] == ["baseline", "mitigated"]
    assert set(report["counterfactual"]) == {"baseline", "mitigated"}
    prov = report["provenance"]
    assert re.fullmatch(r"[0-9a-f]{64}", prov["dataset_sha256"])
    assert prov["seed"] == 0 and prov["versions"]["fairslm"]
    assert set(prov["model_fingerprints"]) == {"baseline", "mitigated"}
    assert all(prov["model_fingerprints"].values())
    html = (out / "report.html").read_text()
    assert "Counterfactual tests" in html and "Data audit" in html
    assert first.final_model == "mitigated" and first.verdict in ("pass", "fail")

    # Nothing changed: every step is reused.
    again = run_pipeline(_config(out, tiny_bert))
    assert [s.status for s in again.steps[:-1]] == ["reused"] * 8
    assert again.models == first.models

    # A training setting of the mitigated model changed: the baseline is reused, train re-runs.
    changed = run_pipeline(_config(out, tiny_bert).model_copy(update={
        "train": {**_config(out, tiny_bert).train, "learning_rate": 3e-4}}))
    status = {s.name: s.status for s in changed.steps}
    assert status["baseline"] == status["audit_baseline"] == status["debias"] == "reused"
    assert status["train"] == status["audit"] == status["counterfactual"] == "ran"


@pytest.mark.slow
def test_run_command_json_and_exit_code(tmp_path, tiny_bert, capsys):
    import tomli_w

    cfg = _config(tmp_path / "out", tiny_bert).model_dump(mode="json", exclude_none=True)
    cfg["steps"] = ["baseline", "audit_baseline", "postprocess", "audit", "report"]
    cfg["postprocess"] = {"constraint": "statistical_parity", "sensitive": "gender"}
    for key in ("debias", "train"):
        cfg.pop(key)
    cfg["history"] = {"path": str(tmp_path / "history.db"), "model": "screener"}
    path = tmp_path / "pipeline.toml"
    path.write_text(tomli_w.dumps(cfg))
    code = main(["run", str(path), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["kind"] == "fairslm.pipeline_run"
    assert result["final_model"] == "mitigated"  # the baseline with group thresholds
    thresholds = next(s for s in result["steps"] if s["name"] == "postprocess")["manifest"]
    assert set(thresholds["thresholds"]) == {"female", "male"}
    assert code == (1 if result["verdict"] == "fail" else 0)
    assert (tmp_path / "out" / "report.html").exists()
    # Run again, recomputing: the audit is recorded a second time and the report shows the trend.
    assert main(["run", str(path), "--json", "--force"]) == code
    capsys.readouterr()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    (trend,) = report["history"]["trends"]
    assert trend["model"] == "screener" and trend["criterion"] == "statistical_parity"
    assert len(trend["points"]) == 2
    assert "Audit history" in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.slow
def test_blend_with_the_baseline_is_audited_as_the_mitigated_model(tmp_path, tiny_bert):
    """postprocess method "blend": the weight is chosen on validation, the blend is a model folder
    that the audit, the counterfactual test and the comparison load like any other."""
    from fairslm.models import BlendAdapter, load_model
    from fairslm.pipeline._config import pipeline_config_from_dict

    raw = _config(tmp_path / "out", tiny_bert).model_dump(mode="json", exclude_none=True)
    raw.pop("debias")
    raw["steps"] = ["baseline", "audit_baseline", "train", "postprocess", "audit", "counterfactual",
                    "compare", "report"]
    raw["postprocess"] = {"method": "blend", "cut": 0.5, "sensitive": "gender"}
    raw["train"]["seeds"] = [0, 1]  # an ensemble of two fine-tunes, blended with the baseline
    cfg = pipeline_config_from_dict(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a 4-step random model may not reach the cut
        result = run_pipeline(cfg)
    step = next(s for s in result.steps if s.name == "postprocess")
    blend = step.manifest["blend"]
    assert step.manifest["method"] == "blend" and 0.0 <= blend["weight"] <= 1.0
    assert blend["cut"] == 0.5 and blend["met"] in (True, False)
    folder = Path(step.folder) / "model"
    meta = json.loads((folder / "fairslm.json").read_text())
    assert meta["kind"] == "blend" and sum(c["weight"] for c in meta["components"]) == pytest.approx(1)
    assert isinstance(load_model(folder), BlendAdapter)
    # The fine-tuned side is itself a blend: the two seeds' models, averaged.
    train = next(s for s in result.steps if s.name == "train")
    assert [m["seed"] for m in train.manifest["train"]["members"]] == [0, 1]
    assert train.manifest["train"]["steps"] == 8
    members = json.loads((Path(train.folder) / "model" / "fairslm.json").read_text())["components"]
    assert [c["model"] for c in members] == ["../model-seed0", "../model-seed1"]
    assert [c["weight"] for c in members] == [0.5, 0.5]
    one, two = (load_model(Path(train.folder) / f"model-seed{s}") for s in (0, 1))
    texts = ["she is a nurse", "he is a surgeon"]
    assert not np.allclose(one.predict_proba(texts), two.predict_proba(texts))  # two seeds, two models
    np.testing.assert_allclose(load_model(Path(train.folder) / "model").predict_proba(texts),
                               (one.predict_proba(texts) + two.predict_proba(texts)) / 2)
    assert result.final_model == "mitigated" and "accuracy (labels)" in result.models["mitigated"]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [m["name"] for m in report["models"]] == ["baseline", "mitigated"]
    assert set(report["counterfactual"]) == {"baseline", "mitigated"}
    assert report["mitigation"]["postprocess_fitted"]["blend"]["weight"] == blend["weight"]
    # Rerun: every step is reused, the blend folder found where the run left it.
    again = run_pipeline(cfg)
    assert {s.status for s in again.steps if s.name != "report"} == {"reused"}
    assert again.models == result.models and again.steps[3].folder == step.folder


def test_an_interrupted_ensemble_resumes_with_the_members_that_finished(tmp_path, tiny_bert, monkeypatch):
    """The train step stops during its third fine-tune: running again trains only that one and
    keeps the two that finished; --force trains all three again."""
    import fairslm.training
    from fairslm.pipeline._config import pipeline_config_from_dict

    raw = _config(tmp_path / "out", tiny_bert).model_dump(mode="json", exclude_none=True)
    raw.pop("debias")
    raw["steps"] = ["train", "audit"]
    raw["train"]["seeds"] = [0, 1, 2]
    cfg = pipeline_config_from_dict(raw)
    real_train, trained = fairslm.training.train, []

    def train(config, **kw):
        trained.append(config.seed)
        if config.seed == 2 and trained.count(2) == 1:
            (Path(config.output_dir) / "checkpoints").mkdir(parents=True)  # half-written
            raise RuntimeError("power cut")
        return real_train(config, **kw)

    monkeypatch.setattr(fairslm.training, "train", train)
    with pytest.raises(RuntimeError, match="power cut"):
        run_pipeline(cfg)
    assert trained == [0, 1, 2]
    result = run_pipeline(cfg)
    assert trained == [0, 1, 2, 2]  # only the unfinished member
    step = next(s for s in result.steps if s.name == "train")
    assert step.status == "ran"
    members = step.manifest["train"]["members"]
    assert [m["seed"] for m in members] == [0, 1, 2] and all(m["steps"] == 4 for m in members)
    assert not list((tmp_path / "out" / "cache").glob(".*partial"))
    components = json.loads((Path(step.folder) / "model" / "fairslm.json").read_text())["components"]
    assert [c["model"] for c in components] == ["../model-seed0", "../model-seed1", "../model-seed2"]
    assert "accuracy (labels)" in result.models["mitigated"]
    run_pipeline(cfg, force=True)
    assert trained == [0, 1, 2, 2, 0, 1, 2]


@pytest.mark.parametrize(("change", "message"), [
    ({"postprocess": {"method": "blend"}, "steps": ["baseline", "postprocess", "audit", "report"]},
     "list both 'baseline' and 'train'"),
    ({"postprocess": {"method": "blend", "options": {"target": 0.9}}}, "remove options"),
    ({"postprocess": {"cut": 0.7}}, "cut is the blend's option"),
    ({"postprocess": {"method": "blend", "cut": 1.5}}, "cut"),
    ({"postprocess": {"method": "blend", "constraint": "equalized_odds"}}, "remove constraint"),
])
def test_blend_settings_are_checked_before_anything_runs(tmp_path, change, message):
    from fairslm.exceptions import ConfigError
    from fairslm.pipeline._config import pipeline_config_from_dict

    cfg = _config(tmp_path / "out", tmp_path).model_dump(mode="json", exclude_none=True)
    cfg["steps"] = ["baseline", "train", "postprocess", "audit", "report"]
    cfg.update(change)
    with pytest.raises(ConfigError, match=message):
        pipeline_config_from_dict(cfg)


@pytest.mark.parametrize(("seeds", "message"), [
    ({"seeds": [0, 0]}, "repeats a seed"),
    ({"seeds": []}, "list of whole numbers"),
    ({"seeds": [0, "5"]}, "list of whole numbers"),
    ({"seeds": 2}, "list of whole numbers"),
    ({"seeds": [0, 5], "seed": 1}, "both seed and seeds"),
])
def test_ensemble_seeds_are_checked_before_anything_runs(tmp_path, seeds, message):
    from fairslm.exceptions import ConfigError
    from fairslm.pipeline._config import pipeline_config_from_dict

    cfg = _config(tmp_path / "out", tmp_path).model_dump(mode="json", exclude_none=True)
    cfg["train"] = {**cfg["train"], **seeds}
    with pytest.raises(ConfigError, match=message):
        pipeline_config_from_dict(cfg)
