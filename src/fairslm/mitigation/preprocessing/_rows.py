"""Turn the inputs of the preprocessing methods into one row table, and back.

Every method accepts a fairslm ``Dataset``, a pandas DataFrame with column names, or plain arrays,
and returns the same kind it was given. The methods themselves work on :class:`Rows`: labels,
(group, label) cells, optional weights and optional texts, plus what is needed to rebuild the
caller's object from a row selection or new columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from fairslm.engines import encode_features, to_1d, validate_weights
from fairslm.exceptions import InvalidDataError

__all__ = [
    "AUGMENTED_COLUMN",
    "SOURCE_COLUMN",
    "WEIGHT_COLUMN",
    "Rows",
    "as_rows",
    "is_dataset",
    "require_groups",
]

# Column names written by the methods; documented in docs/debiasing.md.
WEIGHT_COLUMN = "sample_weight"
AUGMENTED_COLUMN = "fairslm_augmented"
SOURCE_COLUMN = "augmented_from"


def is_dataset(obj: Any) -> bool:
    """True for a fairslm ``Dataset`` (recognised by its attributes, not its class)."""
    return all(hasattr(obj, a) for a in ("frame", "labels", "sensitive", "with_frame"))


@dataclass
class Rows:
    """Labels, groups, weights and texts of one input, whatever its kind."""

    kind: str  # "dataset" | "frame" | "arrays"
    source: Any  # the caller's object (Dataset, DataFrame or the X array / None)
    y: NDArray[Any]
    sensitive: pd.DataFrame
    weights: NDArray[np.float64] | None
    texts: NDArray[Any] | None = None
    label_column: str | None = None
    text_column: str | None = None
    weight_column: str | None = None
    pos_label: object | None = None
    features: tuple[str, ...] = ()
    group_codes: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    group_keys: tuple[tuple[object, ...], ...] = ()

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def frame(self) -> pd.DataFrame | None:
        if self.kind == "dataset":
            return self.source.frame
        if self.kind == "frame":
            return self.source
        return None

    def group_label(self, key: tuple[object, ...]) -> str:
        return ", ".join(str(v) for v in key)

    def labels_of_groups(self) -> list[str]:
        return [self.group_label(k) for k in self.group_keys]


def _column(frame: pd.DataFrame, name: str, what: str) -> pd.Series:
    if name not in frame.columns:
        raise InvalidDataError(
            f"{what} column {name!r} not found; columns are: "
            f"{', '.join(map(str, frame.columns))}"
        )
    return frame[name]


def _encode_groups(rows: Rows) -> None:
    names, levels, codes = encode_features(rows.sensitive, rows.n, missing="error")
    rows.features = names
    if rows.n == 0:
        raise InvalidDataError("the data has no rows; expected at least one row to debias")
    stacked = np.stack(codes, axis=1)
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    rows.group_codes = inverse.reshape(-1).astype(np.int64)
    rows.group_keys = tuple(
        tuple(levels[j][int(c)] for j, c in enumerate(row)) for row in uniq
    )


def require_groups(groups: Any, method: str) -> None:
    """Refuse a sensitive feature with a single group for a method that balances groups.

    ``groups`` is :class:`Rows` or the cells built from them (anything with ``features`` and
    ``group_keys``). Consistent with the audits: with one group there is nothing to balance,
    and writing an unchanged copy would look like a debiased data set.
    """
    for j, name in enumerate(groups.features):
        present = {key[j] for key in groups.group_keys}
        if len(present) < 2:
            raise InvalidDataError(
                f"sensitive column {name!r} has a single group ({next(iter(present))!r}) in all "
                f"rows; {method} balances groups, so one group leaves nothing to change. Check "
                "the column, or drop it from the sensitive columns"
            )


def _dataset_columns(dataset: Any) -> dict[str, Any]:
    """Column names of a fairslm ``Dataset`` (text, label, weight), read from its spec."""
    spec = getattr(dataset, "spec", None)

    def pick(*names: str) -> Any:
        for n in names:
            v = getattr(spec, n, None)
            if v is not None:
                return v
        return None

    return {
        "text": pick("text", "text_column"),
        "label": pick("label", "label_column"),
        "weight": pick("weight", "weight_column"),
    }


def as_rows(
    X: Any,
    y: Any = None,
    *,
    sensitive_features: Any = None,
    sample_weight: Any = None,
    text: Any = None,
    need_text: bool = False,
) -> Rows:
    """Read a Dataset, a DataFrame (``y``, ``sensitive_features``, ``text`` may name columns)
    or arrays into :class:`Rows`. Inputs are never modified."""
    if is_dataset(X):
        if y is not None or sensitive_features is not None:
            raise InvalidDataError(
                "a Dataset carries its own labels and sensitive features; do not pass y= or "
                "sensitive_features= with it"
            )
        if X.labels is None:
            raise InvalidDataError(
                "the Dataset has no label column; debiasing needs labels. Load it with "
                "load_dataset(..., label='COLUMN')"
            )
        cols = _dataset_columns(X)
        sens = X.sensitive
        if not isinstance(sens, pd.DataFrame):
            sens = pd.DataFrame(sens)
        w = X.weights if sample_weight is None else sample_weight
        rows = Rows(
            kind="dataset",
            source=X,
            y=to_1d(X.labels, "labels"),
            sensitive=sens.reset_index(drop=True),
            weights=None if w is None else validate_weights(w, len(X.frame)),
            texts=None if getattr(X, "texts", None) is None else to_1d(X.texts, "texts"),
            label_column=cols["label"],
            text_column=cols["text"],
            weight_column=cols["weight"],
            pos_label=getattr(X, "pos_label", None),
        )
    elif isinstance(X, pd.DataFrame):
        frame = X

        def col_or_values(v: Any, what: str) -> tuple[Any, str | None]:
            if isinstance(v, str):
                return _column(frame, v, what), v
            return v, None

        y_vals, label_col = col_or_values(y, "label")
        if y_vals is None:
            raise InvalidDataError("labels are required: pass y= (a column name or an array)")
        if isinstance(sensitive_features, str):
            sens = frame[[_column(frame, sensitive_features, "sensitive").name]]
        elif (
            isinstance(sensitive_features, (list, tuple))
            and sensitive_features
            and all(isinstance(s, str) for s in sensitive_features)
            and (
                len(sensitive_features) != len(frame)
                or all(s in frame.columns for s in sensitive_features)
            )
        ):
            sens = pd.DataFrame(
                {s: _column(frame, s, "sensitive").to_numpy() for s in sensitive_features}
            )
        elif sensitive_features is None:
            raise InvalidDataError(
                "sensitive_features= is required: column name(s) of the DataFrame or an array"
            )
        else:
            sens = sensitive_features
        w_vals, w_col = col_or_values(sample_weight, "weight")
        t_vals, t_col = col_or_values(text, "text")
        rows = Rows(
            kind="frame",
            source=frame,
            y=to_1d(y_vals, "y"),
            sensitive=_as_frame(sens),
            weights=None if w_vals is None else validate_weights(w_vals, len(frame)),
            texts=None if t_vals is None else to_1d(t_vals, "text"),
            label_column=label_col,
            text_column=t_col,
            weight_column=w_col,
        )
    else:
        if y is None:
            raise InvalidDataError("labels are required: pass y= with one label per row")
        if sensitive_features is None:
            raise InvalidDataError("sensitive_features= is required (one value per row)")
        y_arr = to_1d(y, "y")
        texts = text
        if texts is None and X is not None and need_text:
            texts = X
        rows = Rows(
            kind="arrays",
            source=X,
            y=y_arr,
            sensitive=_as_frame(sensitive_features),
            weights=None if sample_weight is None else validate_weights(sample_weight, len(y_arr)),
            texts=None if texts is None else to_1d(np.asarray(texts, dtype=object), "texts"),
        )
        if X is not None and len(X) != len(y_arr):
            raise InvalidDataError(f"X has {len(X)} rows but y has {len(y_arr)}")
    if len(rows.sensitive) != rows.n:
        raise InvalidDataError(
            f"sensitive_features has {len(rows.sensitive)} rows but there are {rows.n} labels"
        )
    if pd.isna(pd.Series(rows.y, dtype=object)).any():
        n_missing = int(pd.isna(pd.Series(rows.y, dtype=object)).sum())
        raise InvalidDataError(
            f"the labels have {n_missing} missing value(s); fill or drop those rows first"
        )
    if need_text and rows.texts is None:
        raise InvalidDataError(
            "this method needs the texts: pass text= (a column name of the DataFrame, or the "
            "texts as X)"
        )
    _encode_groups(rows)
    return rows


def _as_frame(sensitive: Any) -> pd.DataFrame:
    """Sensitive features as a DataFrame with string column names and a fresh index."""
    if isinstance(sensitive, pd.DataFrame):
        out = sensitive.reset_index(drop=True).copy()
        out.columns = [str(c) for c in out.columns]
        return out
    if isinstance(sensitive, pd.Series):
        name = sensitive.name if sensitive.name is not None else "sensitive_feature_0"
        return pd.DataFrame({str(name): sensitive.to_numpy()})
    if isinstance(sensitive, dict):
        return pd.DataFrame({str(k): to_1d(v, f"sensitive feature {k!r}") for k, v in sensitive.items()})
    arr = np.asarray(sensitive, dtype=object)
    if arr.ndim == 1:
        return pd.DataFrame({"sensitive_feature_0": arr})
    if arr.ndim == 2:
        return pd.DataFrame({f"sensitive_feature_{i}": arr[:, i] for i in range(arr.shape[1])})
    raise InvalidDataError(f"sensitive_features must be 1-D or 2-D; got shape {arr.shape}")


def rebuild_frame(frame: pd.DataFrame, rows: Rows, *, weight_column: str | None = None) -> Any:
    """Return the caller's kind of object holding ``frame`` (a new DataFrame for its rows).

    For a ``Dataset`` whose spec names no weight column, ``weight_column`` (a column the method
    added) becomes its weight column, so the weights travel with the data set.
    """
    if rows.kind != "dataset":
        return frame
    dataset = rows.source
    spec = getattr(dataset, "spec", None)
    if weight_column is not None and spec is not None and getattr(spec, "weight", None) is None:
        new_spec = spec.model_copy(update={"weight": weight_column})
        source = getattr(dataset, "source", "DataFrame")
        return type(dataset)(frame, new_spec, source=source)
    return dataset.with_frame(frame)
