"""The one place where the ``fairslm`` command turns exceptions into messages and exit codes.

Every command runs inside :class:`FairslmGroup`, so no command handles errors itself:

* fairslm's own errors (:class:`~fairslm.exceptions.FairslmError`) and the operating system's
  answers about the user's files (not found, a folder, not writable, not UTF-8) print
  ``error: <message>`` and exit 2;
* an interrupt (Ctrl-C, ``SIGTERM``) prints what happened and exits 130 or 143; outputs written
  so far are removed (see :mod:`fairslm._atomic`);
* anything else is a bug in fairslm: one line names the exception and a log file that holds the
  full traceback, and the exit code is 3. ``fairslm --debug`` (or ``FAIRSLM_DEBUG=1``) prints the
  traceback instead, for any error.

Exit codes: 0 success (every criterion passes), 1 a criterion fails the policy (or something is
due), 2 the input or options are wrong, 3 an internal error, 130/143 interrupted.
"""

from __future__ import annotations

import datetime as _dt
import errno
import os
import platform
import sys
import tempfile
import traceback
from pathlib import Path

import typer
from typer.core import TyperGroup

from fairslm.exceptions import FairslmError

__all__ = [
    "EXIT_FAIL",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "FairslmGroup",
    "Terminated",
    "describe_error",
    "error_log_dir",
]

EXIT_OK = 0
EXIT_FAIL = 1  # a fairness criterion failed the policy, or something is overdue
EXIT_USAGE = 2  # bad input, bad options, unreadable or unwritable files
EXIT_INTERNAL = 3  # a bug in fairslm: reported with a log file
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(BaseException):
    """Raised in the main thread when the process receives ``SIGTERM``, so cleanup runs."""


def _path_of(exc: OSError) -> str:
    return str(exc.filename) if exc.filename is not None else "the file"


def describe_error(exc: BaseException) -> tuple[str, int] | None:
    """``(message, exit code)`` for an error the user can fix; None for a bug in fairslm.

    Examples
    --------
    >>> describe_error(IsADirectoryError(21, "Is a directory", "data"))
    ('data is a folder; pass a file', 2)
    >>> describe_error(TypeError("oops")) is None
    True
    """
    if isinstance(exc, FairslmError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"a file is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset "
            f"{exc.start}); save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8 IN > OUT`) and retry",
            EXIT_USAGE,
        )
    if isinstance(exc, IsADirectoryError):
        return f"{_path_of(exc)} is a folder; pass a file", EXIT_USAGE
    if isinstance(exc, NotADirectoryError):
        return f"{_path_of(exc)}: part of this path is a file, not a folder", EXIT_USAGE
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {_path_of(exc)}", EXIT_USAGE
    if isinstance(exc, PermissionError):
        return f"permission denied: {_path_of(exc)}", EXIT_USAGE
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        return f"cannot write {_path_of(exc)}: {exc.strerror}", EXIT_USAGE
    if isinstance(exc, MemoryError):
        return (
            "out of memory; audit files through the DuckDB engine (`fairslm audit-predictions`) "
            "or lower --memory-limit / batch sizes",
            EXIT_USAGE,
        )
    return None


def error_log_dir() -> Path:
    """Folder for internal-error logs: ``$FAIRSLM_LOG_DIR``, else the XDG state folder."""
    env = os.environ.get("FAIRSLM_LOG_DIR")
    if env:
        return Path(env)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "fairslm"


def _write_log(exc: BaseException, argv: list[str]) -> Path | None:
    from fairslm._version import __version__

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = (
        f"fairslm {__version__}, Python {platform.python_version()}, {platform.platform()}\n"
        f"command: fairslm {' '.join(argv)}\n\n"
        + "".join(traceback.format_exception(exc))
    )
    for folder in (error_log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"fairslm-error-{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def _debug_enabled(ctx: typer.Context) -> bool:
    env = os.environ.get("FAIRSLM_DEBUG", "").strip().lower()
    return bool(ctx.params.get("debug")) or env not in ("", "0", "false", "no")


def report_error(exc: BaseException, *, debug: bool, argv: list[str]) -> int:
    """Print the message for ``exc`` to stderr and return the exit code."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, KeyboardInterrupt):
        typer.echo("error: interrupted; no output was written", err=True)
        return EXIT_INTERRUPTED
    if isinstance(exc, Terminated):
        typer.echo("error: terminated (SIGTERM); no output was written", err=True)
        return EXIT_TERMINATED
    known = describe_error(exc)
    if known is not None:
        message, code = known
        typer.echo(f"error: {message}", err=True)
        return code
    from fairslm._version import __version__

    summary = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(summary) > 200:
        summary = summary[:197] + "..."
    log = _write_log(exc, argv)
    where = f"the traceback is in {log}" if log is not None else "no log could be written"
    typer.echo(
        f"error: internal error in fairslm {__version__} ({summary}); this is a bug: please "
        f"report it with the log; {where}. `fairslm --debug ...` prints the traceback here.",
        err=True,
    )
    return EXIT_INTERNAL


class FairslmGroup(TyperGroup):
    """The root command group: runs a command and maps whatever it raises to an exit code."""

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except (Exception, KeyboardInterrupt, Terminated) as exc:
            if _is_usage_error(exc):  # Click's own: it prints the usage line and exits 2
                raise
            argv = list(ctx.obj) if isinstance(ctx.obj, list) else list(sys.argv[1:])
            code = report_error(exc, debug=_debug_enabled(ctx), argv=argv)
            raise typer.Exit(code) from None


def _is_usage_error(exc: BaseException) -> bool:
    # Click's exceptions (vendored inside Typer since 0.26) carry an exit code and show().
    return hasattr(exc, "exit_code") and callable(getattr(exc, "show", None))
