"""``fairslm train``: fine-tune a classifier under fairness penalties or constraints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer

from fairslm.cli._app import EXIT_FAIL, EXIT_OK, fail, files
from fairslm.cli._renamed import renamed_option


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)


@files(inputs=["config"], outputs={"out": "workdir", "output_dir": "workdir"}, staged=False)
def train_command(
    config: Path = typer.Option(..., "--config", "-c", help="TOML file with the run configuration."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the newest checkpoint."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output directory."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output directory (overrides output_dir)."),
    set_: list[str] = typer.Option([], "--set", help="Override a config key: KEY=VALUE (dotted keys, JSON values)."),
    nproc: int = typer.Option(1, "--nproc", min=1,
                              help="Train with N processes on this machine (torchrun DDP: one per GPU, "
                                   "or gloo on CPUs); batch_size stays the global batch."),
    backend: str | None = typer.Option(None, "--backend",
                                       help="Process group backend with --nproc or under torchrun: nccl "
                                            "(GPUs; the default when there are any) or gloo (CPUs)."),
    output_dir: Path | None = typer.Option(None, "--output-dir", hidden=True),
) -> None:
    """Fine-tune; exit 0 when done (and constraints met on validation), 1 when no checkpoint met them.

    Under torchrun (torchrun --nproc_per_node N -m fairslm train ...) every process trains its
    share of each batch and rank 0 writes; the exit code is then 0 once training is done (read
    selection.feasible in fairslm.json), since torchrun takes any other code for a crash.
    """
    from fairslm._config import parse_overrides
    from fairslm.training import check_train, train

    overrides = parse_overrides(set_)
    out = renamed_option(out, output_dir, new="--out", old="--output-dir", default=None)
    if out is not None:
        overrides["output_dir"] = out
    if nproc > 1:
        _launch(config, nproc, resume=resume, overwrite=overwrite, set_=set_, overrides=overrides,
                backend=backend, check=check_train)
    result = train(config, resume=resume, overwrite=overwrite, backend=backend, **overrides)
    under_torchrun = result.world_size > 1
    if int(os.environ.get("RANK", "0")) != 0:
        raise typer.Exit(EXIT_OK)
    where = f" on {result.world_size} processes" if under_torchrun else ""
    typer.echo(f"trained {result.steps} steps{where} in {result.train_time_s:.1f} s "
               f"({result.mean_step_time_s * 1000:.0f} ms/step); model in {result.output_dir}")
    from fairslm.reporting import format_number

    verdicts = result.validation.get("verdicts", {})
    for k, v in result.validation.items():
        if isinstance(v, float):
            # A ratio from groups too small to judge is shown as such, never as a bare number.
            word = f" ({verdicts[k]})" if verdicts.get(k) in ("insufficient", "undefined") else ""
            typer.echo(f"  validation {k}: {format_number(v, 4)}{word}")
    for k, v in result.validation.get("constraints", {}).items():
        typer.echo(f"  constraint {k}: measured {v:.4f}")
    if result.feasible is False:
        typer.echo("no checkpoint met the constraints on validation data; kept the least violating")
        raise typer.Exit(EXIT_OK if under_torchrun else EXIT_FAIL)
    raise typer.Exit(EXIT_OK)


def _launch(config: Path, nproc: int, *, resume: bool, overwrite: bool, set_: list[str],
            overrides: dict[str, Any], backend: str | None, check: Any) -> NoReturn:
    """Check the run here, then train it under ``torchrun --standalone`` with ``nproc`` ranks."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        fail("--nproc starts torchrun itself; under torchrun, leave --nproc out")
    cfg = check(config, resume=resume, overwrite=overwrite, nproc=nproc, backend=backend, **overrides)
    # One node: the rendezvous store listens on loopback only.
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           str(nproc), "--local-addr", "127.0.0.1", "-m", "fairslm", "train", "--config", str(config),
           "--out", str(cfg.output_dir), *[f"--set={s}" for s in set_],
           *(["--resume"] if resume else []), *(["--overwrite"] if overwrite else []),
           *(["--backend", backend] if backend else [])]
    code = subprocess.call(cmd)
    if code != 0:
        fail(f"training stopped: torchrun exited with code {code} (see the messages above)", code=code)
    meta = json.loads((Path(cfg.output_dir) / "fairslm.json").read_text())
    raise typer.Exit(EXIT_FAIL if meta["selection"]["feasible"] is False else EXIT_OK)
