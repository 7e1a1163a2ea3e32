"""``fairslm sweep``: one fine-tune per grid point, and the accuracy-fairness Pareto front."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fairslm.cli._app import EXIT_OK, user_errors


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_command)


@user_errors
def sweep_command(
    config: Path = typer.Option(..., "--config", "-c", help="TOML file with the shared run configuration."),
    grid: list[str] = typer.Option(..., "--grid", "-g",
                                   help="KEY=V1,V2,... or KEY=[JSON list]; repeat for a product grid."),
    fairness: str = typer.Option("equal_opportunity", "--fairness",
                                 help="Audit criterion whose validation ratio is the fairness axis."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing run directories."),
    output_dir: Path | None = typer.Option(None, "--output-dir", "-o", help="Root of the runs (overrides output_dir)."),
    set_: list[str] = typer.Option([], "--set", help="Override a shared config key: KEY=VALUE."),
) -> None:
    """Train once per grid point; print validation accuracy and fairness, marking the Pareto front.

    Writes each run to <output_dir>/NN-<overrides>/ and the summary to <output_dir>/sweep.json.
    Constraint targets may be given as plain strings: --grid 'constraints.targets=["equal_opportunity
    ratio >= 0.8", "equal_opportunity ratio >= 0.9"]'.
    """
    from fairslm._config import parse_grid, parse_overrides
    from fairslm.training import load_train_config, sweep

    values = parse_grid(grid)
    overrides = parse_overrides(set_)
    if output_dir is not None:
        overrides["output_dir"] = output_dir
    base = load_train_config(config, **overrides)
    results = sweep(base, values, fairness=fairness, overwrite=overwrite)
    summary = json.loads((Path(base.output_dir) / "sweep.json").read_text())
    front = set(summary["pareto_front"])
    typer.echo(f"{len(results)} runs; validation accuracy and {fairness} ratio (* = on the Pareto front)")
    for i, run in enumerate(summary["runs"]):
        over = ", ".join(f"{k}={v}" for k, v in run["overrides"].items())
        feasible = {True: "meets targets", False: "misses targets", None: ""}[run["feasible"]]
        typer.echo(f"{'*' if i in front else ' '} {i:2d}  acc {run['accuracy']:.4f}  "
                   f"{fairness} {run['fairness']:.4f}  {over}  {feasible}".rstrip())
    typer.echo(f"summary: {Path(base.output_dir) / 'sweep.json'}")
    raise typer.Exit(EXIT_OK)
