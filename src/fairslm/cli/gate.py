"""``fairslm gate``: check a model's latest recorded audit against the policy."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import EXIT_FAIL, EXIT_OK, user_errors


def register(app: typer.Typer) -> None:
    app.command("gate")(gate_command)


@user_errors
def gate_command(
    model: str = typer.Option(..., "--model", "-m", help="The model to check."),
    policy: Path = typer.Option(Path("fairslm-policy.toml"), "--policy", help="Policy file."),
    db: Path = typer.Option(Path("fairslm-history.db"), "--db", help="History file."),
) -> None:
    """Exit 0 if the model's latest audit meets the policy, 1 naming what fails."""
    from rich.console import Console
    from rich.table import Table

    from fairslm.governance import gate

    result = gate(policy, db, model=model)
    table = Table(title=f"gate: {model}, audit #{result.audit_id} of "
                        f"{result.recorded_at:%Y-%m-%d %H:%M} UTC")
    for col in ("criterion", "view", "ratio", "threshold", "verdict", "failing groups"):
        table.add_column(col)
    for c in result.checks:
        style = "green" if not c.blocks else "bold red"
        table.add_row(
            c.criterion, c.view, "n/a" if c.ratio is None else f"{c.ratio:.3f}",
            f"{c.threshold:g}", f"[{style}]{c.verdict}[/{style}]", ", ".join(c.failing_groups),
        )
    console = Console()
    console.print(table)
    for c in result.blocking:
        console.print(f"  - {c.criterion} ({c.view}): {c.reading}", markup=False)
    for problem in result.problems:
        console.print(f"  - {problem}", markup=False)
    console.print("gate: PASS" if result.passed else "gate: FAIL")
    raise typer.Exit(EXIT_OK if result.passed else EXIT_FAIL)
