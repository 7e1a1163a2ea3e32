"""Audit prediction files (Parquet, CSV, JSON Lines)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fairslm.audit._model_audit import audit_predictions
from fairslm.audit._result import AuditResult
from fairslm.exceptions import InvalidDataError

__all__ = ["audit_file"]


def audit_file(
    path: str | Path,
    *,
    y_true: str,
    y_pred: str,
    sensitive: Sequence[str],
    y_score: str | None = None,
    weight: str | None = None,
    **options: Any,
) -> AuditResult:
    """Audit the predictions stored in a file."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise InvalidDataError(f"predictions file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        df = pd.read_parquet(path)
    elif suffix == ".csv":
        df = pd.read_csv(path)
    elif suffix in (".jsonl", ".json"):
        df = pd.read_json(path, lines=True)
    else:
        raise InvalidDataError(f"unsupported file type {suffix!r}; use .parquet, .csv or .jsonl")
    cols = [y_true, y_pred, *sensitive] + [c for c in (y_score, weight) if c]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InvalidDataError(
            f"column(s) {missing} not found in {path.name}; columns are: {', '.join(map(str, df.columns))}"
        )
    return audit_predictions(
        df[y_true],
        df[y_pred],
        sensitive_features=df[list(sensitive)],
        y_score=None if y_score is None else df[y_score],
        sample_weight=None if weight is None else df[weight],
        **options,
    )
