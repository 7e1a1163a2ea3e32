"""Audit predictions that live in Spark: only the count table travels to the driver."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fairslm.audit._files import audit_table_of_columns
from fairslm.audit._result import AuditResult
from fairslm.engines import count_table_from_spark, spark_session, spark_source

__all__ = ["audit_spark"]


def audit_spark(
    source: Any,
    *,
    y_true: str,
    y_pred: str,
    sensitive: Sequence[str],
    y_score: str | None = None,
    weight: str | None = None,
    pos_label: object | None = None,
    missing: str = "error",
    n_score_bins: int = 1000,
    spark: Any = None,
    format: str | None = None,
    **options: Any,
) -> AuditResult:
    """Audit predictions held by Spark: a DataFrame, a table name or a path.

    The rows are aggregated by Spark with the same SQL statement the DuckDB engine runs (see
    :func:`~fairslm.engines.count_table_from_spark`); metrics, intervals, tests and verdicts are
    then computed on the driver from that small table, exactly as for any other engine.
    Works with classic sessions and Spark Connect.

    Parameters
    ----------
    source : pyspark.sql.DataFrame, str or path
        A DataFrame, a table name (``catalog.schema.table``) or a path Spark can read
        (Parquet, CSV, JSON Lines, a folder of them, a Delta table).
    y_true, y_pred, sensitive, y_score, weight, pos_label, missing, n_score_bins
        As in :func:`~fairslm.audit.audit_file`.
    spark : SparkSession, optional
        Defaults to the DataFrame's own session, else the active one (a local one if none).
    format : str, optional
        Spark's name of the file format when the path does not tell it.
    **options
        Those of :func:`~fairslm.audit.audit_count_table` (reference group, threshold,
        bootstrap, ...).

    Examples
    --------
    In a notebook or job that has a session ``spark``::

        res = fairslm.audit_spark(spark.table("main.hiring.predictions"), y_true="label",
                                  y_pred="decision", sensitive=["gender", "race"])
        res.to_json("audit.json")
    """
    if spark is None and isinstance(source, str):
        spark = spark_session()
    src = spark_source(source, spark=spark, format=format)
    table = count_table_from_spark(
        src, y_true=y_true, y_pred=y_pred, sensitive=sensitive, weight=weight,
        y_score=y_score, n_score_bins=n_score_bins, pos_label=pos_label, missing=missing,
    )
    session = src.frame.sparkSession
    provenance = {
        "engine": "spark",
        "source": src.provenance,
        "spark": {"version": str(session.version), "connect": _is_connect(session)},
    }
    return audit_table_of_columns(
        table, provenance, options, y_true=y_true, y_pred=y_pred, sensitive=sensitive,
        y_score=y_score, weight=weight, pos_label=pos_label, missing=missing,
        n_score_bins=n_score_bins,
    )


def _is_connect(session: Any) -> bool:
    return "connect" in (type(session).__module__ or "")
