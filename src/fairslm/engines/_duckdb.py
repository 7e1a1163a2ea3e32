"""File aggregation: one SQL ``GROUP BY`` in DuckDB over Parquet, CSV or JSON Lines.

DuckDB streams the file through a hash aggregate whose state is one row per
(group, y_true, y_pred) cell, so memory stays flat in the number of rows and files larger than
memory work. The small aggregated result is then validated and turned into the same
:class:`~fairslm.metrics.CountTable` the numpy engine builds from arrays.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from fairslm.engines._inputs import encode_features, encode_labels
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


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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


def _suggest(name: str, columns: list[str]) -> str:
    lower = {c.lower(): c for c in columns}
    if name.lower() in lower:
        return f" Did you mean {lower[name.lower()]!r}?"
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


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

    p = Path(path)
    if not p.exists():
        raise InvalidDataError(f"predictions file {p} does not exist")
    if p.is_file() and p.stat().st_size == 0:
        raise InvalidDataError(f"predictions file {p.name} is empty (0 bytes)")
    reader, fmt = file_reader(p)
    sensitive = [str(s) for s in sensitive]
    if not sensitive:
        raise InvalidDataError("give at least one sensitive feature column")
    con = _connect(memory_limit, threads)
    try:
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
        except duckdb.Error as exc:
            raise InvalidDataError(
                f"cannot read {p.name} as {fmt}: {str(exc).splitlines()[0]}. Is the file "
                f"complete and really {fmt}?"
            ) from exc
        columns = [str(r[0]) for r in described]
        if fmt in ("CSV", "TSV") and len(columns) == 1 and any(d in columns[0] for d in ",;\t|"):
            # The sniffer gave up on splitting: rows disagree on their fields or quoting.
            raise InvalidDataError(
                f"cannot read {p.name} as {fmt}: its lines could not be split into consistent "
                f"columns (header read as one column {columns[0]!r}). Check for rows with a "
                "different number of fields or unbalanced quotes"
            )
        wanted = [("--y-true", y_true), ("--y-pred", y_pred)]
        wanted += [("--sensitive", s) for s in sensitive]
        wanted += [(o, c) for o, c in (("--weight", weight), ("--y-score", y_score)) if c]
        for _opt, col in wanted:
            if col not in columns:
                raise InvalidDataError(
                    f"column {col!r} not found in {p.name}; columns are: "
                    f"{', '.join(columns)}.{_suggest(col, columns)}"
                )
        if fmt in ("CSV", "TSV"):
            # Read sensitive columns as text: the CSV sniffer would otherwise read a column of
            # only "F" (or "T") as a boolean.
            types = ", ".join(f"{_quote_str(c)}: 'VARCHAR'" for c in dict.fromkeys(sensitive))
            reader = reader[:-1] + f", types={{{types}}})"
        agg = _aggregate(con, reader, p.name, y_true, y_pred, sensitive, weight, y_score,
                         n_score_bins)
    finally:
        con.close()
    return _table_from_aggregate(
        agg, p.name, y_true=y_true, y_pred=y_pred, sensitive=sensitive, weighted=weight is not None,
        scored=y_score is not None, n_score_bins=n_score_bins, pos_label=pos_label,
        missing=missing,
    )


def _aggregate(
    con: Any,
    reader: str,
    name: str,
    y_true: str,
    y_pred: str,
    sensitive: list[str],
    weight: str | None,
    y_score: str | None,
    n_score_bins: int,
) -> pd.DataFrame:
    import duckdb

    keys = [f"{_quote_ident(s)} AS s{i}" for i, s in enumerate(sensitive)]
    key_names = [f"s{i}" for i in range(len(sensitive))]
    cols = [*keys, f"{_quote_ident(y_true)} AS yt", f"{_quote_ident(y_pred)} AS yp"]
    w = "1.0" if weight is None else f"CAST({_quote_ident(weight)} AS DOUBLE)"
    cols.append(f"{w} AS w")
    sets = [f"({', '.join([*key_names, 'yt', 'yp'])})"]
    if y_score is not None:
        s = f"CAST({_quote_ident(y_score)} AS DOUBLE)"
        nb = int(n_score_bins)
        cols.append(f"{s} AS sc")
        # Same rule as numpy: bin = min(trunc(score * n_bins), n_bins - 1); invalid -> -1.
        cols.append(
            f"CASE WHEN {s} IS NULL OR isnan({s}) OR {s} < 0 OR {s} > 1 THEN -1 "
            f"ELSE least(CAST(trunc({s} * {nb}) AS BIGINT), {nb - 1}) END AS sb"
        )
        sets.append(f"({', '.join([*key_names, 'yt', 'sb'])})")
    score_aggs = (
        ", sum(w * sc) AS ssum, sum(w * sc * sc) AS ssq, min(sc) AS smin, max(sc) AS smax, "
        "count(*) FILTER (WHERE sc IS NULL OR isnan(sc)) AS s_bad"
        if y_score is not None
        else ""
    )
    grouping = ", grouping(yp) AS is_score" if y_score is not None else ", 0 AS is_score"
    sql = (
        f"SELECT {', '.join(key_names)}, yt, yp{', sb' if y_score else ''}, count(*) AS n, "
        "sum(w) AS wsum, sum(w * w) AS wsq, "
        "count(*) FILTER (WHERE w IS NULL OR isnan(w)) AS w_bad, "
        "count(*) FILTER (WHERE w < 0) AS w_neg, min(w) AS w_min"
        f"{score_aggs}{grouping} "
        f"FROM (SELECT {', '.join(cols)} FROM {reader}) "
        f"GROUP BY GROUPING SETS ({', '.join(sets)})"
    )
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        msg = str(exc).splitlines()[0]
        if "Conversion Error" in msg or "Could not convert" in msg:
            what = " or ".join(c for c in (weight, y_score) if c) or "a column"
            raise InvalidDataError(
                f"{name}: {what} must be numeric; DuckDB says: {msg}"
            ) from exc
        raise InvalidDataError(f"cannot aggregate {name}: {msg}") from exc


def _table_from_aggregate(
    agg: pd.DataFrame,
    name: str,
    *,
    y_true: str,
    y_pred: str,
    sensitive: list[str],
    weighted: bool,
    scored: bool,
    n_score_bins: int,
    pos_label: object | None,
    missing: str,
) -> CountTable:
    is_score = agg["is_score"].to_numpy().astype(bool)
    conf = agg[~is_score].reset_index(drop=True)
    n = conf["n"].to_numpy().astype(np.float64)
    total = int(n.sum())
    if total == 0:
        raise InvalidDataError(f"predictions file {name} has no rows")
    for col, key in ((y_true, "yt"), (y_pred, "yp")):
        bad = conf[key].isna().to_numpy()
        if bad.any():
            raise InvalidDataError(
                f"column {col!r} of {name} has {int(n[bad].sum())} missing (NULL/NaN) value(s) "
                f"out of {total} rows. Drop or fill those rows before auditing"
            )
    if weighted:
        w_bad = int(conf["w_bad"].sum())
        if w_bad:
            raise InvalidDataError(
                f"the weight column of {name} has {w_bad} missing (NULL/NaN) value(s); "
                "weights must be finite and non-negative"
            )
        w_neg = int(conf["w_neg"].sum())
        if w_neg:
            raise InvalidDataError(
                f"the weight column of {name} has {w_neg} negative value(s) (smallest "
                f"{float(conf['w_min'].min()):g}); weights must be non-negative"
            )
        if not np.isfinite(conf["wsum"].to_numpy(dtype=np.float64)).all():
            raise InvalidDataError(f"the weight column of {name} has infinite values")
    for i, s in enumerate(sensitive):
        n_missing = int(n[conf[f"s{i}"].isna().to_numpy()].sum())
        if n_missing and missing == "error":
            raise InvalidDataError(
                f"sensitive feature {s!r} has {n_missing} missing value(s) out of {total} rows "
                f"in {name}. Fill them, drop those rows, or pass --missing group "
                "(missing='group') to audit them as their own group"
            )
    score = agg[is_score].reset_index(drop=True) if scored else None
    if score is not None:
        s_bad = int(score["s_bad"].sum())
        if s_bad:
            raise InvalidDataError(f"the score column of {name} has {s_bad} NULL/NaN value(s)")
        lo, hi = float(score["smin"].min()), float(score["smax"].max())
        if lo < 0 or hi > 1:
            raise InvalidDataError(
                f"scores in {name} must be probabilities in [0, 1]; found values from {lo:g} "
                f"to {hi:g}. Pass the predicted probability of the positive class"
            )
    rows = conf if score is None else pd.concat([conf, score], ignore_index=True)
    n_conf = len(conf)
    feats = {s: rows[f"s{i}"] for i, s in enumerate(sensitive)}
    features, levels, codes = encode_features(feats, len(rows), missing=missing)
    yt_all = _column_values(rows["yt"])
    classes, tc_all, pc = encode_labels(yt_all[:n_conf], _column_values(conf["yp"]), pos_label)
    # Score rows' labels are a subset of the confusion rows' labels: map them on the classes.
    lookup = {c: i for i, c in enumerate(classes)}
    tc_score = np.asarray([lookup[_py(v)] for v in yt_all[n_conf:]], dtype=np.int64)
    sizes = [len(lv) for lv in levels]
    combined = np.zeros(len(rows), dtype=np.int64)
    for c, size in zip(codes, sizes, strict=True):
        combined = combined * size + c
    uniq = np.unique(combined[:n_conf])
    g = np.searchsorted(uniq, combined)
    k = len(classes)
    n_groups = len(uniq)
    counts = np.zeros((n_groups, k, k))
    np.add.at(counts, (g[:n_conf], tc_all, pc), n)
    if weighted:
        wsum = np.zeros_like(counts)
        wsq = np.zeros_like(counts)
        np.add.at(wsum, (g[:n_conf], tc_all, pc), conf["wsum"].to_numpy(dtype=np.float64))
        np.add.at(wsq, (g[:n_conf], tc_all, pc), conf["wsq"].to_numpy(dtype=np.float64))
    else:
        wsum = wsq = counts
    s_counts = s_wsum = s_sums = s_sq = edges = None
    if score is not None:
        nb = int(n_score_bins)
        edges = np.linspace(0.0, 1.0, nb + 1)
        gi = g[n_conf:]
        sb = score["sb"].to_numpy().astype(np.int64)
        s_counts = np.zeros((n_groups, k, nb))
        np.add.at(s_counts, (gi, tc_score, sb), score["n"].to_numpy(dtype=np.float64))
        s_sums = np.zeros_like(s_counts)
        np.add.at(s_sums, (gi, tc_score, sb), score["ssum"].to_numpy(dtype=np.float64))
        s_sq = np.zeros_like(s_counts)
        np.add.at(s_sq, (gi, tc_score, sb), score["ssq"].to_numpy(dtype=np.float64))
        if weighted:
            s_wsum = np.zeros_like(s_counts)
            np.add.at(s_wsum, (gi, tc_score, sb), score["wsum"].to_numpy(dtype=np.float64))
        else:
            s_wsum = s_counts
    keys = np.stack(np.unravel_index(uniq, sizes), axis=1).astype(np.int64)
    return CountTable(
        features=features,
        levels=levels,
        keys=keys,
        classes=classes,
        counts=counts,
        weight_sums=wsum,
        weight_sq_sums=wsq,
        weighted=weighted,
        score_edges=edges,
        score_counts=s_counts,
        score_weight_sums=s_wsum,
        score_sums=s_sums,
        score_sq_sums=s_sq,
    )


def _py(v: Any) -> object:
    return v.item() if isinstance(v, np.generic) else v


def _column_values(col: pd.Series) -> NDArray[Any]:
    if isinstance(col.dtype, pd.StringDtype) or col.dtype == object:
        return np.asarray(col.astype(object))
    return col.to_numpy()
