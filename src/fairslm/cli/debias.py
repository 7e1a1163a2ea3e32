"""``fairslm debias``: write a debiased copy of a training data file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fairslm.cli._app import EXIT_OK, fail, user_errors
from fairslm.cli._engine import engine_option, spark_for, spark_master_option


def register(app: typer.Typer) -> None:
    app.command("debias")(debias_command)


@user_errors
def debias_command(
    path: Path = typer.Argument(..., help="Training data: CSV, Parquet or JSON Lines."),
    method: list[str] = typer.Option(
        [], "--method", "-m", help="reweigh, resample or augment; repeat to chain, in order."
    ),
    config: Path | None = typer.Option(None, "--config", help="TOML file with [[steps]] tables."),
    text: str | None = typer.Option(None, "--text", help="Column with the texts (augment)."),
    label: str = typer.Option(..., "--label", help="Column with the labels."),
    sensitive: str = typer.Option(..., "--sensitive", help="Comma-separated sensitive columns."),
    weight: str | None = typer.Option(None, "--weight", help="Column with existing weights."),
    pos_label: str | None = typer.Option(None, "--pos-label", help="The favourable label."),
    out: Path = typer.Option(
        ..., "--out", "-o",
        help="New data file (.parquet, .csv, .jsonl); with --engine spark a new Parquet folder.",
    ),
    report: Path | None = typer.Option(None, "--report", help="Also write a JSON report here."),
    smoothing: float | None = typer.Option(None, "--smoothing", help="reweigh: pseudo-count."),
    target: str | None = typer.Option(
        None, "--target", help="resample: balanced or pooled_label_rate."
    ),
    resample_mode: str | None = typer.Option(None, "--resample-mode", help="auto, over, under."),
    augment_mode: str | None = typer.Option(None, "--augment-mode", help="cda or cds."),
    p: float | None = typer.Option(None, "--p", help="augment cds: substitution probability."),
    attribute: str | None = typer.Option(None, "--attribute", help="augment: attribute swapped."),
    terms: list[str] = typer.Option(
        [], "--terms", help="augment: term-list file (CSV/YAML); repeat for several."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed of resample and augment."),
    engine: str = engine_option("pandas"),
    spark_master: str | None = spark_master_option(),
) -> None:
    """Reweigh, resample or augment training data; print group label rates before and after."""
    from fairslm.mitigation.preprocessing import DebiasConfig, debias_file, steps_from_options

    if config is not None and method:
        fail("give either --method or --config, not both")
    if config is not None:
        steps: Any = DebiasConfig.from_toml(config)
    elif method:
        steps = steps_from_options(
            method,
            {"smoothing": smoothing, "target": target, "resample_mode": resample_mode,
             "augment_mode": augment_mode, "p": p, "attribute": attribute, "seed": seed,
             "terms": terms or None},
        )
    else:
        fail("no debiasing method; pass --method reweigh|resample|augment (or --config FILE)")
    spark = spark_for(engine, spark_master, local="pandas")
    if spark is not None:
        from fairslm.mitigation.preprocessing import debias_spark

        result = debias_spark(
            str(path), out=out, steps=steps, label=label,
            sensitive=[s.strip() for s in sensitive.split(",") if s.strip()], weight=weight,
            pos_label=pos_label, spark=spark,
        )
    else:
        result = debias_file(
            path,
            out=out,
            steps=steps,
            label=label,
            sensitive=[s.strip() for s in sensitive.split(",") if s.strip()],
            text=text,
            weight=weight,
            pos_label=pos_label,
        )
    if report is not None:
        from fairslm._artifact import write_json_atomic

        write_json_atomic(result.to_dict(), report)
    _render(result)
    typer.echo(f"wrote {out}")
    raise typer.Exit(EXIT_OK)


def _render(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    before, after = result.before, result.after
    label = after.pos_label if after.pos_label is not None else after.classes[-1]
    t = Table(title=f"training data before -> after (label rate of {label!r})")
    for col in ("group", "rows", "weighted share", "label rate", "weighted label rate",
                "weight range"):
        t.add_column(col, justify="left" if col == "group" else "right")
    for ga in after.groups:
        try:
            gb = before.group(ga.group)
            rows_b, share_b = str(gb.rows), f"{gb.weighted_share:.3f}"
            rate_b = f"{gb.label_rates.get(label, 0.0):.3f}"
        except KeyError:
            rows_b = share_b = rate_b = "-"
        t.add_row(
            ga.group,
            f"{rows_b} -> {ga.rows}",
            f"{share_b} -> {ga.weighted_share:.3f}",
            f"{rate_b} -> {ga.label_rates.get(label, 0.0):.3f}",
            f"{ga.weighted_label_rates.get(label, 0.0):.3f}",
            f"{ga.min_weight:.3g} to {ga.max_weight:.3g}",
        )
    console = Console()
    console.print(t)
    for entry in result.report:
        line = f"step {entry['step']} {entry['method']}: {entry['rows_before']} -> {entry['rows_after']} rows"
        if entry["method"] == "resample":
            line += f", {entry['n_duplicated']} duplicated, {entry['n_dropped']} dropped"
        elif entry["method"] == "augment":
            line += f", {entry['n_changed']} texts changed, {entry['n_added']} counterfactual rows"
        console.print(line)
    gap_b = before.label_rate_gap(weighted=True)
    gap_a = after.label_rate_gap(weighted=True)
    console.print(f"largest gap in weighted label rate across groups: {gap_b:.3f} -> {gap_a:.3f}")
