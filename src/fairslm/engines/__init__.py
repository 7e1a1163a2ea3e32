"""Engines aggregate rows into a :class:`~fairslm.metrics.CountTable`."""

from fairslm.engines._numpy import count_table_from_arrays, count_table_from_codes

__all__ = [
    "count_table_from_arrays",
    "count_table_from_codes",
]
