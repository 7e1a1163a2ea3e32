"""``fairslm policy init|check``: write the default audit policy, or validate one."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import user_errors

policy_app = typer.Typer(
    help="Write or check an audit policy (criteria, thresholds, schedules).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")


@policy_app.command("init")
@user_errors
def policy_init_command(
    path: Path = typer.Argument(Path("fairslm-policy.toml"), help="Where to write the policy."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write the guide's default policy, with comments, to PATH."""
    from fairslm.governance import write_default_policy

    written = write_default_policy(path, force=force)
    typer.echo(f"wrote {written}")


@policy_app.command("check")
@user_errors
def policy_check_command(
    path: Path = typer.Argument(..., help="The policy file to validate."),
) -> None:
    """Validate a policy file; exit 0 if it is valid, 2 with the problem otherwise."""
    from rich.console import Console
    from rich.table import Table

    from fairslm.governance import load_policy

    policy = load_policy(path)
    table = Table(title=f"{path}: valid (policy hash {policy.policy_hash()[:12]})")
    for col in ("criterion", "threshold", "schedule"):
        table.add_column(col)
    for name, spec in policy.criteria.items():
        table.add_row(name, f"{policy.threshold_for(name):g}",
                      ", ".join(r.describe() for r in spec.rules))
    for name, regime in policy.regimes.items():
        table.add_row(f"{name} bias audit", "-", ", ".join(r.describe() for r in regime.rules))
    console = Console()
    console.print(table)
    console.print(
        f"reference group: {policy.reference_group}; min group size: {policy.min_group_size}; "
        f"undecided criteria {'block' if policy.on_undecided == 'fail' else 'pass'} the gate"
    )
