"""Validate the texts handed to a model and hash them for the score cache."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from fairslm.exceptions import InvalidDataError

__all__ = ["check_texts", "text_hash"]


def _preview(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def check_texts(texts: Iterable[object] | str) -> list[str]:
    """Return ``texts`` as a list of non-empty strings, or raise :class:`InvalidDataError`.

    A single string is refused rather than scored character by character, missing values
    (``None``, ``NaN``) and other non-strings are refused with their position, and so are texts
    that are empty or only whitespace (a model would score them, but the score means nothing).

    Examples
    --------
    >>> check_texts(("a bio", "another bio"))
    ['a bio', 'another bio']
    """
    if isinstance(texts, str | bytes):
        raise InvalidDataError(
            "expected a sequence of texts, got a single string; wrap it in a list: [text]"
        )
    try:
        items = list(texts)
    except TypeError as exc:
        raise InvalidDataError(
            f"expected a sequence of texts (list, tuple, pandas Series), got {type(texts).__name__}"
        ) from exc
    bad = [(i, t) for i, t in enumerate(items) if not isinstance(t, str)]
    if bad:
        i, t = bad[0]
        raise InvalidDataError(
            f"expected every text to be a string; {len(bad)} of {len(items)} are not, the first "
            f"at position {i} is {type(t).__name__} {t!r}. Drop rows with missing texts or "
            "convert the column to str before scoring"
        )
    empty = [i for i, t in enumerate(items) if not str(t).strip()]
    if empty:
        shown = ", ".join(str(i) for i in empty[:5]) + (", ..." if len(empty) > 5 else "")
        raise InvalidDataError(
            f"expected non-empty texts; {len(empty)} of {len(items)} are empty or only "
            f"whitespace (positions {shown}). Remove them before scoring"
        )
    return [str(t) for t in items]


def text_hash(text: str) -> str:
    """SHA-256 of the UTF-8 text, the per-text half of a score-cache key."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
