"""A validated, immutable view of a text data set: texts, labels, sensitive features, weights."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from fairslm._missing import FILL_OR_DROP, missing_mask
from fairslm.data._readers import read_source
from fairslm.data._spec import DatasetSpec
from fairslm.exceptions import InvalidDataError

__all__ = ["Dataset", "load_dataset"]

_SHOW = 5  # offending rows named in an error message


def _rows(idx: NDArray[Any]) -> str:
    shown = ", ".join(str(int(i)) for i in idx[:_SHOW])
    return shown + (f" and {len(idx) - _SHOW} more" if len(idx) > _SHOW else "")


def _py(v: object) -> object:
    return v.item() if isinstance(v, np.generic) else v


def _check_texts(values: pd.Series, col: str) -> list[str]:
    arr = values.to_numpy(dtype=object)
    not_str = np.flatnonzero([not isinstance(v, str) for v in arr])
    missing = [i for i in not_str if arr[i] is None or (isinstance(arr[i], float) and np.isnan(arr[i]))]
    if missing:
        raise InvalidDataError(
            f"text column {col!r} has {len(missing)} missing value(s) (row(s) {_rows(np.asarray(missing))}); "
            "every row needs a non-empty text. Drop those rows first"
        )
    if len(not_str):
        i = int(not_str[0])
        raise InvalidDataError(
            f"text column {col!r} must hold strings; found {arr[i]!r} ({type(arr[i]).__name__}) "
            f"in row(s) {_rows(not_str)}. Is {col!r} the text column?"
        )
    empty = np.flatnonzero([not v.strip() for v in arr])
    if len(empty):
        raise InvalidDataError(
            f"text column {col!r} has {len(empty)} empty text(s) (row(s) {_rows(empty)}); "
            "every row needs a non-empty text. Drop those rows first"
        )
    return list(arr)


def _hash_frame(frame: pd.DataFrame, spec: DatasetSpec) -> str:
    """SHA-256 of the columns the spec uses, row by row; independent of file format and of
    columns the spec does not use."""
    h = hashlib.sha256()
    h.update(spec.model_dump_json().encode())
    for col in spec.columns:
        h.update(b"\x1ecol\x1e" + str(col).encode())
        s = frame[col]
        if pd.api.types.is_float_dtype(s.dtype) and col == spec.weight:
            h.update(np.ascontiguousarray(s.to_numpy(dtype=np.float64)).tobytes())
        else:
            h.update("\x1f".join(map(str, s.tolist())).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class Dataset:
    """Texts with labels, sensitive features and optional weights, ids and splits.

    Build one with :func:`load_dataset`. The object is immutable: ``frame`` is never modified
    and every accessor returns the same values; :meth:`with_frame` and :meth:`split` return new
    data sets with the same column mapping.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows, with (at least) the columns named by ``spec``.
    spec : DatasetSpec
        Which column holds what.
    texts : list of str
    labels : ndarray or None
        One label per row (strings or integers); ``None`` when the spec has no label column.
    classes : tuple
        Sorted distinct labels.
    pos_label : object or None
        The positive (favourable) class: given, or 1 for 0/1 labels; ``None`` when ambiguous.
    sensitive : pandas.DataFrame
        The sensitive feature columns.
    weights : ndarray or None
    content_hash : str
        SHA-256 of the used columns, for provenance.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"text": ["she is a nurse", "he is a surgeon", "he is a nurse"],
    ...                    "label": [0, 1, 0], "gender": ["F", "M", "M"]})
    >>> ds = load_dataset(df)
    >>> len(ds), ds.classes, ds.pos_label
    (3, (0, 1), 1)
    """

    __slots__ = (
        "_frame", "_spec", "_texts", "_labels", "_classes", "_pos_label", "_weights", "_hash",
        "_source",
    )

    def __init__(self, frame: pd.DataFrame, spec: DatasetSpec, *, source: str = "DataFrame") -> None:
        spec = DatasetSpec.model_validate(spec) if not isinstance(spec, DatasetSpec) else spec
        missing = [c for c in spec.columns if c not in frame.columns]
        if missing:
            raise InvalidDataError(
                f"column(s) {', '.join(repr(m) for m in missing)} not found in {source}; "
                f"columns are: {', '.join(map(str, frame.columns))}"
            )
        if len(frame) == 0:
            raise InvalidDataError(
                f"{source} has no rows (after filtering); a data set needs at least one row"
            )
        frame = frame.reset_index(drop=True)
        self._source = source
        self._spec = spec
        self._texts = _check_texts(frame[spec.text], spec.text)
        self._labels: NDArray[Any] | None = None
        self._classes: tuple[object, ...] = ()
        self._pos_label: object | None = None
        if spec.label is not None:
            lab = frame[spec.label]
            blank = missing_mask(lab)
            if blank.any():
                bad = np.flatnonzero(blank)
                raise InvalidDataError(
                    f"label column {spec.label!r} has {len(bad)} missing value(s) (row(s) "
                    f"{_rows(bad)}); drop or label those rows (empty strings count as missing)"
                )
            self._labels = lab.to_numpy()
            try:
                classes: list[Any] = sorted({_py(v) for v in self._labels})  # type: ignore[type-var]
            except TypeError as exc:
                raise InvalidDataError(
                    f"label column {spec.label!r} mixes types (e.g. numbers and strings); "
                    "use one type"
                ) from exc
            self._classes = tuple(classes)
            self._pos_label = self._resolve_pos(spec.pos_label)
        for col in spec.sensitive:
            s = frame[col]
            blank = missing_mask(s)
            if blank.any():
                bad = np.flatnonzero(blank)
                raise InvalidDataError(
                    f"sensitive column {col!r} has {len(bad)} missing value(s) (row(s) {_rows(bad)}); "
                    f"{FILL_OR_DROP}"
                )
            values = s.unique()
            if len(values) < 2:
                raise InvalidDataError(
                    f"sensitive column {col!r} has a single value {_py(values[0])!r} in all "
                    f"{len(s)} rows of {source}; a fairness audit compares at least two groups. "
                    "Check the column name or the split/filter"
                )
        self._weights: NDArray[np.float64] | None = None
        if spec.weight is not None:
            try:
                w = frame[spec.weight].to_numpy(dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidDataError(f"weight column {spec.weight!r} must be numeric") from exc
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise InvalidDataError(
                    f"weight column {spec.weight!r} must hold finite non-negative numbers; "
                    f"found {float(w[~(np.isfinite(w) & (w >= 0))][0]):g}"
                )
            if len(w) and not (w > 0).any():
                raise InvalidDataError(
                    f"weight column {spec.weight!r} is zero for every row, so no row would count "
                    "and every rate would be 0/0. Check the column, or leave the weights out"
                )
            w.setflags(write=False)
            self._weights = w
        if self._labels is not None:
            self._labels.setflags(write=False)
        self._frame = frame
        self._hash = _hash_frame(frame, spec)

    def _resolve_pos(self, pos_label: object | None) -> object | None:
        classes = self._classes
        if pos_label is not None:
            if pos_label in classes:
                return pos_label
            matches = [c for c in classes if str(c) == str(pos_label)]
            if len(matches) == 1:
                return matches[0]
            raise InvalidDataError(
                f"pos_label {pos_label!r} is not among the labels of column "
                f"{self._spec.label!r}: {list(classes)}; pass one of them"
            )
        if set(classes) <= {0, 1}:
            return 1
        return None

    # -- accessors ------------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        return self._frame

    @property
    def spec(self) -> DatasetSpec:
        return self._spec

    @property
    def texts(self) -> list[str]:
        return list(self._texts)

    @property
    def labels(self) -> NDArray[Any] | None:
        return self._labels

    @property
    def classes(self) -> tuple[object, ...]:
        return self._classes

    @property
    def pos_label(self) -> object | None:
        return self._pos_label

    @property
    def sensitive(self) -> pd.DataFrame:
        return self._frame[list(self._spec.sensitive)]

    @property
    def weights(self) -> NDArray[np.float64] | None:
        return self._weights

    @property
    def ids(self) -> NDArray[Any] | None:
        return None if self._spec.id is None else self._frame[self._spec.id].to_numpy()

    @property
    def content_hash(self) -> str:
        return self._hash

    @property
    def source(self) -> str:
        return self._source

    @property
    def split_names(self) -> tuple[str, ...]:
        """The distinct split names, in order of appearance (empty without a split column)."""
        if self._spec.split is None:
            return ()
        return tuple(str(v) for v in pd.unique(self._frame[self._spec.split]))

    def __len__(self) -> int:
        return len(self._texts)

    def __repr__(self) -> str:
        return (
            f"Dataset(n={len(self)}, text={self._spec.text!r}, label={self._spec.label!r}, "
            f"sensitive={list(self._spec.sensitive)}, classes={list(self._classes)}, "
            f"hash={self._hash[:12]})"
        )

    # -- derived data sets ----------------------------------------------------------------
    def split(self, name: str) -> Dataset:
        """The rows of split ``name`` as a new :class:`Dataset`."""
        if self._spec.split is None:
            raise InvalidDataError(
                f"this data set has no split column; pass split='COLUMN' to load_dataset, or "
                f"load a folder of split files. Asked for split {name!r}"
            )
        col = self._frame[self._spec.split].astype(str)
        if name not in set(col):
            raise InvalidDataError(
                f"split {name!r} not found; splits are: {', '.join(self.split_names)}"
            )
        return Dataset(self._frame[col == name], self._spec, source=f"{self._source} [{name}]")

    def with_frame(self, frame: pd.DataFrame) -> Dataset:
        """A new :class:`Dataset` over ``frame`` with the same column mapping (validated)."""
        if not isinstance(frame, pd.DataFrame):
            raise InvalidDataError(f"with_frame needs a pandas DataFrame; got {type(frame).__name__}")
        return Dataset(frame, self._spec, source=self._source)


def load_dataset(
    source: Any,
    *,
    text: str = "text",
    label: str | None = "label",
    sensitive: str | Sequence[str] = ("gender",),
    weight: str | None = None,
    id: str | None = None,
    split: str | None = None,
    pos_label: object | None = None,
    splits: Sequence[str] | None = None,
) -> Dataset:
    """Load a text data set and validate its columns.

    Parameters
    ----------
    source : path, mapping or DataFrame
        A ``.csv``/``.tsv``, ``.parquet`` or ``.jsonl`` file; a folder of split files
        (``train.jsonl``, ``test.jsonl``, ...: the file stem becomes the split name); a folder
        written by Hugging Face ``datasets``' ``save_to_disk`` (a ``DatasetDict``'s keys become
        split names); a mapping ``{split name: path}``; or a pandas DataFrame (not copied, never
        modified).
    text, label, sensitive, weight, id, split : str
        Column names. ``label=None`` for unlabelled texts; ``sensitive`` is one name or several.
        ``split`` names a column of split names (for a folder or mapping it is the column that
        receives them, ``"split"`` by default).
    pos_label : optional
        The positive (favourable) class. Defaults to 1 for 0/1 labels; otherwise left ``None``
        (an audit that needs it will ask).
    splits : sequence of str, optional
        Keep only these splits.

    Returns
    -------
    Dataset

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"bio": ["she operates", "he nurses", "he operates", "she nurses"],
    ...                    "job": ["surgeon", "nurse", "surgeon", "nurse"],
    ...                    "sex": ["F", "M", "M", "F"]})
    >>> ds = load_dataset(df, text="bio", label="job", sensitive="sex", pos_label="surgeon")
    >>> ds.pos_label, ds.labels.tolist()
    ('surgeon', ['surgeon', 'nurse', 'surgeon', 'nurse'])
    """
    sens = (sensitive,) if isinstance(sensitive, str) else tuple(sensitive)
    if isinstance(pos_label, np.generic):
        pos_label = pos_label.item()
    needed = DatasetSpec(
        text=text, label=label, sensitive=sens, weight=weight, id=id, split=split,
        pos_label=pos_label,  # type: ignore[arg-type]
    )
    frame, split_col, desc = read_source(source, needed.columns, split_col=split, splits=splits)
    spec = needed.model_copy(update={"split": split_col}) if split_col != split else needed
    if splits is not None:
        if split_col is None:
            raise InvalidDataError("splits= needs a split column; pass split='COLUMN' naming it")
        values = frame[split_col].astype(str)
        keep = values.isin([str(s) for s in splits])
        if not keep.any():
            raise InvalidDataError(
                f"no rows left after keeping splits {list(splits)}; splits in {desc} are: "
                f"{', '.join(map(str, pd.unique(values)))}"
            )
        frame = frame[keep]
    return Dataset(frame, spec, source=desc)

