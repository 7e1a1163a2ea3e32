"""``fairslm policy init|check``: write the default audit policy, or validate one."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import files

policy_app = typer.Typer(
    help="Write or check an audit policy (criteria, thresholds, schedules).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")


@policy_app.command("init")
@files(outputs={"path": "file"})
def policy_init_command(
    path: Path = typer.Argument(Path("fairslm-policy.toml"), help="Where to write the policy."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write the guide's default policy, with comments, to PATH."""
    from fairslm.governance import write_default_policy

    written = write_default_policy(path, force=force)
    typer.echo(f"wrote {written}")


@policy_app.command("check")
@files(inputs=["path"])
def policy_check_command(
    path: Path = typer.Argument(..., help="The policy file to validate."),
) -> None:
    """Validate a policy file; exit 0 if it is valid, 2 with the problem otherwise."""
    from fairslm.governance import load_policy
    from fairslm.reporting.terminal import print_policy

    print_policy(load_policy(path), path)
