"""The pipeline file: unknown keys and steps, impossible orders, missing paths, bad output."""

from __future__ import annotations

import os

import pytest

from fairslm.exceptions import ConfigError
from fairslm.pipeline import STEPS, load_pipeline_config, run_pipeline

GOOD = """
steps = ["baseline", "audit_baseline", "report"]
output = "out"
[data]
synthetic = {n = 60}
label = "hired"
sensitive = ["gender"]
[baseline]
model = "model"
"""


def _write(tmp_path, text):
    p = tmp_path / "pipeline.toml"
    p.write_text(text)
    return p


def test_good_file_resolves_paths_against_its_folder(tmp_path):
    cfg = load_pipeline_config(_write(tmp_path, GOOD))
    assert cfg.steps == ["baseline", "audit_baseline", "report"]
    assert cfg.output == tmp_path / "out"
    assert cfg.baseline.model == tmp_path / "model"
    assert cfg.policy.criteria == ["statistical_parity"] and cfg.policy.threshold == 0.8


def test_unknown_key_is_named_with_the_valid_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'data.lable'; valid keys in \[data\]: .*label"):
        load_pipeline_config(_write(tmp_path, GOOD.replace('label = "hired"', 'lable = "hired"')))
    with pytest.raises(ConfigError, match=r"invalid pipeline config .*pipeline.toml: unknown key 'colour'; valid keys: .*steps"):
        load_pipeline_config(_write(tmp_path, 'colour = "red"\n' + GOOD))


def test_unknown_step_lists_the_valid_steps(tmp_path):
    text = GOOD.replace('"audit_baseline"', '"audit_basline"')
    with pytest.raises(ConfigError, match="unknown step 'audit_basline'; valid steps are: "
                       + ", ".join(STEPS)):
        load_pipeline_config(_write(tmp_path, text))


def test_impossible_orders_are_rejected(tmp_path):
    text = GOOD.replace('["baseline", "audit_baseline", "report"]',
                        '["audit_baseline", "baseline", "report"]')
    with pytest.raises(ConfigError, match="step 'baseline' cannot run after 'audit_baseline'; "
                       "steps run in this order: data_audit -> baseline"):
        load_pipeline_config(_write(tmp_path, text))
    text = GOOD.replace('["baseline", "audit_baseline", "report"]', '["baseline", "compare"]')
    with pytest.raises(ConfigError, match="step 'compare' needs 'audit_baseline' before it"):
        load_pipeline_config(_write(tmp_path, text))
    text = GOOD.replace('["baseline", "audit_baseline", "report"]', '["baseline", "train"]')
    with pytest.raises(ConfigError, match=r"step 'train' is listed but the \[train\] section is missing"):
        load_pipeline_config(_write(tmp_path, text))


def test_counterfactual_attributes_must_be_sensitive_columns(tmp_path):
    text = GOOD + '[counterfactual]\nattributes = ["religion"]\n'
    with pytest.raises(ConfigError, match=r"counterfactual.attributes \['religion'\] are not "
                       "sensitive columns; the sensitive columns are: gender"):
        load_pipeline_config(_write(tmp_path, text))


def test_sources_must_be_given_exactly_once(tmp_path):
    with pytest.raises(ConfigError, match=r"give exactly one of data.path .* or \[data.synthetic\]"):
        load_pipeline_config(_write(tmp_path, GOOD.replace("synthetic = {n = 60}", "")))
    with pytest.raises(ConfigError, match=r"give exactly one of baseline.model .* or \[baseline.train\]"):
        load_pipeline_config(_write(tmp_path, GOOD.replace('model = "model"', "")))


def test_missing_files_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="pipeline file .*nope.toml does not exist"):
        load_pipeline_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_pipeline_config(_write(tmp_path, "steps = ["))


def test_missing_model_and_data_paths_fail_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match=r"baseline.model .*model does not exist; give a model "
                       r"directory, or replace it with a \[baseline.train\] section"):
        run_pipeline(_write(tmp_path, GOOD))
    text = GOOD.replace("synthetic = {n = 60}", 'path = "rows.parquet"')
    with pytest.raises(ConfigError, match=r"data.path .*rows.parquet does not exist"):
        run_pipeline(_write(tmp_path, text))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_unwritable_output_folder(tmp_path):
    (tmp_path / "model").mkdir()
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match=r"output folder .*locked/out is not writable"):
            run_pipeline(_write(tmp_path, GOOD), output=locked / "out")
    finally:
        locked.chmod(0o700)


def test_output_path_that_is_a_file_is_not_writable(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match=r"output folder .*afile/out is not writable .*--out DIR"):
        run_pipeline(_write(tmp_path, GOOD), output=tmp_path / "afile" / "out")


def test_training_settings_are_checked_when_the_file_is_read(tmp_path):
    text = GOOD.replace('[baseline]\nmodel = "model"\n',
                        '[baseline.train]\nepoch = 2\n')
    with pytest.raises(ConfigError, match=r"unknown key 'baseline.train.epoch'; valid keys in "
                       r"\[baseline.train\]: .*epochs"):
        load_pipeline_config(_write(tmp_path, text))
    text = GOOD.replace('[baseline]\nmodel = "model"\n',
                        '[baseline.train]\nsensitive = ["race"]\n')
    with pytest.raises(ConfigError, match=r"baseline.train.sensitive \['race'\] are not among "
                       r"data.sensitive \(gender\)"):
        load_pipeline_config(_write(tmp_path, text))
    text = GOOD.replace('[baseline]\nmodel = "model"\n',
                        '[baseline.train]\nconstraints = {targets = ["parity"]}\n')
    with pytest.raises(ConfigError, match=r"baseline.train.constraints.targets: cannot read the "
                       r"constraint 'parity'"):
        load_pipeline_config(_write(tmp_path, text))
