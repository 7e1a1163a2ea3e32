"""``fairslm audit-predictions``: audit a file of predictions."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import files
from fairslm.cli._engine import engine_option, spark_for, spark_master_option
from fairslm.cli._renamed import renamed_option
from fairslm.cli._verdict import check_on_undecided, on_undecided_option, verdict_exit_code
from fairslm.metrics import FOUR_FIFTHS, MIN_GROUP_SIZE


def register(app: typer.Typer) -> None:
    app.command("audit-predictions")(audit_predictions_command)


@files(inputs=["path"], outputs={"out": "file", "history": "history"})
def audit_predictions_command(
    path: Path = typer.Argument(
        ..., help="Predictions file: Parquet, CSV or JSON Lines (with --engine spark also a "
        "folder of them, a Delta table or a table name)."
    ),
    y_true: str = typer.Option(..., "--y-true", help="Column with the true labels."),
    y_pred: str = typer.Option(..., "--y-pred", help="Column with the model's decisions."),
    sensitive: str = typer.Option(
        ..., "--sensitive", help="Comma-separated sensitive feature columns."
    ),
    y_score: str | None = typer.Option(None, "--y-score", help="Column with scores in [0, 1]."),
    weight: str | None = typer.Option(None, "--weight", help="Column with sample weights."),
    pos_label: str | None = typer.Option(None, "--pos-label", help="The favourable label."),
    reference: str = typer.Option(
        "min_max", "--reference", help="min_max, overall, largest, or a group label."
    ),
    threshold: float = typer.Option(FOUR_FIFTHS, "--threshold", help="Ratio threshold (four-fifths: 0.8)."),
    min_group_size: int = typer.Option(
        MIN_GROUP_SIZE, "--min-group-size", help="Groups with fewer rows are shown but never drive a verdict."
    ),
    missing: str = typer.Option(
        "error", "--missing", help="Missing sensitive values: error, or group (their own group)."
    ),
    n_bootstrap: int = typer.Option(
        0, "--n-bootstrap",
        help="Bootstrap replicates (e.g. 1000) for the intervals without a closed form (balanced "
             "accuracy, RMS TPR gap); rates, disparities and criteria get score intervals anyway.",
    ),
    confidence: float = typer.Option(0.95, "--confidence", help="Interval coverage."),
    seed: int | None = typer.Option(None, "--seed", help="Bootstrap seed (recorded in the JSON)."),
    stratify: bool = typer.Option(False, "--stratify", help="Bootstrap with group sizes fixed."),
    on_undecided: str = on_undecided_option(),
    memory_limit: str = typer.Option(
        "2GB", "--memory-limit", help="DuckDB memory limit while reading the file."
    ),
    engine: str = engine_option(),
    spark_master: str | None = spark_master_option(),
    out: Path = typer.Option(Path("audit.json"), "--out", "-o", help="Where to write the JSON."),
    history: Path | None = typer.Option(
        None, "--history", help="Also record the audit in this history file (see `fairslm due`)."
    ),
    model: str | None = typer.Option(None, "--model", help="Model name to record it under."),
    bootstrap: int | None = typer.Option(None, "--bootstrap", hidden=True),
) -> None:
    """Audit a predictions file; exit 0 if every criterion passes, 1 if one fails.

    An audit in which no criterion could be judged has the verdict "insufficient" and exits 1
    unless --on-undecided pass.
    """
    from fairslm._gc import gc_paused
    from fairslm.audit import audit_file
    from fairslm.reporting.terminal import print_audit_summary

    check_on_undecided(on_undecided)
    spark = spark_for(engine, spark_master)
    n_bootstrap = renamed_option(n_bootstrap, bootstrap, new="--n-bootstrap", old="--bootstrap",
                                 default=0)
    # The result of 10,000 groups is a million small objects, none in a cycle: collecting
    # them while they are built, written and summarised cost a fifth of the command's time.
    with gc_paused():
        result = audit_file(
            str(path) if engine == "spark" else path,
            y_true=y_true,
            y_pred=y_pred,
            sensitive=[s.strip() for s in sensitive.split(",") if s.strip()],
            y_score=y_score,
            weight=weight,
            pos_label=pos_label,
            reference_group=reference,
            threshold=threshold,
            min_group_size=min_group_size,
            missing=missing,
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            seed=seed,
            stratify=stratify,
            memory_limit=memory_limit,
            engine=engine,
            spark=spark,
        )
        result.to_json(out)
        print_audit_summary(result)
    typer.echo(f"wrote {out}")
    if history is not None:
        from fairslm.governance import record_audit

        if path.is_file():
            audit_id = record_audit(history, result, model=model, data=path)
        else:
            # A table or a folder of files has no single byte stream to hash: the history
            # keys it on the hash of its count table instead.
            audit_id = record_audit(
                history, result, model=model, dataset_hash=result.provenance["table_sha256"]
            )
        typer.echo(f"recorded audit #{audit_id} of {model} in {history}")
    raise typer.Exit(verdict_exit_code(result.verdict, on_undecided))
