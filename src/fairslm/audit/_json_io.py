"""Reading versioned result JSON: the source (path or text) and the kind/version check."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fairslm.exceptions import InvalidDataError

__all__ = ["check_kind_version", "read_json_source"]


def read_json_source(source: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """Parse ``source``, a JSON file path or a JSON string, naming ``what`` in errors."""
    text = str(source)
    if not text.lstrip().startswith("{"):
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidDataError(f"cannot read {what} JSON {source}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidDataError(f"{what} JSON is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidDataError(f"{what} JSON must be an object; got {type(data).__name__}")
    return data


def check_kind_version(
    data: dict[str, Any], *, kind: str, version: str, what: str, written_by: str
) -> str:
    """Refuse JSON of another kind or another major schema version; return its version."""
    if data.get("kind") != kind:
        raise InvalidDataError(
            f"not a fairslm {what} (kind={data.get('kind')!r}); expected the JSON written by "
            f"{written_by}"
        )
    found = str(data.get("schema_version", ""))
    if found.split(".")[0] != version.split(".")[0]:
        raise InvalidDataError(
            f"{what} has schema version {found!r}; this fairslm reads {version}. "
            f"Re-run {written_by} with this version"
        )
    return found
