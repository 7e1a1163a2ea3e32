"""The columns the preprocessing methods write, and the caller's object rebuilt from new rows.

Every method accepts a fairslm ``Dataset``, a pandas DataFrame with column names, or plain arrays
(read by :func:`fairslm.data.as_rows` into :class:`fairslm.data.Rows`), and returns the same kind
it was given.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from fairslm.data import Rows

__all__ = ["AUGMENTED_COLUMN", "SOURCE_COLUMN", "WEIGHT_COLUMN", "rebuild_frame"]

# Column names written by the methods; documented in docs/debiasing.md.
WEIGHT_COLUMN = "sample_weight"
AUGMENTED_COLUMN = "fairslm_augmented"
SOURCE_COLUMN = "augmented_from"


def rebuild_frame(frame: pd.DataFrame, rows: Rows, *, weight_column: str | None = None) -> Any:
    """Return the caller's kind of object holding ``frame`` (a new DataFrame for its rows).

    For a ``Dataset`` whose spec names no weight column, ``weight_column`` (a column the method
    added) becomes its weight column, so the weights travel with the data set.
    """
    if rows.kind != "dataset":
        return frame
    dataset = rows.origin
    spec = getattr(dataset, "spec", None)
    if weight_column is not None and spec is not None and getattr(spec, "weight", None) is None:
        new_spec = spec.model_copy(update={"weight": weight_column})
        source = getattr(dataset, "source", "DataFrame")
        return type(dataset)(frame, new_spec, source=source)
    return dataset.with_frame(frame)
