"""Validation and encoding of in-memory audit inputs (labels, groups, weights)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm._missing import blank_string, null_mask
from fairslm.exceptions import InvalidDataError

__all__ = [
    "MISSING_LABEL",
    "encode_features",
    "encode_labels",
    "group_labels",
    "level_order",
    "to_1d",
    "validate_weights",
]

MISSING_LABEL = "(missing)"

# From this many values on, pandas' hash table factorises (O(n)) instead of numpy's sort
# (O(n log n)) or a Python dict; below it, importing pandas (half a second) would cost more
# than the work.
_HASH_FROM = 100_000


def _is_pandas(value: Any, kind: str) -> bool:
    """Whether ``value`` is a pandas ``kind``; pandas is never imported to find out."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(value, getattr(pd, kind))


def _is_categorical(col: Any) -> bool:
    return _is_pandas(col, "Series") and isinstance(
        col.dtype, sys.modules["pandas"].CategoricalDtype
    )


def to_1d(values: Any, name: str) -> NDArray[Any]:
    """Return ``values`` as a 1-D numpy array, refusing 2-D input with a clear message."""
    if _is_pandas(values, "DataFrame"):
        if values.shape[1] != 1:
            raise InvalidDataError(
                f"{name} must be one column; got a DataFrame with columns {list(values.columns)}"
            )
        values = values.iloc[:, 0]
    if _is_pandas(values, "Series"):
        if _is_categorical(values):
            return np.asarray(values.astype(object))
        return values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise InvalidDataError(f"{name} must be one-dimensional; got an array of shape {arr.shape}")
    return arr


def _features_dict(sensitive_features: Any) -> dict[str, Any]:
    if _is_pandas(sensitive_features, "DataFrame"):
        if sensitive_features.shape[1] == 0:
            raise InvalidDataError("sensitive_features is a DataFrame with no columns")
        return {str(c): sensitive_features[c] for c in sensitive_features.columns}
    if _is_pandas(sensitive_features, "Series"):
        name = sensitive_features.name if sensitive_features.name is not None else "sensitive_feature"
        return {str(name): sensitive_features}
    if isinstance(sensitive_features, Mapping):
        if not sensitive_features:
            raise InvalidDataError("sensitive_features is an empty mapping")
        return {str(k): v for k, v in sensitive_features.items()}
    if isinstance(sensitive_features, (list, tuple)) and sensitive_features and all(
        isinstance(v, (np.ndarray, list, tuple)) or _is_pandas(v, "Series")
        for v in sensitive_features
    ):
        return {f"sensitive_feature_{i}": v for i, v in enumerate(sensitive_features)}
    arr = np.asarray(sensitive_features)
    if arr.ndim == 2:
        return {f"sensitive_feature_{i}": arr[:, i] for i in range(arr.shape[1])}
    return {"sensitive_feature_0": arr}


def _python_scalar(v: Any) -> object:
    return v.item() if isinstance(v, np.generic) else v


def level_order(uniques: NDArray[Any]) -> NDArray[np.int64]:
    """Order of levels: natural (numbers, strings) where comparable, else by their text."""
    values = list(uniques)
    if all(type(v) is str for v in values):
        return np.argsort(np.asarray(values, dtype=str), kind="stable")
    try:
        return np.asarray(sorted(range(len(values)), key=values.__getitem__), dtype=np.int64)
    except TypeError:  # mixed types
        return np.argsort(np.asarray([str(u) for u in uniques]), kind="stable")


def _categorical_codes(col: Any) -> tuple[NDArray[np.integer], NDArray[Any]]:
    """A categorical's codes, used directly (no hashing); unused categories stay for now."""
    return col.cat.codes.to_numpy(), np.asarray(col.cat.categories, dtype=object)


def _arrow_strings(col: Any) -> Any:
    """The pyarrow ChunkedArray behind a pandas string Series, or None."""
    if not _is_pandas(col, "Series") or not isinstance(
        col.dtype, sys.modules["pandas"].StringDtype
    ):
        return None
    return getattr(col.array, "_pa_array", None)


def _arrow_codes(chunked: Any) -> tuple[NDArray[np.integer], NDArray[Any]]:
    """Dictionary-encode Arrow strings (several times faster than hashing Python objects)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(chunked)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks() if enc.num_chunks != 1 else enc.chunk(0)
    if not isinstance(enc, pa.DictionaryArray):  # e.g. an already combined dictionary
        enc = enc.dictionary_encode()
    indices = enc.indices
    if indices.null_count:
        indices = indices.fill_null(-1)
    return indices.to_numpy(zero_copy_only=False), np.asarray(
        enc.dictionary.to_pylist(), dtype=object
    )


def _factorize(
    arr: NDArray[Any], *, sort: bool = False
) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Codes of the values (-1 for nulls) and the distinct values, as ``pandas.factorize``.

    Levels come in order of appearance or sorted (``sort=True``, which raises TypeError for
    values that cannot be compared); callers that need them sorted sort them afterwards.
    """
    if len(arr) >= _HASH_FROM:
        import pandas as pd

        codes, uniques = pd.factorize(arr, sort=sort, use_na_sentinel=True)
        return codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=object)
    null = null_mask(arr)
    if arr.dtype != object:
        found, inverse = np.unique(arr[~null], return_inverse=True)  # sorted
        codes = np.full(len(arr), -1, dtype=np.int64)
        codes[~null] = inverse.reshape(-1)
        return codes, found.astype(object)
    index: dict[Any, int] = {}
    codes = np.fromiter(
        (-1 if n else index.setdefault(v, len(index))
         for v, n in zip(arr.tolist(), null.tolist(), strict=True)),
        dtype=np.int64, count=len(arr),
    )
    uniques = np.empty(len(index), dtype=object)
    for i, v in enumerate(index):
        uniques[i] = v
    if sort:
        order = np.asarray(sorted(range(len(uniques)), key=uniques.__getitem__), dtype=np.int64)
        lut = np.empty(len(order) + 1, dtype=np.int64)
        lut[order] = np.arange(len(order))
        lut[-1] = -1  # nulls stay -1
        codes, uniques = lut[codes], uniques[order]
    return codes, uniques


def _sort_codes(
    raw: NDArray[np.integer], uniques: NDArray[Any]
) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Re-code rows so that levels are sorted and all present (for small inputs)."""
    n_levels = len(uniques)
    order = level_order(uniques)
    raw = raw.astype(np.int64)
    present = np.bincount(raw + 1, minlength=n_levels + 1)[1:] > 0
    keep = order[present[order]]
    if np.array_equal(keep, np.arange(n_levels)):
        return raw, uniques
    lut = np.full(n_levels + 1, -1, dtype=np.int64)  # last slot maps missing (-1) to -1
    lut[keep] = np.arange(len(keep))
    return lut[raw], uniques[keep]


def _blank_levels_missing(raw: NDArray[np.int64], uniques: Any) -> tuple[NDArray[np.int64], Any]:
    """Recode levels that are empty or whitespace-only strings as missing (code -1)."""
    blank = np.fromiter((blank_string(u) for u in uniques), dtype=bool, count=len(uniques))
    if not blank.any():
        return raw, uniques
    keep = ~blank
    lut = np.append(np.where(keep, np.cumsum(keep) - 1, -1), -1)  # last slot: -1 stays -1
    return lut[np.asarray(raw, dtype=np.int64)], uniques[keep]


def encode_features(
    sensitive_features: Any, n_rows: int, *, missing: str = "error", sort: bool = True
) -> tuple[tuple[str, ...], tuple[tuple[object, ...], ...], list[NDArray[np.integer]]]:
    """Factorise each sensitive feature into integer codes.

    Returns the feature names, each feature's levels and each feature's codes.
    ``missing="error"`` refuses missing values; ``missing="group"`` keeps them as a group
    named ``(missing)``, the last level. With ``sort=True`` levels are sorted and all present;
    with ``sort=False`` they are in whatever order was cheapest (categories, first
    appearance) and may include unused categories: the caller sorts them on the aggregated
    table instead of re-coding every row (see ``canonical_table``).
    """
    if missing not in ("error", "group"):
        raise InvalidDataError(f"missing must be 'error' or 'group'; got {missing!r}")
    cols = _features_dict(sensitive_features)
    names: list[str] = []
    levels: list[tuple[object, ...]] = []
    codes: list[NDArray[np.int64]] = []
    for name, col in cols.items():
        if _is_categorical(col):
            if len(col) != n_rows:
                raise InvalidDataError(
                    f"sensitive feature {name!r} has {len(col)} values but y_true has {n_rows}"
                )
            raw, uniques = _categorical_codes(col)
        else:
            if _is_pandas(col, "Series") and len(col) != n_rows:
                raise InvalidDataError(
                    f"sensitive feature {name!r} has {len(col)} values but y_true has {n_rows}"
                )
            arrow = _arrow_strings(col)
            if arrow is not None:
                raw, uniques = _arrow_codes(arrow)
            else:
                arr = to_1d(col, f"sensitive feature {name!r}")
                if len(arr) != n_rows:
                    raise InvalidDataError(
                        f"sensitive feature {name!r} has {len(arr)} values but y_true has {n_rows}"
                    )
                raw, uniques = _factorize(arr)
        raw, uniques = _blank_levels_missing(raw, uniques)
        if sort:
            raw, uniques = _sort_codes(raw, uniques)
        n_missing = int((raw < 0).sum()) if raw.size and raw.min() < 0 else 0
        level_values = [_python_scalar(u) for u in uniques]
        if n_missing:
            if missing == "error":
                raise InvalidDataError(
                    f"sensitive feature {name!r} has {n_missing} missing value(s) out of {n_rows} "
                    "rows. Fill them, drop those rows, or pass missing='group' "
                    "(CLI: --missing group) to audit them as their own group (empty strings "
                    "count as missing)"
                )
            raw = np.where(raw < 0, len(level_values), raw)
            level_values.append(MISSING_LABEL)
        elif missing == "group" and not sort:
            level_values.append(MISSING_LABEL)  # unused level, pruned on the table
        names.append(name)
        levels.append(tuple(level_values))
        codes.append(raw)
    if len(set(names)) != len(names):
        raise InvalidDataError(f"sensitive feature names must be distinct; got {names}")
    return tuple(names), tuple(levels), codes


def encode_labels(
    y_true: NDArray[Any], y_pred: NDArray[Any], pos_label: object | None = None
) -> tuple[tuple[object, ...], NDArray[np.int64], NDArray[np.int64]]:
    """Encode ``y_true`` and ``y_pred`` on one sorted set of classes."""
    for name, arr in (("y_true", y_true), ("y_pred", y_pred)):
        if arr.dtype.kind in "fc" or arr.dtype == object:
            nan = null_mask(arr)
            if nan.any():
                raise InvalidDataError(
                    f"{name} has {int(nan.sum())} missing (NaN/None) value(s); first at row "
                    f"{int(np.flatnonzero(nan)[0])}. Drop or fill those rows before auditing"
                )
    if y_true.dtype.kind in "biu" and y_pred.dtype.kind in "biu":
        lo = int(min(y_true.min(initial=0), y_pred.min(initial=0)))
        hi = int(max(y_true.max(initial=0), y_pred.max(initial=0)))
        if lo >= 0 and hi <= 1 and not (
            pos_label is not None and isinstance(pos_label, (int, np.integer)) and pos_label > 1
        ):
            # 0/1 labels (the common case): the values are their own codes, no lookup pass.
            classes01: tuple[object, ...] = (False, True) if y_true.dtype == bool else (0, 1)
            return (
                classes01,
                y_true.astype(np.int64, copy=False),
                y_pred.astype(np.int64, copy=False),
            )
        if lo >= 0 and hi < 1_000_000:
            present = np.bincount(y_true.astype(np.int64), minlength=hi + 1) > 0
            present |= np.bincount(y_pred.astype(np.int64), minlength=hi + 1) > 0
            if hi <= 1:
                present[: 2] = True  # binary 0/1 labels always carry both classes
            values = np.flatnonzero(present)
            if pos_label is not None and isinstance(pos_label, (int, np.integer)) and 0 <= int(
                pos_label
            ) <= hi and not present[int(pos_label)]:
                present[int(pos_label)] = True
                values = np.flatnonzero(present)
            lut = np.cumsum(present) - 1
            classes = tuple(int(v) for v in values)
            if y_true.dtype == bool:
                classes = tuple(bool(v) for v in values)
            return classes, lut[y_true.astype(np.int64)], lut[y_pred.astype(np.int64)]
    both = np.concatenate([np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)])
    if y_true.dtype.kind in "fc" and y_pred.dtype.kind in "fc":
        both = np.concatenate([y_true, y_pred])
    try:
        codes, uniques = _factorize(both, sort=True)
    except TypeError as exc:
        raise InvalidDataError(
            "y_true and y_pred mix label types that cannot be compared (e.g. strings and "
            "numbers); use one type for both"
        ) from exc
    classes = tuple(_python_scalar(u) for u in uniques)
    n = len(y_true)
    codes = codes.astype(np.int64)
    return classes, codes[:n], codes[n:]


# Every row weighted 0 leaves nothing to measure: every rate would be 0/0.
ALL_ZERO_WEIGHTS = (
    "{what} is zero for every row, so no row would count and every rate would be 0/0. Check the "
    "weights (a column of zeros is usually a mistake), or audit without weights"
)


def validate_weights(sample_weight: Any, n_rows: int) -> NDArray[np.float64]:
    """Return weights as float64, refusing wrong length, NaN and negative values."""
    w = to_1d(sample_weight, "sample_weight")
    if len(w) != n_rows:
        raise InvalidDataError(f"sample_weight has {len(w)} values but y_true has {n_rows}")
    try:
        w = w.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidDataError("sample_weight must be numeric") from exc
    bad = ~np.isfinite(w)
    if bad.any():
        raise InvalidDataError(
            f"sample_weight has {int(bad.sum())} NaN or infinite value(s); first at row "
            f"{int(np.flatnonzero(bad)[0])}. Weights must be finite and non-negative"
        )
    neg = w < 0
    if neg.any():
        raise InvalidDataError(
            f"sample_weight has {int(neg.sum())} negative value(s); first at row "
            f"{int(np.flatnonzero(neg)[0])} ({float(w[neg][0]):g}). Weights must be non-negative"
        )
    if n_rows and not (w > 0).any():
        raise InvalidDataError(ALL_ZERO_WEIGHTS.format(what="sample_weight"))
    return w


def group_labels(sensitive_features: Any, n_rows: int) -> NDArray[np.object_]:
    """Each row's group label, named as the audit names groups (``"F"``, ``"F, Black"``).

    Examples
    --------
    >>> group_labels({"sex": ["F", "M"], "race": ["a", "b"]}, 2).tolist()
    ['F, a', 'M, b']
    """
    _, levels, codes = encode_features(sensitive_features, n_rows)
    out = np.empty(n_rows, dtype=object)
    parts = [np.asarray([str(v) for v in lv], dtype=object)[c] for lv, c in zip(levels, codes, strict=True)]
    if len(parts) == 1:
        return parts[0]
    for i in range(n_rows):
        out[i] = ", ".join(p[i] for p in parts)
    return out
