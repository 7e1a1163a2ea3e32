"""File aggregation: one SQL ``GROUP BY`` in DuckDB over Parquet, CSV or JSON Lines.

DuckDB streams the file through a hash aggregate whose state is one row per
(group, y_true, y_pred) cell, so memory stays flat in the number of rows and files larger than
memory work. The small aggregated result is then validated and turned into the same
:class:`~fairslm.metrics.CountTable` the numpy engine builds from arrays. The result is read as
numpy arrays, not a pandas DataFrame: importing pandas would cost an audit of a file more than
the audit itself.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm._userfiles import check_input_file, table_read_error, utf8_problem
from fairslm.engines._aggregate import (
    aggregate_sql,
    check_columns,
    quote_double,
    table_from_aggregate,
)
from fairslm.exceptions import InvalidDataError
from fairslm.metrics import CountTable

__all__ = ["DEFAULT_MEMORY_LIMIT", "count_table_from_file", "file_reader"]

# DuckDB's own default is 80% of RAM; a fixed modest limit keeps an audit from crowding out
# other work on a shared machine. The aggregation itself needs only a few MB.
DEFAULT_MEMORY_LIMIT = "2GB"

_READERS = {
    ".parquet": ("read_parquet({path})", "Parquet"),
    ".pq": ("read_parquet({path})", "Parquet"),
    ".csv": ("read_csv_auto({path})", "CSV"),
    ".tsv": ("read_csv_auto({path}, delim='\t')", "TSV"),
    ".jsonl": ("read_json_auto({path}, format='newline_delimited')", "JSON Lines"),
    ".ndjson": ("read_json_auto({path}, format='newline_delimited')", "JSON Lines"),
    ".json": ("read_json_auto({path})", "JSON"),
}


def _quote_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def file_reader(path: str | Path) -> tuple[str, str]:
    """The DuckDB table function reading ``path`` and the format's name."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in _READERS:
        raise InvalidDataError(
            f"unsupported file type {suffix or '(none)'!r} for {p.name}; use .parquet, .csv, "
            ".tsv or .jsonl"
        )
    template, fmt = _READERS[suffix]
    return template.format(path=_quote_str(str(p))), fmt


def _connect(memory_limit: str, threads: int | None) -> Any:
    import duckdb

    config: dict[str, Any] = {
        "memory_limit": memory_limit,
        "temp_directory": os.path.join(tempfile.gettempdir(), "fairslm-duckdb"),
    }
    if threads is not None:
        config["threads"] = int(threads)
    try:
        con = duckdb.connect(config=config)
    except duckdb.Error as exc:
        raise InvalidDataError(
            f"cannot start DuckDB with memory_limit={memory_limit!r}: {exc}. Use a size such "
            "as '2GB' or '512MB'"
        ) from exc
    # DuckDB draws a progress bar on stdout for long queries; a library must not.
    con.execute("SET enable_progress_bar = false")
    return con


def count_table_from_file(
    path: str | Path,
    *,
    y_true: str,
    y_pred: str,
    sensitive: Sequence[str],
    weight: str | None = None,
    y_score: str | None = None,
    n_score_bins: int = 1000,
    pos_label: object | None = None,
    missing: str = "error",
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    threads: int | None = None,
) -> CountTable:
    """Aggregate a predictions file into a :class:`~fairslm.metrics.CountTable` with DuckDB.

    One SQL query (``GROUP BY GROUPING SETS`` over the sensitive columns, ``y_true`` and
    ``y_pred``, plus the score bin when ``y_score`` is given) reads the file once; the result
    equals :func:`count_table_from_arrays` on the same data. In CSV files the sensitive
    columns are read as text (group labels), whatever they look like.

    Parameters
    ----------
    path : str or Path
        A ``.parquet``, ``.csv``, ``.tsv`` or ``.jsonl`` file.
    y_true, y_pred : str
        Columns of true labels and decisions.
    sensitive : sequence of str
        Sensitive feature columns (several give intersectional groups).
    weight, y_score : str, optional
        Columns of sample weights and of scores in [0, 1].
    memory_limit : str, default "2GB"
        DuckDB's memory limit; the aggregation spills to a temporary folder beyond it.
    threads : int, optional
        DuckDB worker threads (default: all cores).

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "p.csv")
    >>> pd.DataFrame({"y": [1, 0, 1, 1], "p": [1, 0, 0, 1], "g": list("aabb")}).to_csv(f, index=False)
    >>> t = count_table_from_file(f, y_true="y", y_pred="p", sensitive=["g"])
    >>> t.group_labels, t.counts.sum(axis=(1, 2)).tolist()
    (['a', 'b'], [2.0, 2.0])
    """
    import duckdb

    p = check_input_file(path, what="predictions file")
    reader, fmt = file_reader(p)
    sensitive = [str(s) for s in sensitive]
    if not sensitive:
        raise InvalidDataError("give at least one sensitive feature column")
    con = _connect(memory_limit, threads)
    try:
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
        except duckdb.Error as exc:
            raise table_read_error(p, fmt, exc, name=p.name) from exc
        columns = [str(r[0]) for r in described]
        if fmt in ("CSV", "TSV") and len(columns) == 1 and any(d in columns[0] for d in ",;\t|"):
            # The sniffer gave up on splitting: rows disagree on their fields or quoting.
            raise InvalidDataError(
                f"cannot read {p.name} as {fmt}: its lines could not be split into consistent "
                f"columns (header read as one column {columns[0]!r}). Check for rows with a "
                "different number of fields or unbalanced quotes"
            )
        check_columns(columns, p.name, y_true=y_true, y_pred=y_pred, sensitive=sensitive,
                      weight=weight, y_score=y_score)
        text_labels: list[str] = []
        if fmt in ("CSV", "TSV"):
            # Read sensitive columns as text: the CSV sniffer would otherwise read a column of
            # only "F" (or "T") as a boolean. Labels it reads as BOOLEAN ("yes"/"no", "t"/"f",
            # "true"/"false") are read as text too, so they keep the user's values; only the
            # spellings pandas reads as booleans become booleans again (see below).
            sniffed = {str(r[0]): str(r[1]) for r in described}
            text_labels = [c for c in dict.fromkeys((y_true, y_pred)) if sniffed[c] == "BOOLEAN"]
            text_cols = dict.fromkeys([*sensitive, *text_labels])
            types = ", ".join(f"{_quote_str(c)}: 'VARCHAR'" for c in text_cols)
            reader = reader[:-1] + f", types={{{types}}})"
        sql = aggregate_sql(reader, y_true=y_true, y_pred=y_pred, sensitive=sensitive,
                            weight=weight, y_score=y_score, n_score_bins=n_score_bins,
                            quote=quote_double)
        try:
            agg = _run(con, sql, p.name, weight, y_score)
        except InvalidDataError:
            # The sniffer reads a sample; a line that is not UTF-8 may lie past it.
            problem = utf8_problem(p) if fmt in ("CSV", "TSV", "JSON Lines", "JSON") else None
            if problem is not None:
                raise InvalidDataError(problem) from None
            raise
    finally:
        con.close()
    for col, key in ((y_true, "yt"), (y_pred, "yp")):
        if col in text_labels:
            agg[key] = pandas_booleans(agg[key])
    return table_from_aggregate(
        agg, p.name, y_true=y_true, y_pred=y_pred, sensitive=sensitive, weighted=weight is not None,
        scored=y_score is not None, n_score_bins=n_score_bins, pos_label=pos_label,
        missing=missing,
    )


# The spellings pandas.read_csv reads as booleans (its default true_values/false_values).
_PANDAS_TRUE = frozenset({"True", "TRUE", "true"})
_PANDAS_FALSE = frozenset({"False", "FALSE", "false"})


def pandas_booleans(labels: NDArray[Any]) -> NDArray[Any]:
    """Text labels as pandas would read them from a CSV: booleans when every value is spelt
    True/False (any of pandas' spellings), otherwise the text as written ("yes"/"no" stay).

    So ``audit`` (pandas) and ``audit-predictions`` (DuckDB) see the same labels in one file.

    Examples
    --------
    >>> pandas_booleans(np.array(["yes", "no"], dtype=object)).tolist()
    ['yes', 'no']
    >>> pandas_booleans(np.array(["TRUE", "false", None], dtype=object)).tolist()
    [True, False, None]
    """
    values = labels.tolist()
    present = {str(v) for v in values if not (v is None or v != v)}
    if present and present <= _PANDAS_TRUE | _PANDAS_FALSE:
        out = np.empty(len(values), dtype=object)
        out[:] = [v if v is None or v != v else str(v) in _PANDAS_TRUE for v in values]
        return out
    return labels


def _unmasked(values: Any) -> NDArray[Any]:
    """A column of DuckDB's ``fetchnumpy`` with NULLs as pandas reads them: ``NaN`` in numbers,
    ``None`` in anything else."""
    mask = getattr(values, "mask", None)
    data = np.asarray(getattr(values, "data", values))
    if mask is None or not np.any(mask):
        return data
    out = data.astype(np.float64 if data.dtype.kind in "iuf" else object)
    out[np.asarray(mask, dtype=bool)] = np.nan if data.dtype.kind in "iuf" else None
    return out


def _run(
    con: Any, sql: str, name: str, weight: str | None, y_score: str | None
) -> dict[str, NDArray[Any]]:
    import duckdb

    try:
        return {k: _unmasked(v) for k, v in con.execute(sql).fetchnumpy().items()}
    except duckdb.Error as exc:
        msg = str(exc).splitlines()[0]
        if "Conversion Error" in msg or "Could not convert" in msg:
            what = " or ".join(c for c in (weight, y_score) if c) or "a column"
            raise InvalidDataError(
                f"{name}: {what} must be numeric; DuckDB says: {msg}"
            ) from exc
        raise InvalidDataError(f"cannot aggregate {name}: {msg}") from exc
