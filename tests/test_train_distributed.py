"""fairslm.train under torchrun DDP (2 ranks, gloo, loopback) against one process.

One torchrun launch trains every config of ``distributed_jobs.CONFIGS`` (module fixture); the
tests compare its outputs with single-process runs of the same configs and global batches. The
tiny BERT has no dropout: with dropout, each rank draws its own masks and no two runs match.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fairslm.exceptions import ConfigError
from fairslm.training import check_train, train

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


_spec = importlib.util.spec_from_file_location("distributed_jobs", HERE / "distributed_jobs.py")
jobs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(jobs)
tt = jobs.load_test_train()
ENV = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
       "MASTER_ADDR": "127.0.0.1", "GLOO_SOCKET_IFNAME": "lo"}


def torchrun(*args: str, **kw) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "--local-addr", "127.0.0.1", *args]
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A dropout-free tiny BERT and the toy data, as files every rank reads."""
    return jobs.write_toy_files(tmp_path_factory.mktemp("ddp"))


@pytest.fixture(scope="module")
def ddp_runs(root) -> Path:
    done = torchrun(str(HERE / "distributed_jobs.py"), "equivalence", str(root))
    assert done.returncode == 0, done.stderr[-3000:]
    return root


def _weights(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(path / "model.safetensors"))


def _steps(path: Path) -> list[dict]:
    rows = [json.loads(x) for x in (path / "train_log.jsonl").read_text().splitlines()]
    return [r for r in rows if "event" not in r]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(jobs.CONFIGS))
def test_two_ranks_train_the_one_process_objective(ddp_runs, tmp_path, name):
    one = train(jobs.config(name, ddp_runs / "model", tmp_path / name))
    two = ddp_runs / f"ddp-{name}"
    w1, w2 = _weights(one.output_dir), _weights(two)
    for k in w1:
        if k.endswith("attention.self.key.bias"):
            # Adding b to every key shifts a query's scores by one constant, which the softmax
            # ignores: the true gradient is 0, and AdamW turns the rounding noise left in its
            # place (different matmul shapes on 1 vs 2 ranks) into steps of ~lr. No two
            # implementations agree on these, so they are bounded, not compared.
            assert np.abs(w2[k]).max() < 1e-3 and np.abs(w1[k]).max() < 1e-3
            continue
        np.testing.assert_allclose(w2[k], w1[k], rtol=0, atol=1e-5, err_msg=k)
    s1, s2 = _steps(one.output_dir), _steps(two)
    assert len(s1) == len(s2) == 20
    for a, b in zip(s1, s2, strict=True):
        for key in ("loss", "task_loss", "penalty", "constraint_penalty", "adversary_loss"):
            assert b[key] == pytest.approx(a[key], abs=1e-5), (a["step"], key)
        for key in ("multipliers", "group_rates", "constraints"):
            assert (key in a) == (key in b)
        if "multipliers" in a:
            assert b["multipliers"] == pytest.approx(a["multipliers"], abs=1e-5)
        if "constraints" in a:
            assert b["constraints"] == pytest.approx(a["constraints"], abs=1e-9)
        if "group_rates" in a:
            for m in a["group_rates"]:
                assert b["group_rates"][m] == pytest.approx(a["group_rates"][m], abs=1e-6, nan_ok=True)
    meta1 = json.loads((one.output_dir / "fairslm.json").read_text())
    meta2 = json.loads((two / "fairslm.json").read_text())
    assert meta1["training"]["world_size"] == 1 and meta1["training"]["backend"] is None
    assert meta2["training"]["world_size"] == 2 and meta2["training"]["backend"] == "gloo"
    # the validation audit of the 2-rank run is that of all validation rows
    assert meta2["validation"].pop("constraints", None) == meta1["validation"].pop("constraints", None)
    assert meta2["validation"].pop("verdicts") == meta1["validation"].pop("verdicts")
    assert meta2["validation"] == pytest.approx(meta1["validation"], abs=1e-9)
    assert [c["step"] for c in meta2["selection"]["candidates"]] == [
        c["step"] for c in meta1["selection"]["candidates"]]


@pytest.mark.slow
def test_a_group_on_one_rank_gets_its_global_rate(ddp_runs):
    """Group 1 has rows on rank 0's shard only; both ranks still hold the batch's rates."""
    per_rank = json.loads((ddp_runs / "group_on_one_rank.json").read_text())
    one = jobs.group_on_one_rank(0, 1)
    for r, got in enumerate(per_rank):
        for m, rates in one["rates"].items():
            assert got["rates"][m] == pytest.approx(rates, abs=1e-6, nan_ok=True)
        assert got["penalty"] == pytest.approx(one["penalty"], abs=1e-6)
        assert got["constraint"] == pytest.approx(one["constraint"], abs=1e-9)
        assert got["multipliers"] == pytest.approx(one["multipliers"], abs=1e-9)
        assert got["adversary_loss"] == pytest.approx(one["adversary_loss"], abs=1e-6)
        assert got["adversary_accuracy"] == pytest.approx(one["adversary_accuracy"], abs=1e-9)
        # each rank's gradient is world_size times its rows' share of the global one, which
        # DistributedDataParallel's averaging over the 2 ranks divides back out
        assert np.asarray(got["score_grad"]) / 2 == pytest.approx(one["score_grad"][r::2], abs=1e-6)
    # by hand: group 1 (rows 0, 2) has true positives only, both predicted positive
    assert one["rates"]["true_positive_rate"][1] == pytest.approx((0.9 + 0.7) / 2)


def _toml(cfg: dict, path: Path) -> Path:
    lines = [f"{k} = {json.dumps(v)}" for k, v in cfg.items() if not isinstance(v, dict)]
    for section, values in cfg.items():
        if isinstance(values, dict):
            lines.append(f"[{section}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.slow
def test_kill_9_of_the_whole_job_then_resume_on_two_ranks(ddp_runs, tmp_path):
    _toml(jobs.config("all", ddp_runs / "model", ddp_runs / "cut"), tmp_path / "all.toml")

    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "--local-addr", "127.0.0.1", str(HERE / "distributed_jobs.py"), "stop-at", str(ddp_runs), "7"]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "READY"  # rank 0 logged step 7; 6 is on disk
    finally:
        # the whole job at once: torchrun, and the ranks it started in sessions of their own
        pids = [int(p.read_text()) for p in (ddp_runs / "pids").glob("*")]
        os.killpg(proc.pid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stdout.close()
    assert len(pids) == 2
    cut = ddp_runs / "cut"
    assert not (cut / "model.safetensors").exists()
    assert sorted(p.name for p in (cut / "checkpoints").iterdir()) == ["step-00000004", "step-00000006"]

    # fairslm train --nproc checks the run, then starts torchrun -m fairslm train --resume
    done = subprocess.run([sys.executable, "-m", "fairslm", "train", "--nproc", "2", "--config",
                           str(tmp_path / "all.toml"), "--resume"], env=ENV, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "trained 20 steps" in done.stdout and "2 processes" in done.stdout
    uninterrupted = ddp_runs / "ddp-all"
    w1, w2 = _weights(uninterrupted), _weights(cut)
    for k in w1:
        np.testing.assert_allclose(w2[k], w1[k], rtol=0, atol=1e-6, err_msg=k)
    strip = [{k: v for k, v in r.items() if k != "step_time"} for r in _steps(uninterrupted)]
    assert [{k: v for k, v in r.items() if k != "step_time"} for r in _steps(cut)] == strip
    meta = json.loads((cut / "fairslm.json").read_text())
    assert meta["training"]["resumed_from"] == 6 and meta["training"]["world_size"] == 2


def test_bad_world_sizes_are_refused_before_training(root, tmp_path):
    cfg = jobs.config("plain", root / "model", tmp_path / "x")
    with pytest.raises(ConfigError, match=r"batch_size = 8 is the global batch, shared by 9 processes"):
        check_train(cfg, nproc=9)
    # the smallest (group, label) cell of the toy data: female surgeons
    rows = tt.toy_rows(96, 0)
    smallest = sum(1 for lab, g in zip(rows["label"], rows["gender"], strict=True)
                   if lab == "surgeon" and g == "F")
    with pytest.raises(ConfigError, match=rf"smallest \(group, label\) cell, group 'F' with label "
                       rf"'surgeon', has only {smallest} training rows"):
        check_train({**cfg, "batch_size": 64}, nproc=smallest + 1)
    assert check_train(cfg, nproc=2).batch_size == 8
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="backend 'nccl' needs GPUs and none is visible"):
            check_train(cfg, nproc=2, backend="nccl")
    with pytest.raises(ConfigError, match="unknown backend 'mpi'"):
        check_train(cfg, nproc=2, backend="mpi")
    assert not (tmp_path / "x").exists()


def test_nccl_needs_a_gpu_per_process(root, tmp_path, monkeypatch):
    """On a machine with one GPU, NCCL (the default there) is refused for 2 processes."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    cfg = jobs.config("plain", root / "model", tmp_path / "x")
    for backend in (None, "nccl"):
        with pytest.raises(ConfigError, match=r"2 processes on this machine but 1 GPU\(s\): NCCL runs "
                           r"one process per GPU. Start 1, or use --backend gloo"):
            check_train(cfg, nproc=2, backend=backend)
    assert check_train(cfg, nproc=2, backend="gloo").batch_size == 8
    assert not (tmp_path / "x").exists()


def test_cli_nproc_refuses_bad_runs_before_starting_processes(root, tmp_path, capsys, monkeypatch):
    from fairslm.cli import main

    toml = _toml(jobs.config("plain", root / "model", tmp_path / "x"), tmp_path / "plain.toml")
    assert main(["train", "--config", str(toml), "--nproc", "9"]) == 2
    assert "shared by 9 processes" in capsys.readouterr().err
    assert main(["train", "--config", str(toml), "--nproc", "0"]) == 2
    assert main(["train", "--config", str(toml), "--nproc", "2", "--backend", "mpi"]) == 2
    assert "unknown backend 'mpi'" in capsys.readouterr().err
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["train", "--config", str(toml), "--nproc", "2"]) == 2
    assert "under torchrun, leave --nproc out" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def _same_weights_but_key_biases(a: dict, b: dict, atol: float) -> None:
    for k in a:
        if not k.endswith("attention.self.key.bias"):  # see above: their true gradient is 0
            np.testing.assert_allclose(b[k], a[k], rtol=0, atol=atol, err_msg=k)


@pytest.mark.slow
def test_fairness_trainer_on_two_ranks_matches_one_process(ddp_runs, tmp_path):
    """The same Trainer script in a plain process (batch 16) and under torchrun (2 x 8)."""
    one = jobs.trainer_run(ddp_runs, tmp_path / "one", per_device_batch=jobs.TRAINER_BATCH)
    two = json.loads((ddp_runs / "trainer-ddp.json").read_text())
    _same_weights_but_key_biases(_weights(tmp_path / "one" / "final"),
                                 _weights(ddp_runs / "trainer-ddp" / "final"), atol=1e-5)
    assert two["multipliers"] == pytest.approx(one["multipliers"], abs=1e-6)
    assert max(one["multipliers"].values()) > 0  # the constraint did bind
    for a, b in zip(one["log"], two["log"], strict=True):
        for key in ("loss", "task_loss", "penalty", "constraint_penalty", "adversary_loss"):
            assert b[key] == pytest.approx(a[key], abs=1e-5), (a["step"], key)
    for key in ("eval_accuracy", "eval_statistical_parity", "eval_equal_opportunity"):
        assert two["metrics"][key] == pytest.approx(one["metrics"][key], abs=1e-9)
    assert one["metrics"]["eval_accuracy"] > 0.75  # the job words give the label away


@pytest.mark.slow
@pytest.mark.spark
# pyspark's TorchDistributor reads its torchrun's stdout pipe and leaves closing it to the
# garbage collector
@pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")
def test_spark_torch_distributor_runs_fairslm_train(spark, root, tmp_path, monkeypatch):
    """The cluster route of the docs, locally: TorchDistributor starts 2 gloo ranks on the driver
    and each runs fairslm.train."""
    pytest.importorskip("pyspark")
    from pyspark.ml.torch.distributor import TorchDistributor

    import fairslm

    for key, value in ENV.items():
        if key in ("PYTHONPATH", "OMP_NUM_THREADS", "MASTER_ADDR", "GLOO_SOCKET_IFNAME"):
            monkeypatch.setenv(key, value)
    cfg = {**jobs.config("penalty", root / "model", tmp_path / "spark"), "max_steps": 4}
    result = TorchDistributor(num_processes=2, local_mode=True, use_gpu=False).run(fairslm.train, cfg)
    assert result.world_size == 2 and result.steps == 4
    meta = json.loads((tmp_path / "spark" / "fairslm.json").read_text())
    assert meta["training"]["world_size"] == 2 and meta["training"]["backend"] == "gloo"
