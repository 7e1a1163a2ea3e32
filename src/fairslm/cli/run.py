"""``fairslm run``: run a pipeline file end to end."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fairslm.cli._app import EXIT_FAIL, EXIT_OK, files


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)


@files(inputs=["pipeline"], outputs={"out": "workdir"}, staged=False)
def run_command(
    pipeline: Path = typer.Argument(..., help="The pipeline file (TOML)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (overrides `output`)."),
    force: bool = typer.Option(False, "--force", help="Recompute every step, ignoring the cache."),
    as_json: bool = typer.Option(False, "--json", help="Print the run's result as JSON."),
) -> None:
    """Run data audit -> baseline -> audit -> debias -> train -> post-process -> audit ->
    compare -> report. Exit 0 when the final model meets the policy, 1 when it does not."""
    from fairslm.pipeline import run_pipeline
    from fairslm.reporting import RunProgress, print_run_summary

    if as_json:
        result = run_pipeline(pipeline, output=out, force=force)
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        with RunProgress() as progress:
            result = run_pipeline(pipeline, output=out, force=force, progress=progress)
        print_run_summary(result.to_dict())
    raise typer.Exit(EXIT_OK if result.passed else EXIT_FAIL)
