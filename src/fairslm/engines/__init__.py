"""Engines that aggregate rows into a :class:`~fairslm.metrics.CountTable`.

``count_table_from_arrays`` (numpy ``bincount``) for in-memory data and
``count_table_from_file`` (one DuckDB ``GROUP BY``) for Parquet, CSV and JSON Lines files; both
give identical tables. The input checks and the group encoding they share (``encode_features``,
``encode_labels``, ``validate_weights``) are public so that mitigation encodes groups the same way.
"""

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

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "MISSING_LABEL",
    "MedianTable",
    "count_table_from_arrays",
    "count_table_from_codes",
    "count_table_from_file",
    "encode_features",
    "encode_labels",
    "group_labels",
    "median_count_table",
    "to_1d",
    "validate_weights",
]
