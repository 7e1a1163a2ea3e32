"""What counts as a missing value, defined once for every reader, engine and command.

A value is missing when it is null (``None``, ``NaN``, ``NaT``, ``pd.NA``) or a string that is
empty or only whitespace. The empty string is the same cell whether a file is CSV (where pandas
reads an empty field as ``NaN``) or Parquet (where it stays ``""``), so both are treated alike:
never as a group named ``''``.

pandas is used only for pandas input: the file audit reads its aggregate as numpy arrays and
never imports pandas.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["FILL_OR_DROP", "GROUP_FILL_OR_DROP", "blank_string", "missing_mask", "null_mask"]

# What to do about missing sensitive values: commands without --missing (data audits)...
FILL_OR_DROP = (
    "fill them with an explicit value such as 'unknown' or drop the rows (empty strings count "
    "as missing)"
)
# ... and the audits, which can also keep them as a group of their own.
GROUP_FILL_OR_DROP = (
    "Fill them, drop those rows, or pass --missing group (missing='group') to audit them as "
    "their own group (empty strings count as missing)"
)


def blank_string(value: Any) -> bool:
    """True for a string that is empty or only whitespace."""
    return isinstance(value, str) and not value.strip()


# Types whose null is the value not equal to itself (NaN, NaT).
_NAN_TYPES = (float, np.floating, np.datetime64, np.timedelta64)


def null_mask(values: Any) -> NDArray[np.bool_]:
    """Boolean mask of the null entries (``None``, ``NaN``, ``NaT``, ``pd.NA``) of a 1-d array.

    The same as ``pandas.isna`` on a 1-d array, without importing pandas for numpy input.

    Examples
    --------
    >>> null_mask(["F", "", None, float("nan")]).tolist()
    [False, False, True, True]
    """
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(
        values, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray)
    ):
        return np.asarray(pd.isna(values), dtype=bool)
    arr = np.asarray(values)
    if arr.dtype.kind in "fcmM":
        return np.asarray(np.isnan(arr), dtype=bool)
    if arr.dtype != object:
        return np.zeros(arr.shape, dtype=bool)
    items = arr.ravel().tolist()
    mask = np.fromiter((v is None or (isinstance(v, _NAN_TYPES) and v != v) for v in items),
                       dtype=bool, count=len(items))
    if pd is not None:  # pandas' own nulls can only exist once pandas is imported
        mask |= np.fromiter((v is pd.NA or v is pd.NaT for v in items), dtype=bool,
                            count=len(items))
    return mask.reshape(arr.shape)


def missing_mask(values: Any) -> NDArray[np.bool_]:
    """Boolean mask of the missing entries of a 1-d array-like.

    Examples
    --------
    >>> missing_mask(["F", "", None, "  ", float("nan"), "M"]).tolist()
    [False, True, True, True, True, False]
    """
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(values, pd.Series):
        mask = values.isna().to_numpy()
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            text = values.astype("string")
            mask = mask | text.str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        return np.asarray(mask, dtype=bool)
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    mask = null_mask(arr)
    if arr.dtype == object or arr.dtype.kind == "U":
        mask = mask | np.fromiter((blank_string(v) for v in arr.tolist()), dtype=bool,
                                  count=arr.size)
    return np.asarray(mask, dtype=bool)
