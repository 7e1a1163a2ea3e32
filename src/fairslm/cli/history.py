"""``fairslm history``: list recorded audits, or a criterion's value over time for a model."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import fail, user_errors


def register(app: typer.Typer) -> None:
    app.command("history")(history_command)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


@user_errors
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
    from rich.console import Console
    from rich.table import Table

    from fairslm.governance import list_audits, trend, write_trend_svg

    console = Console()
    if criterion is None:
        if plot is not None:
            fail("--plot needs --model and --criterion")
        records = list_audits(db, model)
        table = Table(title=f"audits in {db}")
        for col in ("id", "time (UTC)", "model", "fingerprint", "dataset", "result", "failing"):
            table.add_column(col)
        for r in records:
            result = "n/a" if r.passed is None else ("pass" if r.passed else "[bold red]fail[/]")
            table.add_row(str(r.id), f"{r.recorded_at:%Y-%m-%d %H:%M}", r.model,
                          (r.model_fingerprint or "")[:12], (r.dataset_hash or "")[:12], result,
                          ", ".join(r.failing))
        console.print(table)
        return
    if model is None:
        fail("--criterion needs --model NAME: a trend is for one model")
    data = trend(db, model, criterion, view=view, svg=plot is not None)
    table = Table(title=f"{criterion} of {model} over time")
    for col in ("audit", "time (UTC)", "view", "ratio", "interval", "verdict", "worst group"):
        table.add_column(col)
    for p in data["points"]:
        ci = "" if p["ci_low"] is None else f"[{p['ci_low']:.3f}, {p['ci_high']:.3f}]"
        view_name = p["view"] if p["class"] is None else f"{p['view']} (class {p['class']})"
        table.add_row(str(p["audit_id"]), p["time"][:16].replace("T", " "), view_name,
                      _fmt(p["ratio"]), ci, p["verdict"], p["worst_group"] or "")
    console.print(table)
    if plot is not None:
        console.print(f"wrote {write_trend_svg(data['svg'], plot)}")
