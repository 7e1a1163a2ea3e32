"""``fairslm due``: which audits the policy calls for now (for a scheduled CI job)."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import EXIT_FAIL, EXIT_OK, files


def register(app: typer.Typer) -> None:
    app.command("due")(due_command)


@files(inputs=["policy", "db", "data"])
def due_command(
    policy: Path = typer.Option(Path("fairslm-policy.toml"), "--policy", help="Policy file."),
    db: Path = typer.Option(Path("fairslm-history.db"), "--db", help="History file."),
    model: str | None = typer.Option(None, "--model", "-m", help="Default: every model."),
    dataset_hash: str | None = typer.Option(
        None, "--dataset-hash", help="The current dataset's hash, for on-data-change rules."
    ),
    data: Path | None = typer.Option(
        None, "--data", help="A data file whose SHA-256 is the current dataset hash."
    ),
    fingerprint: str | None = typer.Option(
        None, "--fingerprint", help="Model version to deploy: pre-deployment needs its audit."
    ),
    now: str | None = typer.Option(None, "--now", hidden=True, help="Check at this ISO time."),
) -> None:
    """List audits that are due; exit 1 when any is due (overdue, never done, data changed)."""
    from fairslm.governance import due
    from fairslm.reporting.terminal import print_due

    report = due(policy, db, model=model, dataset_hash=dataset_hash, data=data,
                 model_fingerprint=fingerprint, now=now)
    print_due(report)
    raise typer.Exit(EXIT_FAIL if report.any_due else EXIT_OK)
