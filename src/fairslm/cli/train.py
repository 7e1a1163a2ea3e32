"""``fairslm train``: fine-tune a classifier under fairness penalties or constraints."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import EXIT_FAIL, EXIT_OK, user_errors


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)


@user_errors
def train_command(
    config: Path = typer.Option(..., "--config", "-c", help="TOML file with the run configuration."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the newest checkpoint."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output directory."),
    output_dir: Path | None = typer.Option(None, "--output-dir", "-o", help="Override output_dir."),
    set_: list[str] = typer.Option([], "--set", help="Override a config key: KEY=VALUE (dotted keys, JSON values)."),
) -> None:
    """Fine-tune; exit 0 when done (and constraints met on validation), 1 when no checkpoint met them."""
    from fairslm._config import parse_overrides
    from fairslm.training import train

    overrides = parse_overrides(set_)
    if output_dir is not None:
        overrides["output_dir"] = output_dir
    result = train(config, resume=resume, overwrite=overwrite, **overrides)
    typer.echo(f"trained {result.steps} steps in {result.train_time_s:.1f} s "
               f"({result.mean_step_time_s * 1000:.0f} ms/step); model in {result.output_dir}")
    for k, v in result.validation.items():
        if isinstance(v, float):
            typer.echo(f"  validation {k}: {v:.4f}")
    for k, v in result.validation.get("constraints", {}).items():
        typer.echo(f"  constraint {k}: measured {v:.4f}")
    if result.feasible is False:
        typer.echo("no checkpoint met the constraints on validation data; kept the least violating")
        raise typer.Exit(EXIT_FAIL)
    raise typer.Exit(EXIT_OK)
