"""Spark aggregation: the DuckDB engine's SQL, run where the data lives.

The rows stay in Spark; one ``GROUP BY GROUPING SETS`` statement (the same text the DuckDB
engine runs, from :mod:`fairslm.engines._aggregate`) reduces them to a few rows per
(group, y_true, y_pred) cell, and only that result, kilobytes, is collected to the driver. It
uses the DataFrame and SQL API only (no ``sparkContext``, no RDDs, no Python UDFs), so it runs
on classic sessions and on Spark Connect alike.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from fairslm._missing import GROUP_FILL_OR_DROP
from fairslm._userfiles import utf8_problem
from fairslm.engines._aggregate import (
    aggregate_sql,
    check_columns,
    quote_backtick,
    table_from_aggregate,
)
from fairslm.engines._spark_session import is_spark_dataframe, spark_errors, spark_session
from fairslm.exceptions import InvalidDataError
from fairslm.metrics import CountTable

__all__ = ["SparkSource", "count_table_from_spark", "is_remote_path", "spark_source"]

# File formats by suffix, as Spark's reader names them.
_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
    ".delta": "delta",
}
_SCHEMES = ("s3://", "s3a://", "s3n://", "gs://", "abfs://", "abfss://", "wasbs://", "hdfs://",
            "dbfs:/", "file:/", "/Volumes/")


@dataclass
class SparkSource:
    """A Spark DataFrame and how to name where it came from (messages, provenance)."""

    frame: Any
    name: str
    provenance: dict[str, Any] = field(default_factory=dict)
    text_columns: tuple[str, ...] = ()  # CSV: columns to read as text, as DuckDB does

    def frame_with_text(self, columns: Sequence[str]) -> Any:
        """The DataFrame with those of ``columns`` that a CSV gave types read as text, as the
        DuckDB engine reads group labels, even when they look like numbers."""
        as_text = [c for c in dict.fromkeys(columns) if c in self.text_columns]
        if not as_text:
            return self.frame
        return self.frame.withColumns({c: self.frame[c].cast("string") for c in as_text})


def is_remote_path(path: str) -> bool:
    """True for a URI of cluster storage (``s3://``, ``dbfs:/``, ...), not a local path."""
    return path.startswith(_SCHEMES) and not path.startswith(("file:/", "/Volumes/"))


def _looks_like_path(text: str) -> bool:
    return (
        text.startswith(_SCHEMES)
        or "/" in text
        or os.sep in text
        or Path(text).suffix.lower() in _FORMATS
        or Path(text).exists()
    )


def _format_of(path: str, fmt: str | None) -> str:
    if fmt is not None:
        return fmt
    p = Path(path.rstrip("/"))
    suffix = p.suffix.lower()
    if suffix in _FORMATS:
        return _FORMATS[suffix]
    if p.is_dir():
        if (p / "_delta_log").is_dir():
            return "delta"
        for f in sorted(p.rglob("*")):
            if f.suffix.lower() in _FORMATS and not f.name.startswith((".", "_")):
                return _FORMATS[f.suffix.lower()]
    raise InvalidDataError(
        f"cannot tell the format of {path}: name a file .parquet, .csv, .tsv or .jsonl, a folder "
        "of such files or a Delta table, or pass format= ('parquet', 'csv', 'json', 'delta')"
    )


def spark_source(source: Any, *, spark: Any = None, format: str | None = None) -> SparkSource:
    """A Spark DataFrame from a DataFrame, a table name or a path (Parquet, CSV, JSON Lines,
    Delta when ``delta-spark`` is in the session)."""
    if isinstance(source, SparkSource):
        return source
    if is_spark_dataframe(source):
        return SparkSource(source, "the DataFrame", {"kind": "dataframe"})
    if not isinstance(source, (str, os.PathLike)):
        raise InvalidDataError(
            f"the Spark engine reads a Spark DataFrame, a table name or a path; got "
            f"{type(source).__name__}. For a pandas DataFrame use fairslm.audit_predictions"
        )
    text = os.fspath(source)
    if spark is None:
        spark = spark_session()
    if not _looks_like_path(text):
        with spark_errors(repr(text)):
            frame = spark.table(text)
            frame.columns  # noqa: B018 - resolves the table now, so a bad name fails here
        return SparkSource(frame, f"table {text}", {"kind": "table", "table": text})
    if not text.startswith(_SCHEMES) and not Path(text).exists():
        raise InvalidDataError(f"predictions file {text} does not exist")
    fmt = _format_of(text, format)
    reader = spark.read.format(fmt)
    if fmt == "csv":
        # multiLine and a doubled quote as escape: quoted fields may hold newlines and quotes,
        # as pandas and DuckDB read them (Spark's defaults would split such a row in two).
        reader = (reader.option("header", "true").option("inferSchema", "true")
                  .option("multiLine", "true").option("escape", '"'))
        if Path(text).suffix.lower() == ".tsv":
            reader = reader.option("sep", "\t")
    name = Path(text.rstrip("/")).name or text
    if fmt in ("csv", "json") and not text.startswith(_SCHEMES) and Path(text).is_file():
        # Spark decodes bytes that are not UTF-8 as U+FFFD without a word: refuse them, as
        # the other engines do.
        problem = utf8_problem(text)
        if problem is not None:
            raise InvalidDataError(problem)
    # A local path is given to Spark whole: the JVM resolves a relative one against its own
    # working folder, fixed when the session started, not the process's current one.
    where = text if text.startswith(_SCHEMES) else str(Path(text).resolve())
    with spark_errors(f"{name} ({fmt})"):
        frame = reader.load(where)
        frame.columns  # noqa: B018 - reads the schema now, so an unreadable file fails here
    text_cols = tuple(frame.columns) if fmt == "csv" else ()
    return SparkSource(frame, name, {"kind": "path", "path": text, "format": fmt}, text_cols)


def count_table_from_spark(
    source: Any,
    *,
    y_true: str,
    y_pred: str,
    sensitive: Sequence[str],
    weight: str | None = None,
    y_score: str | None = None,
    n_score_bins: int = 1000,
    pos_label: object | None = None,
    missing: str = "error",
    spark: Any = None,
    format: str | None = None,
    missing_advice: str = GROUP_FILL_OR_DROP,
) -> CountTable:
    """Aggregate a Spark DataFrame, table or path into a :class:`~fairslm.metrics.CountTable`.

    Runs the statement of :func:`~fairslm.engines.count_table_from_file` in Spark; the result
    equals :func:`~fairslm.engines.count_table_from_arrays` on the same rows (counts exactly,
    weight and score sums to rounding). Only the aggregated cells reach the driver.

    Parameters
    ----------
    source : pyspark.sql.DataFrame, str or path
        A DataFrame (classic or Spark Connect), a table name (``catalog.schema.table``) or a
        path Spark can read (``.parquet``, ``.csv``, ``.tsv``, ``.jsonl``, a folder of such
        files, a Delta table).
    y_true, y_pred, sensitive, weight, y_score, n_score_bins, pos_label, missing
        As in :func:`~fairslm.engines.count_table_from_file`.
    spark : SparkSession, optional
        The session to use; defaults to the DataFrame's own, else the active one.
    format : str, optional
        Spark's name of the file format when the path does not tell it.
    missing_advice : str, optional
        What the message about missing sensitive values tells the user to do (a command
        without ``--missing group`` says so).
    """
    sensitive = [str(s) for s in sensitive]
    if not sensitive:
        raise InvalidDataError("give at least one sensitive feature column")
    src = spark_source(source, spark=spark, format=format)
    check_columns(src.frame.columns, src.name, y_true=y_true, y_pred=y_pred,
                  sensitive=sensitive, weight=weight, y_score=y_score)
    frame = src.frame_with_text(sensitive)
    session = frame.sparkSession
    view = f"fairslm_rows_{uuid.uuid4().hex}"
    sql = aggregate_sql(view, y_true=y_true, y_pred=y_pred, sensitive=sensitive, weight=weight,
                        y_score=y_score, n_score_bins=n_score_bins, quote=quote_backtick)
    with spark_errors(src.name):
        frame.createOrReplaceTempView(view)
        try:
            result = session.sql(sql)
            # A few rows per cell: plain rows, not Arrow, so no pandas/pyarrow version
            # coupling between the driver and the cluster.
            agg = pd.DataFrame.from_records(
                [tuple(r) for r in result.collect()], columns=result.columns
            )
        finally:
            session.catalog.dropTempView(view)
    return table_from_aggregate(
        {c: agg[c].to_numpy() for c in agg.columns}, src.name, y_true=y_true, y_pred=y_pred, sensitive=sensitive,
        weighted=weight is not None, scored=y_score is not None, n_score_bins=n_score_bins,
        pos_label=pos_label, missing=missing, missing_advice=missing_advice,
    )
