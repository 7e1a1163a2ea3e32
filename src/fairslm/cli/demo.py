"""``fairslm demo``: the whole pipeline offline on the synthetic hiring corpus."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fairslm.cli._app import EXIT_FAIL, EXIT_OK, files


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


@files(outputs={"out": "workdir"}, staged=False)
def demo_command(
    out: Path = typer.Option(Path("fairslm-demo"), "--out", "-o", help="Output folder."),
    force: bool = typer.Option(False, "--force", help="Recompute every step, ignoring the cache."),
    seed: int = typer.Option(0, "--seed", help="Seed of both fine-tunes and of the bootstrap (the corpus stays the same)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run's result as JSON."),
) -> None:
    """Fine-tune the packaged MiniLM on biased synthetic hiring data, then again with
    debiasing and fairness constraints; audit both and write report.html."""
    from fairslm.pipeline import run_demo
    from fairslm.reporting import RunProgress, print_run_summary

    if as_json:
        result = run_demo(out, force=force, seed=seed)
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        with RunProgress() as progress:
            result = run_demo(out, force=force, progress=progress, seed=seed)
        print_run_summary(result.to_dict())
        if "html" in result.report:
            typer.echo(f"\nOpen the report: {result.report['html'].resolve()}")
    raise typer.Exit(EXIT_OK if result.passed else EXIT_FAIL)
