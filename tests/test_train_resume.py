"""Resuming from a checkpoint reaches the same weights as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from fairslm.training import train

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def _load(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


tt = _load("test_train")

FAIR = {
    "penalty": {"criterion": "equalized_odds", "weight": 1.0},
    "constraints": {"targets": ["equal_opportunity ratio >= 0.9"], "update_every": 2},
    "adversary": {"criterion": "equalized_odds", "alpha": 0.5},
    "gradient_accumulation": 2,
    "eval_every": 3,
    "checkpoint_every": 2,
}


def _same_weights(a: Path, b: Path) -> None:
    from safetensors.numpy import load_file

    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_allclose(wa[k], wb[k], rtol=0, atol=1e-6, err_msg=k)


def _log_without_times(path: Path) -> list[dict]:
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    for r in rows:
        r.pop("step_time", None)
    return rows


def test_resume_after_interruption_in_process(tiny_bert, tmp_path, monkeypatch):
    tr, va = tt.toy_rows(96, 0), tt.toy_rows(48, 1)
    full = train(tt.base(tiny_bert, tmp_path / "full", **FAIR), train_data=tr, validation_data=va)

    from fairslm.training import _loop

    real = _loop.save_checkpoint

    def crash_after_step_6(root, step, **kw):
        path = real(root, step, **kw)
        if step == 6:
            raise KeyboardInterrupt  # stands in for a crash right after the checkpoint
        return path

    monkeypatch.setattr(_loop, "save_checkpoint", crash_after_step_6)
    cfg = tt.base(tiny_bert, tmp_path / "cut", **FAIR)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, train_data=tr, validation_data=va)
    monkeypatch.setattr(_loop, "save_checkpoint", real)
    resumed = train(cfg, train_data=tr, validation_data=va, resume=True)
    assert resumed.resumed_from == 6 and resumed.steps == full.steps
    _same_weights(full.output_dir, resumed.output_dir)
    assert _log_without_times(full.log_path) == _log_without_times(resumed.log_path)
    assert resumed.candidates == full.candidates


SCRIPT = textwrap.dedent(
    """
    import sys, time
    from fairslm.training import _loop
    real = _loop._Log.write
    def write(self, record):
        real(self, record)
        if record.get("step") == {stop} and "event" not in record:
            print("READY", flush=True)
            time.sleep(600)
    _loop._Log.write = write
    from fairslm.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


@pytest.mark.slow
def test_kill_9_mid_epoch_then_resume_matches_uninterrupted(tiny_bert, tmp_path):
    tr, va = tt.toy_rows(96, 0), tt.toy_rows(48, 1)
    for name, rows in (("train", tr), ("validation", va)):
        with (tmp_path / f"{name}.jsonl").open("w") as fh:
            for t, lab, g in zip(rows["text"], rows["label"], rows["gender"], strict=True):
                fh.write(json.dumps({"text": t, "label": lab, "gender": g}) + "\n")
    cfg = tt.base(tiny_bert, "out", **FAIR)
    lines = [f"{k} = {json.dumps(v)}" for k, v in cfg.items() if not isinstance(v, dict)]
    for section in ("data", "penalty", "constraints", "adversary"):
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in cfg[section].items()]
    lines[lines.index("[data]") + 1 : lines.index("[data]") + 1] = [
        'train = "train.jsonl"', 'validation = "validation.jsonl"']
    (tmp_path / "train.toml").write_text("\n".join(lines) + "\n")
    (tmp_path / "run.py").write_text(SCRIPT.replace("{stop}", "7"))
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    args = ["--config", str(tmp_path / "train.toml")]

    # 12 batches / 2 accumulated = 6 steps an epoch: step 7 is in epoch 2, after checkpoint 6
    proc = subprocess.Popen([sys.executable, str(tmp_path / "run.py"), "train", *args, "-o",
                             str(tmp_path / "cut")], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "cut" / "model.safetensors").exists()
    assert sorted(p.name for p in (tmp_path / "cut" / "checkpoints").iterdir()) == ["step-00000004", "step-00000006"]

    cli = [sys.executable, "-m", "fairslm", "train", *args]
    done = subprocess.run([*cli, "-o", str(tmp_path / "cut"), "--resume"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    train(tmp_path / "train.toml", output_dir=tmp_path / "full")  # uninterrupted, in process
    _same_weights(tmp_path / "full", tmp_path / "cut")
    assert _log_without_times(tmp_path / "full" / "train_log.jsonl") == _log_without_times(
        tmp_path / "cut" / "train_log.jsonl")
    meta = json.loads((tmp_path / "cut" / "fairslm.json").read_text())
    assert meta["training"]["resumed_from"] == 6
