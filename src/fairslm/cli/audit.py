"""``fairslm audit``: audit a model on a data set."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import files
from fairslm.cli._model_options import LABEL_WORD_OPTION, TEMPLATE_OPTION, load_cli_model
from fairslm.cli._verdict import check_on_undecided, on_undecided_option, verdict_exit_code
from fairslm.metrics import FOUR_FIFTHS, MIN_GROUP_SIZE


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)


@files(inputs=["model", "data"], outputs={"out": "file", "report": "folder"})
def audit_command(
    model: Path = typer.Option(..., "--model", "-m", help="Model directory (or .skops file)."),
    data: Path = typer.Option(..., "--data", "-d", help="Data file or folder of split files."),
    text: str = typer.Option("text", "--text", help="Column with the texts."),
    label: str = typer.Option("label", "--label", help="Column with the labels."),
    sensitive: str = typer.Option(..., "--sensitive", help="Comma-separated sensitive columns."),
    split: str | None = typer.Option(None, "--split", help="Audit only this split."),
    split_column: str | None = typer.Option(None, "--split-column", help="Column of split names."),
    pos_label: str | None = typer.Option(None, "--pos-label", help="The favourable label."),
    truth: str | None = typer.Option(None, "--truth", help="Column with an unbiased label."),
    decision_threshold: float = typer.Option(0.5, "--decision-threshold",
                                             help="Score at or above which the decision is favourable."),
    reference: str = typer.Option("min_max", "--reference",
                                  help="min_max, overall, largest, or a group label."),
    threshold: float = typer.Option(FOUR_FIFTHS, "--threshold", help="Ratio threshold (four-fifths: 0.8)."),
    min_group_size: int = typer.Option(MIN_GROUP_SIZE, "--min-group-size",
                                       help="Smaller groups are shown but never drive a verdict."),
    n_bootstrap: int = typer.Option(500, "--n-bootstrap", help="Bootstrap replicates (0: none)."),
    on_undecided: str = on_undecided_option(),
    out: Path = typer.Option(Path("audit.json"), "--out", "-o", help="Where to write the JSON."),
    report: Path | None = typer.Option(None, "--report", help="Also write report.html here."),
    template: str | None = TEMPLATE_OPTION,
    label_word: list[str] = LABEL_WORD_OPTION,
) -> None:
    """Score the texts with the model, audit its decisions; exit 1 if a criterion fails.

    An audit in which no criterion could be judged has the verdict "insufficient" and exits 1
    unless --on-undecided pass.
    """
    from fairslm.pipeline import audit_model_file
    from fairslm.reporting import build_report, format_number, write_report
    from fairslm.reporting.terminal import print_audit_summary

    check_on_undecided(on_undecided)
    res = audit_model_file(
        load_cli_model(model, template, label_word), data, text=text, label=label,
        sensitive=[s.strip() for s in sensitive.split(",") if s.strip()],
        split=split, split_column=split_column, pos_label=pos_label, truth=truth,
        decision_threshold=decision_threshold, reference_group=reference, threshold=threshold,
        min_group_size=min_group_size, n_bootstrap=n_bootstrap,
    )
    res.audit.to_json(out)
    print_audit_summary(res.audit)
    for k, v in res.scores.items():
        typer.echo(f"{k}: {format_number(v)}")
    typer.echo(f"wrote {out}")
    if report is not None:
        name = model.resolve().name or str(model)
        truth_audits = {name: res.truth_audit} if res.truth_audit is not None else None
        doc = build_report({name: res.audit}, scores={name: res.scores},
                           truth_audits=truth_audits, policy={"views": "all", "criteria": []})
        typer.echo(f"wrote {write_report(doc, report)['html']}")
    raise typer.Exit(verdict_exit_code(res.audit.verdict, on_undecided))
