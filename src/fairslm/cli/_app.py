"""The ``fairslm`` command: a Typer app whose commands live one per module in this package.

Each command module defines ``register(app)``. Commands parse arguments, call one library
function and render its result. They handle no errors: :class:`~fairslm.cli._errors.FairslmGroup`
turns every exception into a message and an exit code, and :func:`files` declares a command's
input and output paths so that no output replaces an input and a command's outputs appear all
together or not at all.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar

import typer

from fairslm.cli._errors import (
    EXIT_FAIL,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    FairslmGroup,
    Terminated,
)

__all__ = [
    "EXIT_FAIL",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_USAGE",
    "app",
    "fail",
    "files",
    "main",
    "user_errors",
]

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
    cls=FairslmGroup,
)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


F = TypeVar("F", bound=Callable[..., Any])

# "file" / "folder": staged, appear only when the command succeeds; "file-or-folder": a file,
# or a folder that an engine writes itself (Spark's Parquet parts); "history": an SQLite file
# appended to in one transaction; "workdir": a folder a long-running command fills step by step
# (checkpoints, caches), removed on failure only when this run created it and it is still empty.
OutputKind = Literal["file", "folder", "file-or-folder", "history", "workdir"]


def user_errors(func: F) -> F:
    """No-op kept for command modules that still decorate with it: errors are handled by the app."""
    return func


def _option_name(func: Callable[..., Any], param: str) -> str:
    """How the user wrote a parameter: its long option (``--out``), or its name for arguments."""
    default = inspect.signature(func).parameters[param].default
    decls = [d for d in getattr(default, "param_decls", None) or () if d.startswith("--")]
    if decls:
        return decls[0]
    return param.upper()


def _paths(value: Any) -> list[Path]:
    """The paths in a parameter's value; ``NAME=PATH`` (as `fairslm report` takes) counts as PATH."""
    if value is None:
        return []
    out = []
    for v in value if isinstance(value, (list, tuple)) else [value]:
        if v is None:
            continue
        p = Path(v)
        if isinstance(v, str) and "=" in v and not p.exists():
            p = Path(v.split("=", 1)[1])
        out.append(p)
    return out


def files(
    *,
    inputs: Sequence[str] = (),
    outputs: Mapping[str, OutputKind] | None = None,
    staged: bool = True,
) -> Callable[[F], F]:
    """Declare which parameters of a command are input paths and which are outputs.

    Before the command runs, every output is checked (:func:`fairslm._atomic.check_output_path`):
    none may resolve to an input, a file output may not be an existing folder, and its folder
    must be writable. File and folder outputs are staged: they appear only when the command ends
    with exit code 0 or 1, all together; on an error or an interrupt none appears.

    Parameters
    ----------
    inputs : sequence of str
        Parameter names holding input paths (a path, a list of paths, or a model name that may
        be a path).
    outputs : mapping of str to {"file", "folder", "file-or-folder", "history", "workdir"}
        Parameter names holding output paths, and what is written there.
    staged : bool, default True
        Hold every file write back until the command succeeds. Commands that read their own
        outputs back while they run (pipelines with caches, training with checkpoints) pass
        False: their files are still each written whole, and the work folder they created is
        removed on failure when it is still empty.
    """
    outputs = dict(outputs or {})

    def decorate(func: F) -> F:
        params = set(inspect.signature(func).parameters)
        unknown = sorted({*inputs, *outputs} - params)
        if unknown:  # a renamed parameter must be renamed here too; fail at import, not at use
            raise TypeError(f"{func.__name__} has no parameter(s) {unknown}")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from fairslm._atomic import check_output_path, staged_outputs

            bound = inspect.signature(func).bind_partial(*args, **kwargs).arguments
            in_paths = [p for name in inputs for p in _paths(bound.get(name))]
            created: list[Path] = []
            for name, kind in outputs.items():
                for p in _paths(bound.get(name)):
                    check_output_path(
                        p, inputs=in_paths, option=_option_name(func, name),
                        kind={"folder": "folder", "workdir": "folder",
                              "file-or-folder": "any"}.get(kind, "file"),
                    )
                    if kind == "workdir" and not p.exists():
                        created.append(p)
            stage_or_not = staged_outputs(in_paths) if staged else contextlib.nullcontext(None)
            try:
                with stage_or_not as stage:
                    try:
                        return func(*args, **kwargs)
                    except typer.Exit as exc:
                        if stage is not None and exc.exit_code in (EXIT_OK, EXIT_FAIL):
                            stage.commit()
                        raise
            except BaseException as exc:
                ok = isinstance(exc, typer.Exit) and exc.exit_code in (EXIT_OK, EXIT_FAIL)
                if not ok:
                    for p in created:
                        _remove_if_empty(p)
                raise

        return wrapper  # type: ignore[return-value]

    return decorate


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _version_callback(value: bool) -> None:
    if value:
        from fairslm._version import __version__

        typer.echo(f"fairslm {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_version_callback,
        help="Print the version and exit.",
    ),
    debug: bool = typer.Option(
        False, "--debug", help="On any error, print the full traceback (also: FAIRSLM_DEBUG=1)."
    ),
) -> None:
    """Audit, debias and fine-tune small language models under fairness constraints.

    Exit codes: 0 pass, 1 a criterion fails the policy, 2 bad input or options, 3 internal
    error (a bug; the message names a log file).
    """


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fairslm`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        # SIGTERM unwinds like an exception, so staged outputs and temp files are removed.
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        app(args=argv, standalone_mode=True, obj=argv)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_INTERNAL)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
