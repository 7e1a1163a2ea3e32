"""``fairslm report``: build report.json and report.html from result files."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import files


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)


@files(inputs=["inputs"], outputs={"out": "folder"})
def report_command(
    inputs: list[str] = typer.Argument(
        ..., help="Result files: audit.json (as NAME=PATH to name the model), data audit, "
                  "counterfactual, generation audit, comparison, compliance.json, or one "
                  "report.json to render again."
    ),
    out: Path = typer.Option(Path("."), "--out", "-o", help="Folder for report.json/report.html."),
    title: str | None = typer.Option(None, "--title", help="Title of the report."),
    final: str | None = typer.Option(None, "--final", help="The model the verdict is about."),
) -> None:
    """Write report.json and a self-contained report.html."""
    from fairslm.reporting import report_from_files, write_report

    report = report_from_files(inputs, title=title, **({"final": final} if final else {}))
    for kind, path in write_report(report, out).items():
        typer.echo(f"wrote {path} ({kind})")
