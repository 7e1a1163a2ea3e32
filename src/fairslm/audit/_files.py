"""Audit prediction files (Parquet, CSV, JSON Lines) through DuckDB, or Spark on request."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fairslm.audit._predictions_audit import audit_table_of_columns
from fairslm.audit._result import AuditResult
from fairslm.engines import DEFAULT_MEMORY_LIMIT, count_table_from_file
from fairslm.exceptions import ConfigError

__all__ = ["audit_file"]


def audit_file(
    path: str | Path,
    *,
    y_true: str,
    y_pred: str,
    sensitive: Sequence[str],
    y_score: str | None = None,
    weight: str | None = None,
    pos_label: object | None = None,
    missing: str = "error",
    n_score_bins: int = 1000,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    threads: int | None = None,
    engine: str = "duckdb",
    spark: Any = None,
    **options: Any,
) -> AuditResult:
    """Audit the predictions stored in a file, aggregated by one SQL query in DuckDB.

    The file is read once and never loaded into memory whole, so files larger than memory
    work. ``options`` are those of :func:`~fairslm.audit.audit_count_table` (reference group,
    threshold, bootstrap, ...). ``engine="spark"`` runs the same query in a Spark session
    (``spark``, else the active or a local one) through :func:`~fairslm.audit.audit_spark`;
    there ``path`` may also be a table name or a folder of files.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "preds.csv")
    >>> pd.DataFrame({"y": [1, 1, 0, 1, 1, 0], "p": [1, 1, 0, 1, 0, 0],
    ...               "gender": list("MMMFFF")}).to_csv(f, index=False)
    >>> res = audit_file(f, y_true="y", y_pred="p", sensitive=["gender"], min_group_size=1)
    >>> res.view("gender").criterion("equal_opportunity").ratio
    0.5
    """
    if engine == "spark":
        from fairslm.audit._spark import audit_spark

        return audit_spark(
            path, y_true=y_true, y_pred=y_pred, sensitive=sensitive, y_score=y_score,
            weight=weight, pos_label=pos_label, missing=missing, n_score_bins=n_score_bins,
            spark=spark, **options,
        )
    if engine != "duckdb":
        raise ConfigError(f"unknown engine {engine!r}; use 'duckdb' (default) or 'spark'")
    path = Path(path)
    table = count_table_from_file(
        path, y_true=y_true, y_pred=y_pred, sensitive=sensitive, weight=weight,
        y_score=y_score, n_score_bins=n_score_bins, pos_label=pos_label, missing=missing,
        memory_limit=memory_limit, threads=threads,
    )
    source = {"file": path.name, "bytes": path.stat().st_size, "format": path.suffix[1:]}
    return audit_table_of_columns(
        table, {"engine": "duckdb", "source": source}, options, y_true=y_true, y_pred=y_pred,
        sensitive=sensitive, y_score=y_score, weight=weight, pos_label=pos_label,
        missing=missing, n_score_bins=n_score_bins,
    )
