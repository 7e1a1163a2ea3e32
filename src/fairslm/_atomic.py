"""Write output files whole, and a command's outputs all together or not at all.

Every output file is written into a temp file beside its target, then renamed over it, so a
reader never sees a half-written file and an interrupted write leaves the old file as it was.

Inside :func:`staged_outputs`, renames wait until the whole command has succeeded: a command that
fails half-way leaves no output at all (nor the folders it created for them). Temp files are named
``.NAME.fairslm-<pid>-<random>.tmp``; one left behind by a killed process (``SIGKILL``, power
loss) is removed by the next write to the same folder once that process is gone.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import secrets
import shutil
import signal
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fairslm.exceptions import InvalidDataError, OutputPathError

__all__ = [
    "StagedOutputs",
    "atomic_directory",
    "atomic_target",
    "check_output_path",
    "remove_stale_temps",
    "staged_outputs",
    "write_text_atomic",
]

_log = logging.getLogger("fairslm")
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.fairslm-(?P<pid>\d+)-[^.]+\.tmp$")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by another user
        return True
    return True


def remove_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove temp files that a killed fairslm process left in ``folder``; return them.

    Only files and folders named by this module (``.NAME.fairslm-<pid>-<random>.tmp``) whose
    process no longer runs are removed; anything else is left alone.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".out.json.fairslm-999999999-abc.tmp").write_text("partial")
    >>> [p.name for p in remove_stale_temps(d)]
    ['.out.json.fairslm-999999999-abc.tmp']
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if m is None or _pid_alive(int(m["pid"])):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
        _log.warning("removed %s, a partial file left by an interrupted fairslm run", entry.path)
    return removed


def check_output_path(
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    option: str = "the output",
    kind: str = "file",
) -> Path:
    """Refuse an output path that would destroy an input or cannot be written; return it.

    Parameters
    ----------
    path : path-like
        Where the output is to be written.
    inputs : iterable of path-like
        The command's input files and folders; the output may not resolve to any of them,
        through symbolic links too. (A file written into an output folder is checked when it
        is written, by :func:`atomic_target` inside :func:`staged_outputs`.)
    option : str
        How the user named the output (for example ``"--out"``), for the message.
    kind : {"file", "folder", "any"}
        What is written there: an existing folder is refused for a file, and the reverse;
        ``"any"`` when the command decides later (a file, or a folder of Parquet parts).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "x.csv").write_text("a\\n1\\n")
    >>> try:
    ...     check_output_path(d / "x.csv", inputs=[d / "x.csv"], option="--out")
    ... except ValueError as exc:
    ...     print(str(exc).split(": ")[1])
    the input would be destroyed. Choose another path for --out
    """
    p = Path(path)
    target = p.resolve()
    for inp in inputs:
        ip = Path(inp)
        if not ip.exists():
            continue
        src = ip.resolve()
        if target == src:
            what = "folder" if src.is_dir() else "file"
            raise InvalidDataError(
                f"refusing to overwrite the input {what} {p} with {option}: the input would be "
                f"destroyed. Choose another path for {option}"
            )
    if kind == "file" and p.is_dir():
        raise OutputPathError(
            f"{option} {p} is a folder; pass a file path, e.g. {p / _default_name(option)}"
        )
    if kind == "folder" and p.exists() and not p.is_dir():
        raise OutputPathError(
            f"{option} {p} is an existing file; this output is a folder. Pass a folder path "
            "(it is created when missing)"
        )
    parent = p if kind == "folder" else p.parent
    if kind == "any" and p.is_dir():
        parent = p
    for anc in [parent, *parent.parents]:
        if anc.exists():
            if not anc.is_dir():
                raise OutputPathError(
                    f"cannot write {option} {p}: {anc} is a file, not a folder"
                )
            if not os.access(anc, os.W_OK | os.X_OK):
                raise OutputPathError(f"cannot write {option} {p}: folder {anc} is not writable")
            break
    return p


def _default_name(option: str) -> str:
    return {"--svg": "plot.svg", "--plot": "plot.svg"}.get(option, "out.json")


@dataclass
class StagedOutputs:
    """Outputs written so far by a command, waiting to be put in place together.

    ``inputs`` are resolved paths no output may replace. Use :func:`staged_outputs`.
    """

    inputs: tuple[Path, ...] = ()
    staged: list[tuple[Path, Path]] = field(default_factory=list)
    created_dirs: list[Path] = field(default_factory=list)

    def check(self, path: Path) -> None:
        target = path.resolve()
        if target in self.inputs:
            raise InvalidDataError(
                f"refusing to overwrite the input file {path}: the input would be destroyed. "
                "Choose another output path"
            )
        if any(dest.resolve() == target for _, dest in self.staged):
            raise InvalidDataError(f"two outputs of this command would both be written to {path}")

    def commit(self) -> list[Path]:
        """Rename every staged file (or folder) onto its target; return the targets.

        ``SIGTERM`` and ``SIGINT`` are held back while the renames run, so a termination
        request lands before all of them or after all of them, never in between.
        """
        done = []
        with _signals_held():
            for tmp, path in self.staged:
                _put_in_place(tmp, path)
                done.append(path)
            self.staged.clear()
            self.created_dirs.clear()
        return done

    def discard(self) -> None:
        """Remove every staged temp file and the folders created for them (when empty)."""
        for tmp, _ in self.staged:
            _remove(tmp)
        self.staged.clear()
        for d in reversed(self.created_dirs):
            with contextlib.suppress(OSError):
                d.rmdir()
        self.created_dirs.clear()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Record SIGTERM/SIGINT during the block and deliver them once it is over.

    Python runs signal handlers in the main thread, whichever thread the signal reached, so
    swapping the handlers holds signals back even when other threads run (a signal mask would
    only hold them for the thread that set it).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {
        s: signal.signal(s, lambda signum, frame: pending.append(signum))
        for s in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if pending:
            os.kill(os.getpid(), pending[0])  # now handled as it would have been


_STAGE: contextvars.ContextVar[StagedOutputs | None] = contextvars.ContextVar(
    "fairslm_staged_outputs", default=None
)


@contextlib.contextmanager
def staged_outputs(
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> Iterator[StagedOutputs]:
    """Hold back every write made through this module until the block ends.

    On normal exit every output is renamed into place; on any exception (including
    ``KeyboardInterrupt`` and ``SystemExit`` from a termination signal) every temp file is
    removed and nothing appears. Call :meth:`StagedOutputs.commit` yourself to put the outputs
    in place before leaving (the block then discards nothing).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> try:
    ...     with staged_outputs():
    ...         _ = write_text_atomic("{}", d / "a.json")
    ...         raise RuntimeError("second output failed")
    ... except RuntimeError:
    ...     pass
    >>> sorted(p.name for p in d.iterdir())
    []
    """
    stage = StagedOutputs(inputs=tuple(Path(p).resolve() for p in inputs if Path(p).exists()))
    token = _STAGE.set(stage)
    try:
        yield stage
    except BaseException:
        stage.discard()
        raise
    finally:
        _STAGE.reset(token)
    stage.commit()


def _mkdirs(folder: Path, stage: StagedOutputs | None) -> None:
    missing = []
    for anc in [folder, *folder.parents]:
        if anc.exists():
            break
        missing.append(anc)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise OutputPathError(f"cannot create folder {folder}: a file of that name exists") from exc
    except NotADirectoryError as exc:
        raise OutputPathError(f"cannot create folder {folder}: part of its path is a file") from exc
    except OSError as exc:
        raise OutputPathError(f"cannot create folder {folder}: {exc.strerror or exc}") from exc
    if stage is not None:
        stage.created_dirs.extend(reversed(missing))


def _finish_mode(path: Path) -> None:
    # The finished file gets the usual permissions (0666 less the umask; folders 0777), not the
    # temp file's 0600.
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def _put_in_place(tmp: Path, path: Path) -> None:
    if tmp.is_dir():
        _finish_mode(tmp)
        if path.exists():  # a folder is replaced only once the new one is complete
            shutil.rmtree(path)
        os.replace(tmp, path)
        return
    os.replace(tmp, path)
    _finish_mode(path)


def _remove(tmp: Path) -> None:
    if tmp.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.unlink(missing_ok=True)


def _temp_path(path: Path) -> Path:
    return path.parent / f".{path.name}.fairslm-{os.getpid()}-{secrets.token_hex(4)}.tmp"


@contextlib.contextmanager
def atomic_target(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path to write to; on success it replaces ``path``, on error it is removed.

    Inside :func:`staged_outputs` the rename waits until the block ends.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_target(target) as tmp:
    ...     _ = tmp.write_text("whole")
    >>> target.read_text()
    'whole'
    """
    path = Path(path)
    stage = _STAGE.get()
    if path.is_dir():
        raise OutputPathError(f"cannot write {path}: it is a folder; pass a file path")
    if stage is not None:
        stage.check(path)
    _mkdirs(path.parent, stage)
    remove_stale_temps(path.parent)
    # The name is chosen before the file exists, so an interrupt at any point after this line
    # (a signal raises wherever it lands) still knows which file to remove.
    tmp = _temp_path(path)
    try:
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise OutputPathError(f"cannot write {path}: {exc.strerror or exc}") from exc
        os.close(fd)
        yield tmp
        if stage is None:
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if stage is None:
        _finish_mode(path)
    else:
        stage.staged.append((tmp, path))


def write_text_atomic(text: str, path: str | os.PathLike[str]) -> Path:
    """Write ``text`` (UTF-8) to ``path`` whole and return the path."""
    with atomic_target(path) as tmp:
        try:
            tmp.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OutputPathError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return Path(path)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp folder to fill; on success it replaces the folder ``path``, else is removed.

    A folder already at ``path`` is removed only once the new one is complete. The new folder
    gets the usual permissions (0777 less the umask), not the temp folder's 0700. Inside
    :func:`staged_outputs` the swap waits until the block ends.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "model"
    >>> with atomic_directory(target) as tmp:
    ...     _ = (tmp / "config.json").write_text("{}")
    >>> sorted(p.name for p in target.iterdir())
    ['config.json']
    """
    path = Path(path)
    stage = _STAGE.get()
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"cannot write folder {path}: a file of that name exists")
    if stage is not None:
        stage.check(path)
    _mkdirs(path.parent, stage)
    remove_stale_temps(path.parent)
    tmp = _temp_path(path)
    try:
        try:
            tmp.mkdir(mode=0o700)
        except OSError as exc:
            raise OutputPathError(f"cannot write {path}: {exc.strerror or exc}") from exc
        yield tmp
        if stage is None:
            _put_in_place(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    if stage is not None:
        stage.staged.append((tmp, path))
