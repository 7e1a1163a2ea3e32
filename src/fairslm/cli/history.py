"""``fairslm history``: list recorded audits, or a criterion's value over time for a model."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import fail, files


def register(app: typer.Typer) -> None:
    app.command("history")(history_command)


@files(inputs=["db"], outputs={"plot": "file"})
def history_command(
    db: Path = typer.Option(Path("fairslm-history.db"), "--db", help="History file."),
    model: str | None = typer.Option(None, "--model", "-m", help="Only this model's audits."),
    criterion: str | None = typer.Option(
        None, "--criterion", "-c", help="Show this criterion over time (needs --model)."
    ),
    view: str | None = typer.Option(None, "--view", help="Grouping to show (default: first)."),
    plot: Path | None = typer.Option(None, "--plot", help="Write an SVG plot of the trend."),
) -> None:
    """List audits, or with --model and --criterion a criterion's ratio over time."""
    from fairslm.governance import list_audits, trend, write_trend_svg
    from fairslm.reporting.terminal import print_audit_list, print_trend

    if criterion is None:
        if plot is not None:
            fail("--plot needs --model and --criterion")
        print_audit_list(list_audits(db, model), db)
        return
    if model is None:
        fail("--criterion needs --model NAME: a trend is for one model")
    data = trend(db, model, criterion, view=view, svg=plot is not None)
    print_trend(data, model=model, criterion=criterion)
    if plot is not None:
        typer.echo(f"wrote {write_trend_svg(data['svg'], plot)}")
