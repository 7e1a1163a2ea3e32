"""``fairslm data-audit``: representation, label base rates, proxies and aggregation bias."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import EXIT_FAIL, EXIT_OK, fail, files
from fairslm.cli._engine import engine_option, spark_for, spark_master_option
from fairslm.metrics import MIN_GROUP_SIZE


def register(app: typer.Typer) -> None:
    app.command("data-audit")(data_audit_command)


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [s.strip() for s in value.split(",") if s.strip()]


@files(inputs=["path", "embeddings", "reference"], outputs={"out": "file"})
def data_audit_command(
    path: Path = typer.Argument(..., help="Data: CSV, Parquet, JSON Lines, a folder of split "
                                          "files, or a saved Hugging Face dataset."),
    text: str = typer.Option("text", "--text", help="Column with the texts."),
    label: str = typer.Option("label", "--label", help="Column with the labels."),
    sensitive: str = typer.Option("gender", "--sensitive",
                                  help="Comma-separated sensitive feature columns."),
    pos_label: str | None = typer.Option(None, "--pos-label", help="The favourable label."),
    weight: str | None = typer.Option(None, "--weight", help="Column with sample weights."),
    split: str | None = typer.Option(None, "--split", help="Column with split names."),
    splits: str | None = typer.Option(None, "--splits", help="Comma-separated splits to keep."),
    reference: str | None = typer.Option(
        None, "--reference", help="Reference shares: 'F=0.5,M=0.5' or a .json/.yaml file."
    ),
    underrep_factor: float = typer.Option(1.25, "--underrep-factor"),
    min_group_size: int = typer.Option(MIN_GROUP_SIZE, "--min-group-size"),
    probe: bool = typer.Option(True, "--probe/--no-probe", help="Run the proxy probe."),
    embeddings: Path | None = typer.Option(None, "--embeddings",
                                           help=".npy embeddings for the probe."),
    folds: int = typer.Option(5, "--folds", help="Cross-validation folds of the probe."),
    seed: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(Path("data_audit.json"), "--out", "-o", help="Where to write JSON."),
    engine: str = engine_option("pandas"),
    spark_master: str | None = spark_master_option(),
) -> None:
    """Audit a data set; exit 1 if the labels fail statistical parity or a group is
    under-represented against the reference, else 0."""
    from fairslm.audit import audit_data_file, audit_data_spark
    from fairslm.reporting.terminal import print_data_audit

    spark = spark_for(engine, spark_master, local="pandas")
    if spark is not None:
        if splits is not None or embeddings is not None:
            fail("--splits and --embeddings work with the local engine only; with --engine "
                 "spark filter the data in Spark first, and the proxy probe does not run")
        result = audit_data_spark(
            str(path), label=label, sensitive=_split(sensitive) or [], weight=weight,
            split=split, pos_label=pos_label, reference_distribution=reference,
            underrep_factor=underrep_factor, min_group_size=min_group_size, seed=seed,
            spark=spark,
        )
    else:
        result = audit_data_file(
            path, text=text, label=label, sensitive=_split(sensitive), pos_label=pos_label,
            weight=weight, split=split, splits=_split(splits),
            reference_distribution=reference, embeddings=embeddings,
            underrep_factor=underrep_factor, min_group_size=min_group_size,
            probe="tfidf" if probe else None, n_folds=folds, seed=seed,
        )
    result.to_json(out)
    print_data_audit(result)
    typer.echo(f"wrote {out}")
    failed = any(
        isinstance(v, dict) and v.get("verdict") == "fail"
        for views in result.labeling.values() if isinstance(views, dict)
        for v in views.values()
    ) or any(view.get("under_represented") for view in result.representation.values())
    raise typer.Exit(EXIT_FAIL if failed else EXIT_OK)
