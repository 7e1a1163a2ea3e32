"""``fairslm compliance``: a bias audit in a regime's own terms (NYC LL144, EEOC) or an EU AI Act
evidence bundle, written as JSON, CSV tables and an HTML page."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import EXIT_OK, fail, files
from fairslm.metrics import FOUR_FIFTHS

REGIMES = ("nyc-ll144", "eeoc", "eu-ai-act")


def register(app: typer.Typer) -> None:
    app.command("compliance")(compliance_command)


def _floats(text: str | None, option: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        fail(f"{option} takes comma-separated numbers such as 0.2,0.5,0.8; got {text!r}")


def _steps(values: list[str]) -> list[tuple[str, str]] | None:
    if not values:
        return None
    out = []
    for v in values:
        name, sep, col = v.partition("=")
        if not sep or not name.strip() or not col.strip():
            fail(f"--step takes NAME=COLUMN (e.g. --step screen=passed_screen); got {v!r}")
        out.append((name.strip(), col.strip()))
    return out


@files(
    inputs=["data", "mapping", "audit", "data_audit", "comparison", "mitigation",
            "counterfactual", "evidence", "policy"],
    outputs={"out": "folder", "history": "history"},
)
def compliance_command(
    data: Path | None = typer.Argument(
        None, help="Rows of the people assessed (CSV, TSV, Parquet, JSON Lines); not for eu-ai-act."
    ),
    regime: str = typer.Option(..., "--regime", help="nyc-ll144, eeoc or eu-ai-act."),
    out: Path = typer.Option(Path("compliance"), "--out", "-o", help="Folder for the outputs."),
    sex: str | None = typer.Option(None, "--sex", help="Column of sex."),
    race: str | None = typer.Option(None, "--race", help="Column of race (or race/ethnicity)."),
    ethnicity: str | None = typer.Option(
        None, "--ethnicity", help="Column of Hispanic or Latino ethnicity, when separate."
    ),
    mapping: Path | None = typer.Option(
        None, "--mapping", help="CSV (dimension,value,category) or TOML: data values -> categories."
    ),
    selected: str | None = typer.Option(None, "--selected", help="Column of selection decisions."),
    pos_label: str | None = typer.Option(None, "--pos-label", help="The value meaning selected."),
    classification: str | None = typer.Option(
        None, "--classification", help="Column of the group the tool assigns (nyc-ll144)."
    ),
    y_score: str | None = typer.Option(None, "--y-score", help="Column of the tool's scores."),
    y_true: str | None = typer.Option(
        None, "--y-true", help="Column of outcome labels (0/1), for the audit of scores."
    ),
    step: list[str] = typer.Option(
        [], "--step", help="NAME=COLUMN, repeated in order: a several-stage decision (eeoc)."
    ),
    groups: str = typer.Option(
        "guidelines", "--groups", help="eeoc groups: guidelines (29 CFR 1607.4(B)) or eeo1."
    ),
    threshold: float = typer.Option(FOUR_FIFTHS, "--threshold", help="eeoc: the four-fifths rule."),
    data_type: str | None = typer.Option(
        None, "--data-type", help="nyc-ll144: historical or test (6 RCNY §5-302)."
    ),
    data_explanation: str | None = typer.Option(
        None, "--data-explanation", help="Source and explanation of the data (required for test)."
    ),
    audit_date: str | None = typer.Option(None, "--audit-date", help="Date of this bias audit."),
    distribution_date: str | None = typer.Option(
        None, "--distribution-date", help="Date the employer began using the tool."
    ),
    exclude_small: bool = typer.Option(
        False, "--exclude-small", help="Leave categories under 2% out of the impact ratios."
    ),
    exclude: list[str] = typer.Option(
        [], "--exclude", help="A category under 2% to leave out of the impact ratios (repeat)."
    ),
    exclusion_justification: str | None = typer.Option(
        None, "--exclusion-justification", help="The auditor's reason for an exclusion."
    ),
    tool: str | None = typer.Option(None, "--tool", help="Name of the tool audited."),
    auditor: str | None = typer.Option(None, "--auditor", help="Independent auditor."),
    thresholds: str | None = typer.Option(
        None, "--thresholds", help="Decision thresholds of the audit of scores, e.g. 0.2,0.5,0.8."
    ),
    audit: Path | None = typer.Option(None, "--audit", help="eu-ai-act: the model audit JSON."),
    data_audit: Path | None = typer.Option(None, "--data-audit", help="eu-ai-act: data audit JSON."),
    comparison: Path | None = typer.Option(
        None, "--comparison", help="eu-ai-act: before/after comparison JSON."
    ),
    mitigation: Path | None = typer.Option(
        None, "--mitigation", help="eu-ai-act: mitigation report JSON (fairslm debias --report)."
    ),
    counterfactual: Path | None = typer.Option(
        None, "--counterfactual", help="eu-ai-act: counterfactual test JSON."
    ),
    evidence: list[Path] = typer.Option(
        [], "--evidence", help="eu-ai-act: a regime audit's compliance.json (repeat)."
    ),
    policy: Path | None = typer.Option(None, "--policy", help="eu-ai-act: the audit policy."),
    history: Path | None = typer.Option(
        None, "--history", help="Audit history: eu-ai-act reads it; nyc-ll144 records into it."
    ),
    model: str | None = typer.Option(None, "--model", help="Model name in the history."),
    system: str | None = typer.Option(None, "--system", help="eu-ai-act: the AI system's name."),
    intended_purpose: str | None = typer.Option(
        None, "--intended-purpose", help="eu-ai-act: the system's intended purpose."
    ),
    annex_iii: str | None = typer.Option(
        None, "--annex-iii", help="eu-ai-act: the Annex III area, e.g. '4(a) recruitment'."
    ),
    signer: str | None = typer.Option(None, "--signer", help="eu-ai-act: the responsible person."),
) -> None:
    """Write a regime's bias audit, or an EU AI Act evidence bundle, to --out.

    Findings cite the rule they follow; none is a verdict of compliance. Exit 0 when written.
    """
    from fairslm.pipeline import run_compliance
    from fairslm.reporting.terminal import print_compliance

    if regime not in REGIMES:
        fail(f"--regime must be one of {', '.join(REGIMES)}; got {regime!r}")
    run = run_compliance(
        regime,
        data,
        out=out,
        history=history,
        model=model,
        sex=sex, race=race, ethnicity=ethnicity, mapping=mapping, selected=selected,
        pos_label=pos_label, classification=classification, score=y_score, y_true=y_true,
        steps=_steps(step), groups=groups, threshold=threshold, data_type=data_type,
        data_explanation=data_explanation, audit_date=audit_date,
        distribution_date=distribution_date,
        exclude_small=list(exclude) if exclude else exclude_small,
        exclusion_justification=exclusion_justification, tool=tool, auditor=auditor,
        thresholds=_floats(thresholds, "--thresholds"),
        audit=audit, data_audit=data_audit, comparison=comparison, mitigation=mitigation,
        counterfactual=counterfactual, evidence=list(evidence), policy=policy,
        system={"name": system, "intended_purpose": intended_purpose, "annex_iii": annex_iii},
        signer=signer,
    )
    print_compliance(run.result)
    typer.echo(f"wrote {', '.join(str(p) for p in run.paths.values())}")
    if run.recorded is not None:
        typer.echo(f"recorded bias audit #{run.recorded} of {model} in {history}")
    raise typer.Exit(EXIT_OK)
