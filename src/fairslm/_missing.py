"""What counts as a missing value, defined once for every reader, engine and command.

A value is missing when it is null (``None``, ``NaN``, ``NaT``, ``pd.NA``) or a string that is
empty or only whitespace. The empty string is the same cell whether a file is CSV (where pandas
reads an empty field as ``NaN``) or Parquet (where it stays ``""``), so both are treated alike:
never as a group named ``''``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["blank_string", "missing_mask"]


def blank_string(value: Any) -> bool:
    """True for a string that is empty or only whitespace."""
    return isinstance(value, str) and not value.strip()


def missing_mask(values: Any) -> NDArray[np.bool_]:
    """Boolean mask of the missing entries of a 1-d array-like.

    Examples
    --------
    >>> missing_mask(["F", "", None, "  ", float("nan"), "M"]).tolist()
    [False, True, True, True, True, False]
    """
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
    mask = series.isna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype("string")
        mask = mask | text.str.strip().eq("").fillna(False).to_numpy(dtype=bool)
    return np.asarray(mask, dtype=bool)
