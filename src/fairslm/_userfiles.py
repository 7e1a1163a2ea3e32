"""Read the text files users hand to fairslm (TOML, JSON, YAML, term lists) as UTF-8.

One reader, so that every command says the same thing about the same problem: a folder where a
file was expected, a file that is not UTF-8 (with where and how to convert it), an empty file.
A UTF-8 byte-order mark, as some Windows editors write, is accepted and dropped.
"""

from __future__ import annotations

import os
from pathlib import Path

from fairslm.exceptions import InvalidDataError

__all__ = [
    "check_input_file",
    "not_utf8_message",
    "read_user_text",
    "table_read_error",
    "utf8_problem",
]

_CHUNK = 1 << 20


def _message(path: Path, byte: int, line: int, col: int) -> str:
    guess = " it looks like Latin-1/Windows-1252." if 0x80 <= byte <= 0xFF else ""
    return (
        f"{path} is not UTF-8 text (byte 0x{byte:02x} on line {line}, column {col});{guess} "
        f"Convert it, e.g. `iconv -f latin1 -t utf-8 {path} > "
        f"{path.with_suffix('.utf8' + path.suffix)}`, or save it as UTF-8 from your editor"
    )


def not_utf8_message(path: str | os.PathLike[str], raw: bytes, exc: UnicodeDecodeError) -> str:
    """Say where ``raw`` (the bytes of ``path``) stops being UTF-8 and how to convert it.

    Examples
    --------
    >>> raw = "a,b\\ncafé,1\\n".encode("latin-1")
    >>> try:
    ...     raw.decode("utf-8")
    ... except UnicodeDecodeError as exc:
    ...     print(not_utf8_message("x.csv", raw, exc))
    x.csv is not UTF-8 text (byte 0xe9 on line 2, column 4); it looks like Latin-1/Windows-1252. Convert it, e.g. `iconv -f latin1 -t utf-8 x.csv > x.utf8.csv`, or save it as UTF-8 from your editor
    """
    line = raw.count(b"\n", 0, exc.start) + 1
    col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
    return _message(Path(path), raw[exc.start], line, col)


def utf8_problem(path: str | os.PathLike[str]) -> str | None:
    """The :func:`not_utf8_message` for a text file that is not UTF-8, None when it is.

    Reads the file in chunks, so it is cheap to call after a reader has failed.
    """
    import codecs

    p = Path(path)
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset, last_nl = 1, 0, -1  # last_nl: absolute offset of the last newline seen
    with p.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # Positions count from the decoder's buffer: bytes held back from the previous
                # chunk (an incomplete sequence) come first.
                start = max(exc.start - (len(exc.object) - len(chunk)), 0)
                before = chunk[:start]
                nl = before.rfind(b"\n")
                if nl >= 0:
                    last_nl = offset + nl
                byte = chunk[start] if start < len(chunk) else 0
                return _message(p, byte, line + before.count(b"\n"), offset + start - last_nl)
            line += chunk.count(b"\n")
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                last_nl = offset + nl
            offset += len(chunk)
    return None


def check_input_file(path: str | os.PathLike[str], *, what: str = "data file") -> Path:
    """Refuse a path that is missing, a folder or an empty file, naming ``what``; return it."""
    p = Path(path)
    if not p.exists():
        raise InvalidDataError(f"{what} {p} does not exist; check the path")
    if p.is_dir():
        raise InvalidDataError(
            f"{what} {p} is a folder; pass a file (.csv, .tsv, .parquet or .jsonl)"
        )
    if p.stat().st_size == 0:
        raise InvalidDataError(f"{what} {p} is empty (0 bytes)")
    return p


def table_read_error(
    path: str | os.PathLike[str], fmt: str, exc: BaseException, *, name: str | None = None
) -> InvalidDataError:
    """A message for a reader's failure on ``path``, saying what is wrong with the file.

    The file is checked for the usual causes (not UTF-8, empty, a Parquet file cut short)
    before falling back to the reader's own words. ``name`` is how the message names the file
    (default: the path).
    """
    p = Path(path)
    name = str(p) if name is None else name
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if p.is_file() and fmt.lower() in ("csv", "tsv", "jsonl", "json lines", "json"):
        problem = utf8_problem(p)
        if problem is not None:
            return InvalidDataError(problem)
    if p.is_file() and p.stat().st_size == 0:
        return InvalidDataError(f"{name} is empty (0 bytes)")
    if fmt.lower() == "parquet":
        return InvalidDataError(
            f"cannot read {name} as {fmt}: not a readable Parquet file, perhaps truncated or "
            f"corrupt ({text}). Is the file complete and really {fmt}? Write it again"
        )
    return InvalidDataError(
        f"cannot read {name} as {fmt}: {text}. Is the file complete and really {fmt}?"
    )


def read_user_text(
    path: str | os.PathLike[str], *, what: str = "file", allow_empty: bool = False
) -> str:
    """The text of ``path`` decoded as UTF-8 (a leading byte-order mark dropped).

    Raises :class:`~fairslm.exceptions.InvalidDataError` naming ``what`` and the path when the
    path is a folder, the bytes are not UTF-8, or the file is empty (unless ``allow_empty``).
    A missing file raises :class:`FileNotFoundError`, so callers can add their own hint.
    """
    p = Path(path)
    if p.is_dir():
        raise InvalidDataError(f"{what} {p} is a folder; pass the file itself")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidDataError(f"{what} {not_utf8_message(p, raw, exc)}") from None
    if not allow_empty and not text.strip():
        raise InvalidDataError(f"{what} {p} is empty")
    return text
