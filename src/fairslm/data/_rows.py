"""One row container: the labels, groups, weights and texts of a labelled input, whatever its kind.

Debiasing and fine-tuning both learn from labelled rows. They read them here, through
:func:`as_rows`, so one file or DataFrame gives the same labels, the same groups (in the same
order) and the same weights in every command.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from fairslm.engines import encode_features, to_1d, validate_weights
from fairslm.exceptions import InvalidDataError

__all__ = ["Rows", "as_rows", "group_label", "is_dataset", "label_codes"]


def is_dataset(obj: Any) -> bool:
    """True for a fairslm ``Dataset`` (recognised by its attributes, not its class)."""
    return all(hasattr(obj, a) for a in ("frame", "labels", "sensitive", "with_frame"))


def group_label(key: tuple[object, ...]) -> str:
    """The name of a group in reports: its values joined by ``", "`` (``"F, black"``)."""
    return ", ".join(str(v) for v in key)


def _py(v: Any) -> object:
    return v.item() if isinstance(v, np.generic) else v


def label_codes(y: Any, classes: tuple[object, ...] | None = None) -> tuple[
    tuple[object, ...], NDArray[np.int64]
]:
    """Codes of ``y`` against ``classes`` (sorted unique labels when ``classes`` is None).

    A label matches a class equal to it or, failing that, one with the same string (``1`` and
    ``"1"``), so labels read from a CSV file match classes seen in a DataFrame.
    """
    if classes is None:
        try:
            codes, uniques = pd.factorize(y, sort=True)
        except TypeError as exc:
            raise InvalidDataError(
                "the labels mix types that cannot be sorted (e.g. strings and numbers); "
                "use one type"
            ) from exc
        return tuple(_py(u) for u in uniques), codes.astype(np.int64)
    index = {c: i for i, c in enumerate(classes)}
    index_str = {str(c): i for i, c in enumerate(classes)}
    out = np.empty(len(y), dtype=np.int64)
    unknown: list[object] = []
    for i, v in enumerate(y):
        v = _py(v)
        code = index.get(v)
        if code is None:
            code = index_str.get(str(v))
        if code is None:
            unknown.append(v)
            code = -1
        out[i] = code
    if unknown:
        raise InvalidDataError(
            f"labels {sorted(set(map(str, unknown)))} were not seen in fit (labels seen: "
            f"{list(classes)}); fit on data that has every label"
        )
    return classes, out


@dataclass(frozen=True)
class Rows:
    """Labels, groups, weights and texts of one labelled input.

    Built by :func:`as_rows` from a fairslm ``Dataset``, a pandas DataFrame or arrays.

    Attributes
    ----------
    labels : ndarray
        One label per row, as given.
    classes : tuple
        The distinct labels, sorted (or those of the data the rows are measured against).
    y : ndarray of int
        Each row's index into ``classes``.
    sensitive : pandas.DataFrame
        The sensitive feature columns, with a fresh index.
    group : ndarray of int
        Each row's index into ``group_keys``.
    group_keys : tuple of tuple
        The value of every sensitive feature, per group, sorted.
    weights : ndarray or None
        Sample weights; ``None`` when the input has none.
    texts : list or None
        The texts, when the input has them.
    pos_label : object or None
        The positive (favourable) class, when known.
    source : str
        Where the rows come from, for messages and provenance.
    origin : object
        The caller's object (``Dataset``, DataFrame, or the ``X`` given with arrays).
    label_column, text_column, weight_column : str or None
        The columns of ``origin`` that hold labels, texts and weights, when it has columns.
    """

    labels: NDArray[Any]
    classes: tuple[object, ...]
    y: NDArray[np.int64]
    sensitive: pd.DataFrame
    group: NDArray[np.int64]
    group_keys: tuple[tuple[object, ...], ...]
    weights: NDArray[np.float64] | None = None
    texts: list[Any] | None = None
    pos_label: object | None = None
    source: str = "in-memory data"
    origin: Any = None
    label_column: str | None = None
    text_column: str | None = None
    weight_column: str | None = None

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.labels)

    @property
    def features(self) -> tuple[str, ...]:
        """Names of the sensitive features."""
        return tuple(str(c) for c in self.sensitive.columns)

    @property
    def group_labels(self) -> list[str]:
        """The name of every group, in code order."""
        return [group_label(k) for k in self.group_keys]

    @property
    def weight(self) -> NDArray[np.float64]:
        """The sample weights, 1 for every row of an input without weights."""
        return self.weights if self.weights is not None else np.ones(self.n)

    @property
    def pos_index(self) -> int:
        """Index of ``pos_label`` in ``classes``."""
        return self.classes.index(self.pos_label)

    @property
    def y_pos(self) -> NDArray[np.int64]:
        """1 where the label is the positive class."""
        return (self.y == self.pos_index).astype(np.int64)

    @property
    def kind(self) -> str:
        """``"dataset"``, ``"frame"`` or ``"arrays"``: the kind of ``origin``."""
        if is_dataset(self.origin):
            return "dataset"
        return "frame" if isinstance(self.origin, pd.DataFrame) else "arrays"

    @property
    def frame(self) -> pd.DataFrame | None:
        """The caller's DataFrame (a Dataset's frame), or ``None`` for arrays."""
        kind = self.kind
        if kind == "dataset":
            return self.origin.frame
        return self.origin if kind == "frame" else None

    def subset(self, idx: NDArray[np.integer]) -> Rows:
        """The rows at positions ``idx``, with the same classes and groups."""
        return dataclasses.replace(
            self,
            labels=self.labels[idx], y=self.y[idx], group=self.group[idx],
            sensitive=self.sensitive.iloc[idx].reset_index(drop=True),
            weights=None if self.weights is None else self.weights[idx],
            texts=None if self.texts is None else [self.texts[i] for i in idx],
            origin=None,
        )

    def content_hash(self) -> str:
        """SHA-256 of every row's text, label, group and weight."""
        h = hashlib.sha256()
        texts = self.texts if self.texts is not None else [""] * self.n
        for t, y, g, w in zip(texts, self.y.tolist(), self.group.tolist(), self.weight.tolist(), strict=True):
            h.update(f"{t}\x1f{self.classes[y]}\x1f{group_label(self.group_keys[g])}\x1f{w!r}\x1e".encode())
        return h.hexdigest()

    def with_classes(self, classes: tuple[object, ...], pos_label: object | None) -> Rows:
        """The same rows with labels coded against ``classes``."""
        classes, y = label_codes(self.labels, classes)
        return dataclasses.replace(self, classes=classes, y=y, pos_label=pos_label)

    def with_groups(self, group_keys: tuple[tuple[object, ...], ...]) -> Rows:
        """The same rows with groups coded against ``group_keys`` (matched by their names).

        Raises
        ------
        InvalidDataError
            When a row's group is not among ``group_keys``.
        """
        index = {group_label(k): i for i, k in enumerate(group_keys)}
        names = self.group_labels
        unseen = sorted({n for n in names if n not in index})
        if unseen:
            raise InvalidDataError(
                f"{self.source} has groups {unseen} not seen in training ({[group_label(k) for k in group_keys]})"
            )
        remap = np.array([index[n] for n in names], dtype=np.int64)
        return dataclasses.replace(self, group=remap[self.group], group_keys=tuple(group_keys))


def _column(frame: pd.DataFrame, name: str, what: str) -> pd.Series:
    if name not in frame.columns:
        raise InvalidDataError(
            f"{what} column {name!r} not found; columns are: "
            f"{', '.join(map(str, frame.columns))}"
        )
    return frame[name]


def _groups(sensitive: pd.DataFrame, n: int) -> tuple[NDArray[np.int64], tuple[tuple[object, ...], ...]]:
    """Each row's group code and the sorted group keys: the sensitive features' sorted levels."""
    _, levels, codes = encode_features(sensitive, n, missing="error")
    if n == 0:
        raise InvalidDataError("the data has no rows; expected at least one row")
    stacked = np.stack(codes, axis=1)
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    keys = tuple(tuple(levels[j][int(c)] for j, c in enumerate(row)) for row in uniq)
    return inverse.reshape(-1).astype(np.int64), keys


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


def _texts(values: Any, what: str) -> list[Any]:
    return list(to_1d(np.asarray(values, dtype=object) if not isinstance(values, pd.Series) else values, what))


def as_rows(
    X: Any,
    y: Any = None,
    *,
    sensitive_features: Any = None,
    sample_weight: Any = None,
    text: Any = None,
    need_text: bool = False,
    source: str | None = None,
) -> Rows:
    """Read a labelled input into :class:`Rows`. Inputs are never modified.

    Parameters
    ----------
    X : Dataset, DataFrame or array-like
        A fairslm ``Dataset`` carries its own labels, sensitive features, weights and texts.
        With a DataFrame, ``y``, ``sensitive_features``, ``sample_weight`` and ``text`` may name
        its columns. Otherwise ``X`` is the texts (or anything row-aligned) and the others are
        arrays.
    y, sensitive_features, sample_weight, text : column name(s) or array-like
        Labels, sensitive features (one or several), sample weights and texts.
    need_text : bool
        Refuse an input without texts.
    source : str, optional
        What to call the input in messages (a Dataset's own source by default).

    Returns
    -------
    Rows
        Labels coded against their sorted distinct values, groups against their sorted keys.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = as_rows(pd.DataFrame({"label": [1, 0, 1], "sex": ["M", "F", "F"]}),
    ...                y="label", sensitive_features="sex")
    >>> rows.classes, rows.y.tolist(), rows.group_labels, rows.group.tolist()
    ((0, 1), [1, 0, 1], ['F', 'M'], [1, 0, 0])
    """
    cols: dict[str, Any] = {"label": None, "text": None, "weight": None}
    pos_label = None
    if is_dataset(X):
        if y is not None or sensitive_features is not None:
            raise InvalidDataError(
                "a Dataset carries its own labels and sensitive features; do not pass y= or "
                "sensitive_features= with it"
            )
        if X.labels is None:
            raise InvalidDataError(
                "the Dataset has no label column; debiasing and training need labels. Load it "
                "with load_dataset(..., label='COLUMN')"
            )
        cols = _dataset_columns(X)
        n = len(X.frame)
        labels = to_1d(X.labels, "labels")
        sens = _as_frame(X.sensitive if isinstance(X.sensitive, pd.DataFrame) else pd.DataFrame(X.sensitive))
        w = X.weights if sample_weight is None else sample_weight
        weights = None if w is None else validate_weights(w, n)
        texts = None if getattr(X, "texts", None) is None else _texts(X.texts, "texts")
        pos_label = getattr(X, "pos_label", None)
        where = source or str(getattr(X, "source", "the Dataset"))
    elif isinstance(X, pd.DataFrame):
        frame = X

        def col_or_values(v: Any, what: str) -> tuple[Any, str | None]:
            if isinstance(v, str):
                return _column(frame, v, what), v
            return v, None

        y_vals, cols["label"] = col_or_values(y, "label")
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
        w_vals, cols["weight"] = col_or_values(sample_weight, "weight")
        t_vals, cols["text"] = col_or_values(text, "text")
        labels = to_1d(y_vals, "y")
        sens = _as_frame(sens)
        weights = None if w_vals is None else validate_weights(w_vals, len(frame))
        texts = None if t_vals is None else _texts(t_vals, "text")
        where = source or "in-memory data"
    else:
        if y is None:
            raise InvalidDataError("labels are required: pass y= with one label per row")
        if sensitive_features is None:
            raise InvalidDataError("sensitive_features= is required (one value per row)")
        labels = to_1d(y, "y")
        t_vals = text
        if t_vals is None and X is not None and need_text:
            t_vals = X
        sens = _as_frame(sensitive_features)
        weights = None if sample_weight is None else validate_weights(sample_weight, len(labels))
        texts = None if t_vals is None else _texts(t_vals, "texts")
        if X is not None and len(X) != len(labels):
            raise InvalidDataError(f"X has {len(X)} rows but y has {len(labels)}")
        where = source or "in-memory data"
    n = len(labels)
    if len(sens) != n:
        raise InvalidDataError(
            f"sensitive_features has {len(sens)} rows but there are {n} labels"
        )
    if pd.isna(pd.Series(labels, dtype=object)).any():
        n_missing = int(pd.isna(pd.Series(labels, dtype=object)).sum())
        raise InvalidDataError(
            f"the labels have {n_missing} missing value(s); fill or drop those rows first"
        )
    if need_text and texts is None:
        raise InvalidDataError(
            "this method needs the texts: pass text= (a column name of the DataFrame, or the "
            "texts as X)"
        )
    group, group_keys = _groups(sens, n)
    classes, codes = label_codes(labels)
    if pos_label is None and classes and set(classes) <= {0, 1}:
        pos_label = 1  # as a Dataset reads 0/1 labels (load_dataset), so every command agrees
    return Rows(
        labels=labels, classes=classes, y=codes, sensitive=sens, group=group,
        group_keys=group_keys, weights=weights, texts=texts, pos_label=pos_label, source=where,
        origin=X, label_column=cols["label"], text_column=cols["text"],
        weight_column=cols["weight"],
    )
