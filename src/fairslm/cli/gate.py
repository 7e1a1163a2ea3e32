"""``fairslm gate``: check a model's latest recorded audit against the policy."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import EXIT_FAIL, EXIT_OK, files


def register(app: typer.Typer) -> None:
    app.command("gate")(gate_command)


@files(inputs=["policy", "db"])
def gate_command(
    model: str = typer.Option(..., "--model", "-m", help="The model to check."),
    policy: Path = typer.Option(Path("fairslm-policy.toml"), "--policy", help="Policy file."),
    db: Path = typer.Option(Path("fairslm-history.db"), "--db", help="History file."),
) -> None:
    """Exit 0 if the model's latest audit meets the policy, 1 naming what fails."""
    from fairslm.governance import gate
    from fairslm.reporting.terminal import print_gate

    result = gate(policy, db, model=model)
    print_gate(result, model)
    raise typer.Exit(EXIT_OK if result.passed else EXIT_FAIL)
