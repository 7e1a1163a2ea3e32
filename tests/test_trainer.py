"""FairnessTrainer in a plain process: a Trainer script with fairness, LoRA through label words,
resume, and the inputs it refuses. (Under torchrun: test_train_distributed.py.)"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from fairslm.exceptions import ConfigError, InvalidDataError

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("distributed_jobs", HERE / "distributed_jobs.py")
jobs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(jobs)
tt = jobs.load_test_train()


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("trainer")
    jobs.write_toy_files(root)
    return root


def _trainer(root: Path, out: Path, *, fairness=None, steps: int = 6, save_steps: int = 0, **kw):
    """A FairnessTrainer as a user's script builds it, on the toy data."""
    from transformers import TrainingArguments

    from fairslm.training import FairnessTrainer

    model, tokenizer, train, val = jobs.trainer_inputs(root)
    args = TrainingArguments(output_dir=str(out), per_device_train_batch_size=16, max_steps=steps,
                             learning_rate=3e-3, seed=0, logging_steps=2, report_to=[], use_cpu=True,
                             disable_tqdm=True, per_device_eval_batch_size=16,
                             save_strategy="steps" if save_steps else "no", save_steps=save_steps or 500)
    return FairnessTrainer(model=model, args=args, train_dataset=train, eval_dataset=val,
                           processing_class=tokenizer, **{"group_column": "gender",
                                                          "pos_label": "surgeon",
                                                          "fairness": fairness, **kw})


def test_a_trainer_script_gains_fairness(root, tmp_path):
    trainer = _trainer(root, tmp_path / "run", fairness=jobs.TRAINER_FAIRNESS, audit_min_group_size=5)
    assert "text" in trainer.train_dataset.column_names  # removed from batches, as Trainer does
    trainer.train()
    metrics = trainer.evaluate()
    assert {"eval_loss", "eval_accuracy", "eval_statistical_parity", "eval_equal_opportunity",
            "eval_constraint/equal_opportunity ratio >= 0.9"} <= set(metrics)
    assert trainer.fairness_audit.views[0].criteria  # the full audit of the evaluation rows
    # a dataset handed to evaluate() gets its group codes too
    again = trainer.evaluate(jobs.trainer_inputs(root)[3])
    assert again["eval_accuracy"] == metrics["eval_accuracy"]
    logged = [r for r in trainer.state.log_history if "loss" in r]
    assert [r["step"] for r in logged] == [2, 4, 6]
    assert {"task_loss", "penalty", "constraint_penalty", "adversary_loss", "adversary_accuracy",
            "rate/true_positive_rate/F", "multiplier/true_positive_rate:F/M",
            "constraint/equal_opportunity ratio >= 0.9"} <= set(logged[0])
    lines = [json.loads(x) for x in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines if "loss" in r] == [2, 4, 6]
    assert [r["eval_accuracy"] for r in lines if "eval_accuracy" in r] == [metrics["eval_accuracy"]] * 2
    # the constraint's held-out rows (10% of each group x label cell) are not trained on
    assert len(trainer.train_dataset) + len(trainer.fairness_hold[0]) == 96


def test_no_fairness_is_the_plain_trainer_loss(root, tmp_path):
    """With no fairness section the objective is the weighted cross-entropy the model's own
    loss computes: same weights as transformers.Trainer after a few steps."""
    from transformers import Trainer, TrainingArguments

    fair = _trainer(root, tmp_path / "fair", fairness={})
    fair.train()
    model, tokenizer, train, _ = jobs.trainer_inputs(root)
    args = TrainingArguments(output_dir=str(tmp_path / "plain"), per_device_train_batch_size=16,
                             max_steps=6, learning_rate=3e-3, seed=0, report_to=[], use_cpu=True,
                             disable_tqdm=True, save_strategy="no")
    Trainer(model=model, args=args, train_dataset=train, processing_class=tokenizer).train()
    plain = dict(model.named_parameters())
    for name, p in fair.model.named_parameters():
        if not name.endswith("attention.self.key.bias"):  # zero true gradient: rounding noise
            np.testing.assert_allclose(p.detach().numpy(), plain[name].detach().numpy(), atol=1e-5,
                                       err_msg=name)


def test_resume_restores_multipliers_and_adversary(root, tmp_path):
    from transformers import TrainerCallback

    class StopAfter(TrainerCallback):
        """Ends the run after step 4 (once its checkpoint is written), as a crash would."""

        def on_step_end(self, args, state, control, **kw):
            control.should_training_stop = state.global_step == 4

    def run(out: Path, resume: bool = False, **kw):
        trainer = _trainer(root, out, fairness=jobs.TRAINER_FAIRNESS, steps=8, save_steps=4, **kw)
        trainer.train(resume_from_checkpoint=resume or None)
        return trainer

    full = run(tmp_path / "full")
    cut = run(tmp_path / "cut", callbacks=[StopAfter()])
    assert cut.state.global_step == 4 and (tmp_path / "cut" / "checkpoint-4" / "fairslm_state.json").exists()
    resumed = run(tmp_path / "cut", resume=True)
    assert resumed.fairness_objective.lagrangian.multipliers == pytest.approx(
        full.fairness_objective.lagrangian.multipliers, abs=1e-7)
    assert resumed.fairness_dual_updates == full.fairness_dual_updates == 4
    for (name, p), q in zip(full.model.named_parameters(), resumed.model.parameters(), strict=True):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), atol=1e-6, err_msg=name)
    adv_full = full.fairness_objective.adversary.state_dict()
    for k, v in resumed.fairness_objective.adversary.state_dict().items():
        np.testing.assert_allclose(v.numpy(), adv_full[k].numpy(), atol=1e-6, err_msg=k)


# peft reads transformers' deprecated `is_gradient_checkpointing`; harmless here
@pytest.mark.filterwarnings("ignore:.*is_gradient_checkpointing.*:FutureWarning")
def test_lora_decoder_through_label_words(tmp_path):
    import datasets
    import peft
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainingArguments

    from fairslm.training import FairnessTrainer
    from fairslm.training._model import quiet_transformers

    lora_tests = importlib.util.spec_from_file_location("test_train_lora", HERE / "test_train_lora.py")
    mod = importlib.util.module_from_spec(lora_tests)
    lora_tests.loader.exec_module(mod)
    path = mod.build_tiny_llama(tmp_path / "llama")
    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path)
    model = peft.get_peft_model(model, peft.LoraConfig(r=4, lora_alpha=8, task_type="CAUSAL_LM",
                                                       target_modules=["q_proj", "v_proj"]))
    rows = tt.toy_rows(64, 0)
    ds = datasets.Dataset.from_dict({"text": [f"{t} Answer:" for t in rows["text"]], "gender": rows["gender"],
                                     "label": [int(x == "surgeon") for x in rows["label"]]})
    ds = ds.map(lambda b: tokenizer(b["text"]), batched=True)
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    args = TrainingArguments(output_dir=str(tmp_path / "out"), per_device_train_batch_size=16,
                             max_steps=4, learning_rate=1e-2, report_to=[], use_cpu=True,
                             disable_tqdm=True, save_strategy="no", logging_steps=1)
    trainer = FairnessTrainer(model=model, args=args, train_dataset=ds, processing_class=tokenizer,
                              group_column="gender", label_words=["nurse", "surgeon"],
                              fairness={"penalty": {"criterion": "equal_opportunity"},
                                        "constraints": {"targets": ["equal_opportunity ratio >= 0.8"],
                                                        "update_every": 2}})
    trainer.train()
    logged = [r for r in trainer.state.log_history if "loss" in r]
    assert len(logged) == 4 and all(np.isfinite(r["penalty"]) for r in logged)
    assert trainer.fairness_dual_updates == 2
    assert all(np.array_equal(p.detach(), frozen[n]) for n, p in model.named_parameters()
               if not p.requires_grad)


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"group_column": "sex"}, InvalidDataError,
         r"column\(s\) \['sex'\] not found in the training dataset; its columns are: .*gender"),
        ({"fairness": {"penalty": {"criterion": "accuracy"}}}, ConfigError,
         "unknown fairness metric 'accuracy'"),
        ({"fairness": {"penalty": {"wieght": 2}}}, ConfigError, "unknown key 'penalty.wieght'"),
        ({"fairness": {"constraints": {"targets": ["predictive_parity ratio >= 0.9"]}}}, ConfigError,
         "the audit criterion 'predictive_parity' compares precision, which training has no loss for"),
        ({"fairness": {"adversary": {"criterion": "accuracy"}}}, ConfigError,
         "unknown adversary criterion 'accuracy'; the adversary can act on: equal_opportunity"),
        ({"fairness": {"constraints": {"targets": ["equal_opportunity ratio >= 0.9 for F, X"]}}},
         ConfigError, r"names group\(s\) \['X'\] that do not exist"),
        ({"pos_label": "doctor"}, ConfigError, "pos_label 'doctor' is not a label of the model"),
        ({"label_words": ["nurse"]}, ConfigError, "label_words need one word per class"),
    ],
)
def test_bad_trainer_input_is_refused_before_training(root, tmp_path, kw, error, message):
    with pytest.raises(error, match=message):
        _trainer(root, tmp_path / "x", **{"fairness": {"penalty": {}}, **kw})
    assert not (tmp_path / "x").exists()


def test_a_group_without_positives_cannot_have_equal_opportunity(root, tmp_path):
    from transformers import TrainingArguments

    from fairslm.training import FairnessTrainer

    model, tokenizer, train, _ = jobs.trainer_inputs(root)
    train = train.map(lambda r: {"gender": "M" if r["label"] == 1 else r["gender"]})
    args = TrainingArguments(output_dir=str(tmp_path / "x"), report_to=[], use_cpu=True)
    with pytest.raises(InvalidDataError, match="group 'F' has no rows with true label 'surgeon'"):
        FairnessTrainer(model=model, args=args, train_dataset=train, group_column="gender",
                        fairness={"constraints": {"targets": ["equal_opportunity ratio >= 0.9"]}})


def test_world_size_without_a_process_group_is_refused(root, tmp_path, monkeypatch):
    from transformers import TrainingArguments

    from fairslm.training import FairnessTrainer

    model, tokenizer, train, _ = jobs.trainer_inputs(root)
    args = TrainingArguments(output_dir=str(tmp_path / "x"), report_to=[], use_cpu=True)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="WORLD_SIZE=2 .* no process group is open"):
        FairnessTrainer(model=model, args=args, train_dataset=train, group_column="gender",
                        fairness={"penalty": {}})
