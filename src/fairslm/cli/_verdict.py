"""The exit code of an audit's overall verdict, and the option that says what "insufficient" means."""

from __future__ import annotations

from typing import Any

import typer

from fairslm.cli._errors import EXIT_FAIL, EXIT_OK

__all__ = ["check_on_undecided", "on_undecided_option", "verdict_exit_code"]


def on_undecided_option() -> Any:
    """``--on-undecided fail|pass``: the exit code of an audit in which no criterion was judged."""
    return typer.Option(
        "fail", "--on-undecided",
        help="When no criterion could be judged (verdict insufficient: too few groups of "
        "--min-group-size rows, or undefined rates): fail exits 1 (default), pass exits 0. "
        "The verdict printed and written stays 'insufficient' either way.",
    )


def check_on_undecided(on_undecided: str) -> None:
    """Refuse an ``--on-undecided`` value other than fail or pass, before any work is done."""
    if on_undecided not in ("fail", "pass"):
        from fairslm.cli._app import fail

        fail(f"--on-undecided takes fail or pass; got {on_undecided!r}")


def verdict_exit_code(verdict: str, on_undecided: str) -> int:
    """0 for ``"pass"``, 1 for ``"fail"``; ``"insufficient"`` as ``on_undecided`` says.

    Examples
    --------
    >>> verdict_exit_code("insufficient", "fail"), verdict_exit_code("insufficient", "pass")
    (1, 0)
    """
    if verdict == "pass" or (verdict == "insufficient" and on_undecided == "pass"):
        return EXIT_OK
    return EXIT_FAIL
