"""``fairslm debias``: write a debiased copy of a training data file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fairslm.cli._app import EXIT_OK, fail, files
from fairslm.cli._engine import engine_option, spark_for, spark_master_option


def register(app: typer.Typer) -> None:
    app.command("debias")(debias_command)


# --out is a file, or with --engine spark a Parquet folder Spark writes itself.
@files(inputs=["path", "config", "terms"], outputs={"out": "file-or-folder", "report": "file"})
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
    from fairslm.reporting.terminal import print_debias_summary

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
    print_debias_summary(result)
    typer.echo(f"wrote {out}")
    raise typer.Exit(EXIT_OK)
