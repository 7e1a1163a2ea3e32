"""Engines that aggregate rows into a :class:`~fairslm.metrics.CountTable`.

``count_table_from_arrays`` (numpy ``bincount``) for in-memory data,
``count_table_from_file`` (one DuckDB ``GROUP BY``) for Parquet, CSV and JSON Lines files, and
``count_table_from_spark`` (the same SQL in a Spark session) for DataFrames, tables and paths
on a cluster; all give identical tables. The input checks and the group encoding they share
(``encode_features``, ``encode_labels``, ``validate_weights``) are public so that mitigation
encodes groups the same way.
"""

from typing import TYPE_CHECKING

from fairslm._lazy import lazy_exports

if TYPE_CHECKING:
    from fairslm.engines._aggregate import check_columns, quote_backtick
    from fairslm.engines._duckdb import DEFAULT_MEMORY_LIMIT, count_table_from_file
    from fairslm.engines._inputs import (
        MISSING_LABEL,
        encode_features,
        encode_labels,
        group_labels,
        to_1d,
        validate_weights,
    )
    from fairslm.engines._median import MedianTable, median_count_table
    from fairslm.engines._numpy import count_table_from_arrays, count_table_from_codes
    from fairslm.engines._spark import (
        SparkSource,
        count_table_from_spark,
        is_remote_path,
        spark_source,
    )
    from fairslm.engines._spark_session import (
        is_spark_dataframe,
        pandas_interop,
        spark_errors,
        spark_session,
    )

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "MISSING_LABEL",
    "MedianTable",
    "SparkSource",
    "check_columns",
    "count_table_from_arrays",
    "count_table_from_codes",
    "count_table_from_file",
    "count_table_from_spark",
    "encode_features",
    "encode_labels",
    "group_labels",
    "is_remote_path",
    "is_spark_dataframe",
    "median_count_table",
    "pandas_interop",
    "quote_backtick",
    "spark_errors",
    "spark_session",
    "spark_source",
    "to_1d",
    "validate_weights",
]

# Each name is imported from its module on first use, so that importing the package (as
# every command of the CLI does) costs only what is used.
__getattr__, __dir__ = lazy_exports(__name__, {
    "fairslm.engines._aggregate": ("check_columns", "quote_backtick"),
    "fairslm.engines._duckdb": ("DEFAULT_MEMORY_LIMIT", "count_table_from_file"),
    "fairslm.engines._inputs": (
        "MISSING_LABEL", "encode_features", "encode_labels", "group_labels", "to_1d",
        "validate_weights",
    ),
    "fairslm.engines._median": ("MedianTable", "median_count_table"),
    "fairslm.engines._numpy": ("count_table_from_arrays", "count_table_from_codes"),
    "fairslm.engines._spark": (
        "SparkSource", "count_table_from_spark", "is_remote_path", "spark_source",
    ),
    "fairslm.engines._spark_session": (
        "is_spark_dataframe", "pandas_interop", "spark_errors", "spark_session",
    ),
})
