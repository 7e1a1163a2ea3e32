"""Reweighing's cells on Spark: one aggregation for the (group, label) weight sums, a join
for the weights.

The factor of every cell, a table of a few rows, is broadcast and joined back onto the rows as
a weight column, so the training data never leaves Spark.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fairslm._missing import FILL_OR_DROP
from fairslm.engines import count_table_from_spark, quote_backtick, spark_errors
from fairslm.exceptions import InvalidDataError
from fairslm.metrics import CountTable

__all__ = ["cell_table_spark", "join_factors", "spark_names", "spark_weight_ranges"]

FACTOR_COLUMN = "fairslm_factor"


def spark_names(label: Any, sensitive: Any, weight: Any) -> tuple[str, list[str], str | None]:
    """The label, sensitive and weight column names given for a Spark DataFrame."""
    if not isinstance(label, str):
        raise InvalidDataError("on a Spark DataFrame, y= must name the label column")
    names = [sensitive] if isinstance(sensitive, str) else list(sensitive or [])
    if not names or not all(isinstance(s, str) for s in names):
        raise InvalidDataError(
            "on a Spark DataFrame, sensitive_features= must name its sensitive column(s)"
        )
    if weight is not None and not isinstance(weight, str):
        raise InvalidDataError("on a Spark DataFrame, sample_weight= must name a column")
    return label, names, weight


def cell_table_spark(frame: Any, label: Any, sensitive: Any, weight: Any) -> CountTable:
    """The (group, label) cells of a Spark DataFrame (or source): rows and weight sums per cell."""
    label, names, weight = spark_names(label, sensitive, weight)
    # Labels stand in for decisions: the diagonal of each group's table holds its cells.
    return count_table_from_spark(frame, y_true=label, y_pred=label, sensitive=names,
                                  weight=weight, missing_advice=FILL_OR_DROP)


def join_factors(
    frame: Any,
    *,
    label: str,
    sensitive: Sequence[str],
    weight: str | None,
    out_column: str,
    group_keys: Sequence[tuple[object, ...]],
    classes: Sequence[object],
    factors: np.ndarray,
    check: bool,
) -> Any:
    """``frame`` with ``out_column = weight (or 1) * factor of the row's cell``, by a join.

    The factor table (one row per cell) is broadcast, so the join moves no row data. With
    ``check``, rows of a cell the factors do not cover are counted and refused.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    keys = [*sensitive, label]
    schema = T.StructType(
        [T.StructField(f"k{i}", frame.schema[c].dataType) for i, c in enumerate(keys)]
        + [T.StructField(FACTOR_COLUMN, T.DoubleType())]
    )
    rows = [
        (*key, cls, float(factors[g, k]))
        for g, key in enumerate(group_keys)
        for k, cls in enumerate(classes)
    ]
    session = frame.sparkSession
    with spark_errors("the reweighing factors"):
        table = session.createDataFrame(rows, schema)
    d, f = frame.alias("d"), F.broadcast(table.alias("f"))
    on = [F.col(f"d.{quote_backtick(c)}") == F.col(f"f.k{i}") for i, c in enumerate(keys)]
    joined = d.join(f, on=on, how="left")
    if check:
        with spark_errors("the reweighed rows"):
            unseen = joined.where(F.col(f"f.{FACTOR_COLUMN}").isNull()).count()
        if unseen:
            raise InvalidDataError(
                f"{unseen} row(s) belong to a (group, label) cell that was not seen in fit; "
                "fit on data that has every group and label"
            )
    base = F.lit(1.0) if weight is None else F.col(f"d.{quote_backtick(weight)}").cast("double")
    new = (base * F.col(f"f.{FACTOR_COLUMN}")).alias(out_column)
    cols = [new if c == out_column else F.col(f"d.{quote_backtick(c)}") for c in frame.columns]
    if out_column not in frame.columns:
        cols.append(new)
    return joined.select(*cols)


def spark_weight_ranges(frame: Any, label: str, sensitive: Sequence[str],
                        weight: str | None, table: CountTable) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest weight of every (group, label) cell of ``table``, from Spark."""
    n_groups, k = table.n_groups, len(table.classes)
    if weight is None:
        ones = np.where(table.counts.sum(axis=2) > 0, 1.0, np.nan)
        return ones, ones.copy()
    from pyspark.sql import functions as F

    keys = [*sensitive, label]
    w = F.col(quote_backtick(weight)).cast("double")
    with spark_errors("the weight column"):
        rows = frame.groupBy(*[F.col(quote_backtick(c)) for c in keys]).agg(
            F.min(w).alias("lo"), F.max(w).alias("hi")
        ).collect()
    index = {key: g for g, key in enumerate(table.group_values)}
    cls = {c: j for j, c in enumerate(table.classes)}
    lo = np.full((n_groups, k), np.nan)
    hi = np.full((n_groups, k), np.nan)
    for r in rows:
        g, j = index[tuple(r[: len(sensitive)])], cls[r[len(sensitive)]]
        lo[g, j], hi[g, j] = r["lo"], r["hi"]
    return lo, hi
