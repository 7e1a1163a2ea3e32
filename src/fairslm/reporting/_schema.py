"""The report document's contract: its kind, schema version and JSON Schema, and reading it back."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from fairslm._artifact import schema_version_message
from fairslm._userfiles import read_user_text
from fairslm.exceptions import InvalidDataError

__all__ = ["REPORT_KIND", "REPORT_SCHEMA_VERSION", "load_report", "report_schema", "validate_report"]

REPORT_KIND = "fairslm.report"
REPORT_SCHEMA_VERSION = "1.1"  # 1.1: the verdict "insufficient"


def report_schema() -> dict[str, Any]:
    """The JSON Schema of the report document (shipped as ``report.schema.json``)."""
    text = resources.files("fairslm.reporting").joinpath("report.schema.json").read_text("utf-8")
    return dict(json.loads(text))


def validate_report(report: Any) -> dict[str, Any]:
    """Check a report document's kind, schema version and shape; return it.

    Raises
    ------
    InvalidDataError
        Not a report, a report of another schema major version, or a malformed one.
    """
    if not isinstance(report, Mapping) or report.get("kind") != REPORT_KIND:
        kind = report.get("kind") if isinstance(report, Mapping) else type(report).__name__
        raise InvalidDataError(
            f"not a fairslm report (kind={kind!r}); expected the report.json written by "
            "`fairslm report` or `fairslm run`"
        )
    version = str(report.get("schema_version", ""))
    if version.split(".")[0] != REPORT_SCHEMA_VERSION.split(".")[0]:
        raise InvalidDataError(schema_version_message(
            "report", version, REPORT_SCHEMA_VERSION, "`fairslm report` from the audit files"))
    import jsonschema

    try:
        jsonschema.validate(dict(report), report_schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise InvalidDataError(f"report does not match its schema at {where}: {exc.message}") from exc
    return dict(report)


def load_report(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Read and validate a report JSON file (or dict)."""
    if isinstance(source, Mapping):
        return validate_report(source)
    path = Path(source)
    try:
        data = json.loads(read_user_text(path, what="report file"))
    except FileNotFoundError as exc:
        raise InvalidDataError(f"report file {path} does not exist") from exc
    except json.JSONDecodeError as exc:
        raise InvalidDataError(f"report file {path} is not valid JSON: {exc}") from exc
    return validate_report(data)
