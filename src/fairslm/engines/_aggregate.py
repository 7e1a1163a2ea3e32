"""The one aggregation query both SQL engines run, and its result turned into a count table.

DuckDB (files on one machine) and Spark (data on a cluster) run the same ``GROUP BY GROUPING
SETS`` statement built here; only the quoting of identifiers differs (DuckDB's ``"name"``,
Spark's `` `name` ``). It sticks to SQL both dialects read alike: ``GROUPING(col)`` per column
(Spark rejects ``GROUPING_ID`` over a subset of the grouping columns, DuckDB needs arguments),
``floor`` rather than ``trunc`` (a date function in Spark), ``count(*) FILTER (WHERE ...)``,
``isnan``, ``least``, and doubles written as ``CAST(... AS DOUBLE)`` (Spark reads ``1.0`` as a
decimal). The small result, a few rows per (group, label, decision) cell, is then validated
and turned into the :class:`~fairslm.metrics.CountTable` the numpy engine builds from arrays.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm._missing import GROUP_FILL_OR_DROP, missing_mask, null_mask
from fairslm.engines._inputs import ALL_ZERO_WEIGHTS, encode_features, encode_labels
from fairslm.exceptions import InvalidDataError
from fairslm.metrics import CountTable

__all__ = [
    "aggregate_sql",
    "check_columns",
    "quote_backtick",
    "quote_double",
    "table_from_aggregate",
]


def quote_double(name: str) -> str:
    """An identifier quoted for DuckDB (standard SQL)."""
    return '"' + name.replace('"', '""') + '"'


def quote_backtick(name: str) -> str:
    """An identifier quoted for Spark SQL."""
    return "`" + name.replace("`", "``") + "`"


def _suggest(name: str, columns: list[str]) -> str:
    lower = {c.lower(): c for c in columns}
    if name.lower() in lower:
        return f" Did you mean {lower[name.lower()]!r}?"
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_columns(
    columns: Sequence[str],
    name: str,
    *,
    y_true: str,
    y_pred: str,
    sensitive: Sequence[str],
    weight: str | None = None,
    y_score: str | None = None,
) -> None:
    """Refuse a column the data does not have, naming the columns it does have."""
    columns = [str(c) for c in columns]
    if not sensitive:
        raise InvalidDataError("give at least one sensitive feature column")
    wanted = [y_true, y_pred, *sensitive, *(c for c in (weight, y_score) if c)]
    for col in wanted:
        if col not in columns:
            raise InvalidDataError(
                f"column {col!r} not found in {name}; columns are: "
                f"{', '.join(columns)}.{_suggest(col, columns)}"
            )


def aggregate_sql(
    source: str,
    *,
    y_true: str,
    y_pred: str,
    sensitive: Sequence[str],
    weight: str | None = None,
    y_score: str | None = None,
    n_score_bins: int = 1000,
    quote: Callable[[str], str] = quote_double,
) -> str:
    """The aggregation statement over ``source`` (a table function, view or table name).

    One row per (groups, y_true, y_pred) cell with its row count, weight sum, sum of squared
    weights and counts of invalid weights; with ``y_score``, also one row per
    (groups, y_true, score bin) with the sum of weighted scores. ``is_score`` tells the two
    kinds of rows apart.
    """
    keys = [f"{quote(s)} AS s{i}" for i, s in enumerate(sensitive)]
    key_names = [f"s{i}" for i in range(len(sensitive))]
    cols = [*keys, f"{quote(y_true)} AS yt", f"{quote(y_pred)} AS yp"]
    w = "CAST(1.0 AS DOUBLE)" if weight is None else f"CAST({quote(weight)} AS DOUBLE)"
    cols.append(f"{w} AS w")
    sets = [f"({', '.join([*key_names, 'yt', 'yp'])})"]
    if y_score is not None:
        s = f"CAST({quote(y_score)} AS DOUBLE)"
        nb = int(n_score_bins)
        cols.append(f"{s} AS sc")
        # Same rule as numpy: bin = min(floor(score * n_bins), n_bins - 1); invalid -> -1.
        cols.append(
            f"CASE WHEN {s} IS NULL OR isnan({s}) OR {s} < 0 OR {s} > 1 THEN -1 "
            f"ELSE least(CAST(floor({s} * {nb}) AS BIGINT), {nb - 1}) END AS sb"
        )
        sets.append(f"({', '.join([*key_names, 'yt', 'sb'])})")
    score_aggs = (
        ", sum(w * sc) AS ssum, sum(w * sc * sc) AS ssq, min(sc) AS smin, max(sc) AS smax, "
        "count(*) FILTER (WHERE sc IS NULL OR isnan(sc)) AS s_bad"
        if y_score is not None
        else ""
    )
    grouping = ", grouping(yp) AS is_score" if y_score is not None else ", 0 AS is_score"
    return (
        f"SELECT {', '.join(key_names)}, yt, yp{', sb' if y_score else ''}, count(*) AS n, "
        "sum(w) AS wsum, sum(w * w) AS wsq, "
        "count(*) FILTER (WHERE w IS NULL OR isnan(w)) AS w_bad, "
        "count(*) FILTER (WHERE w < 0) AS w_neg, min(w) AS w_min"
        f"{score_aggs}{grouping} "
        f"FROM (SELECT {', '.join(cols)} FROM {source}) AS fairslm_rows "
        f"GROUP BY GROUPING SETS ({', '.join(sets)})"
    )


def table_from_aggregate(
    agg: Mapping[str, NDArray[Any]],
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
    missing_advice: str = GROUP_FILL_OR_DROP,
) -> CountTable:
    """The :class:`~fairslm.metrics.CountTable` of the aggregation query's result.

    ``agg`` maps each result column to a numpy array, NULL read as ``None`` (text) or ``NaN``
    (numbers), as pandas would read it. ``missing_advice`` ends the message about missing
    sensitive values (what the calling command offers to do about them).
    """
    cols = {k: np.asarray(v) for k, v in agg.items()}
    # An empty string is missing, as the same empty CSV field is (read as NULL).
    missing_of = {}
    for i in range(len(sensitive)):
        key = f"s{i}"
        missing_of[key] = missing_mask(cols[key])
        if missing_of[key].any():
            cols[key] = cols[key].astype(object)
            cols[key][missing_of[key]] = None
    is_score = cols["is_score"].astype(bool)
    conf = {k: v[~is_score] for k, v in cols.items()}
    n = conf["n"].astype(np.float64)
    total = int(n.sum())
    if total == 0:
        raise InvalidDataError(f"{name} has no rows")
    for col, key in ((y_true, "yt"), (y_pred, "yp")):
        bad = null_mask(conf[key])
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
                f"{float(np.nanmin(conf['w_min'].astype(np.float64))):g}); weights must be "
                "non-negative"
            )
        if not np.isfinite(conf["wsum"].astype(np.float64)).all():
            raise InvalidDataError(f"the weight column of {name} has infinite values")
        if not (conf["wsum"].astype(np.float64) > 0).any():
            raise InvalidDataError(ALL_ZERO_WEIGHTS.format(what=f"the weight column of {name}"))
    for i, s in enumerate(sensitive):
        n_missing = int(n[missing_of[f"s{i}"][~is_score]].sum())
        if n_missing and missing == "error":
            raise InvalidDataError(
                f"sensitive feature {s!r} has {n_missing} missing value(s) out of {total} rows "
                f"in {name}. {missing_advice[0].upper()}{missing_advice[1:]}"
            )
    score = {k: v[is_score] for k, v in cols.items()} if scored else None
    if score is not None:
        s_bad = int(score["s_bad"].sum())
        if s_bad:
            raise InvalidDataError(f"the score column of {name} has {s_bad} NULL/NaN value(s)")
        lo = float(np.nanmin(score["smin"].astype(np.float64), initial=np.inf))
        hi = float(np.nanmax(score["smax"].astype(np.float64), initial=-np.inf))
        if lo < 0 or hi > 1:
            raise InvalidDataError(
                f"scores in {name} must be probabilities in [0, 1]; found values from {lo:g} "
                f"to {hi:g}. Pass the predicted probability of the positive class"
            )
    rows = conf if score is None else {k: np.concatenate([conf[k], score[k]]) for k in conf}
    n_conf = len(n)
    n_rows = len(rows["n"])
    feats = {s: rows[f"s{i}"] for i, s in enumerate(sensitive)}
    features, levels, codes = encode_features(feats, n_rows, missing=missing)
    yt_all = rows["yt"]
    classes, tc_all, pc = encode_labels(yt_all[:n_conf], conf["yp"], pos_label)
    # Score rows' labels are a subset of the confusion rows' labels: map them on the classes.
    lookup = {c: i for i, c in enumerate(classes)}
    tc_score = np.asarray([lookup[_py(v)] for v in yt_all[n_conf:]], dtype=np.int64)
    sizes = [len(lv) for lv in levels]
    combined = np.zeros(n_rows, dtype=np.int64)
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
        np.add.at(wsum, (g[:n_conf], tc_all, pc), conf["wsum"].astype(np.float64))
        np.add.at(wsq, (g[:n_conf], tc_all, pc), conf["wsq"].astype(np.float64))
    else:
        wsum = wsq = counts
    s_counts = s_wsum = s_sums = s_sq = edges = None
    if score is not None:
        nb = int(n_score_bins)
        edges = np.linspace(0.0, 1.0, nb + 1)
        gi = g[n_conf:]
        sb = score["sb"].astype(np.int64)
        s_counts = np.zeros((n_groups, k, nb))
        np.add.at(s_counts, (gi, tc_score, sb), score["n"].astype(np.float64))
        s_sums = np.zeros_like(s_counts)
        np.add.at(s_sums, (gi, tc_score, sb), score["ssum"].astype(np.float64))
        s_sq = np.zeros_like(s_counts)
        np.add.at(s_sq, (gi, tc_score, sb), score["ssq"].astype(np.float64))
        if weighted:
            s_wsum = np.zeros_like(s_counts)
            np.add.at(s_wsum, (gi, tc_score, sb), score["wsum"].astype(np.float64))
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
