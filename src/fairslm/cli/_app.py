"""The ``fairslm`` command: a Typer app whose commands live one per module in this package.

Each command module defines ``register(app)``. Commands parse arguments, call one library
function and render its result; user mistakes exit with code 2 and a message, no traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer

from fairslm.exceptions import FairslmError

__all__ = ["EXIT_FAIL", "EXIT_OK", "EXIT_USAGE", "app", "fail", "main", "user_errors"]

EXIT_OK = 0
EXIT_FAIL = 1  # a fairness criterion failed the policy, or something is overdue
EXIT_USAGE = 2  # bad input, bad options, unreadable files

# Command modules, in the order `fairslm --help` lists them.
COMMAND_MODULES = [
    "fairslm.cli.demo",
    "fairslm.cli.run",
    "fairslm.cli.audit",
    "fairslm.cli.audit_predictions",
    "fairslm.cli.compliance",
    "fairslm.cli.compare",
    "fairslm.cli.data_audit",
    "fairslm.cli.counterfactual",
    "fairslm.cli.generation_audit",
    "fairslm.cli.import_gguf",
    "fairslm.cli.report",
    "fairslm.cli.policy",
    "fairslm.cli.history",
    "fairslm.cli.due",
    "fairslm.cli.gate",
    "fairslm.cli.train",
    "fairslm.cli.sweep",
    "fairslm.cli.debias",
]

app = typer.Typer(
    name="fairslm",
    help="Audit, debias and fine-tune small language models under fairness constraints.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Turn fairslm's own errors into a message and exit code 2."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FairslmError as exc:
            fail(str(exc))
        except FileNotFoundError as exc:
            fail(f"file not found: {exc.filename or exc}")
        except PermissionError as exc:
            fail(f"permission denied: {exc.filename or exc}")

    return wrapper  # type: ignore[return-value]


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        from fairslm._version import __version__

        typer.echo(__version__)
        raise typer.Exit(0)


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fairslm`` console script."""
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
