"""Scores read from a file of model outputs, for users who only have predictions."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fairslm.exceptions import ConfigError, InvalidDataError, ModelLoadError
from fairslm.models._base import ModelAdapter
from fairslm.models._texts import check_texts

__all__ = ["PREDICTION_SUFFIXES", "PredictionsFileAdapter"]

PREDICTION_SUFFIXES = (".csv", ".parquet", ".pq", ".jsonl")
_PROBA_COLUMN = re.compile(r"^(?:proba|prob)_(.+)$")
_SCORE_COLUMNS = ("y_score", "score", "proba")
_PRED_COLUMNS = ("y_pred", "prediction", "pred")


def _label(text: str) -> Any:
    return int(text) if re.fullmatch(r"-?\d+", text) else text


class PredictionsFileAdapter(ModelAdapter):
    """Look texts up in a CSV/Parquet/JSONL file of model outputs.

    Parameters
    ----------
    path : str or Path
        The file. One row per text.
    text_column : str, default "text"
    proba_columns : mapping or sequence, optional
        ``{class: column}`` of probabilities, or a list of columns in the order of
        ``classes``. By default columns named ``proba_<class>`` (or ``prob_<class>``) are
        used; else a single ``y_score``/``score``/``proba`` column is read as the probability
        of the second class; else a ``y_pred``/``prediction``/``pred`` column gives hard
        predictions (probability 1 for the predicted class).
    prediction_column : str, optional
        Use this column of hard predictions.
    classes : sequence, optional
        Class labels (default: from the column names, ``[0, 1]`` for a score column, or the
        sorted distinct predictions).
    """

    kind = "predictions"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        text_column: str = "text",
        proba_columns: Mapping[Any, str] | Sequence[str] | None = None,
        prediction_column: str | None = None,
        classes: Sequence[Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelLoadError(f"predictions file {self.path} does not exist")
        if self.path.suffix.lower() not in PREDICTION_SUFFIXES:
            raise ModelLoadError(
                f"predictions file {self.path} has suffix {self.path.suffix!r}; expected one of "
                f"{PREDICTION_SUFFIXES}"
            )
        from fairslm.data import read_table

        df = read_table(self.path)
        cols = [str(c) for c in df.columns]
        if text_column not in cols:
            raise InvalidDataError(
                f"column {text_column!r} not found in {self.path.name}; columns are: "
                f"{', '.join(cols)}. Pass text_column= naming the column with the texts"
            )
        found_classes, scores, how = self._scores(
            df, cols, proba_columns, prediction_column, classes
        )
        super().__init__(found_classes, metadata=metadata, cache=False)
        self.text_column = text_column
        self.source_ = how
        texts = check_texts(df[text_column].tolist())
        self._rows: dict[str, np.ndarray] = {}
        for text, row in zip(texts, scores, strict=True):
            seen = self._rows.get(text)
            if seen is not None and not np.allclose(seen, row):
                raise InvalidDataError(
                    f"{self.path.name} holds the same text twice with different scores "
                    f"({text[:60]!r}); keep one row per text"
                )
            self._rows[text] = row
        self._digest = hashlib.sha256(
            self.path.read_bytes() + f"\n{text_column}\n{how}".encode()
        ).hexdigest()

    def _scores(
        self,
        df: Any,
        cols: list[str],
        proba_columns: Mapping[Any, str] | Sequence[str] | None,
        prediction_column: str | None,
        classes: Sequence[Any] | None,
    ) -> tuple[list[Any], np.ndarray, str]:
        def need(col: str) -> None:
            if col not in cols:
                raise InvalidDataError(
                    f"column {col!r} not found in {self.path.name}; columns are: {', '.join(cols)}"
                )

        if proba_columns is None and prediction_column is None:
            auto = {c: m.group(1) for c in cols if (m := _PROBA_COLUMN.match(c))}
            if auto:
                proba_columns = {_label(v): c for c, v in auto.items()}
            elif score := next((c for c in _SCORE_COLUMNS if c in cols), None):
                proba_columns = [score]
            elif pred := next((c for c in _PRED_COLUMNS if c in cols), None):
                prediction_column = pred
            else:
                raise InvalidDataError(
                    f"{self.path.name} has no score columns: expected proba_<class> columns, a "
                    f"y_score column or a y_pred column; columns are: {', '.join(cols)}. Pass "
                    "proba_columns= or prediction_column="
                )
        if prediction_column is not None:
            need(prediction_column)
            values = df[prediction_column].tolist()
            labels = list(classes) if classes is not None else sorted(set(values), key=repr)
            index = {repr(c): j for j, c in enumerate(labels)}
            bad = sorted({repr(v) for v in values} - set(index))
            if bad:
                raise InvalidDataError(
                    f"predictions {bad} in column {prediction_column!r} are not among "
                    f"classes {labels!r}"
                )
            onehot = np.zeros((len(values), len(labels)))
            onehot[np.arange(len(values)), [index[repr(v)] for v in values]] = 1.0
            return labels, onehot, f"prediction:{prediction_column}"
        if isinstance(proba_columns, Mapping):
            labels = list(proba_columns)
            columns = [proba_columns[c] for c in labels]
            if classes is not None and [repr(c) for c in classes] != [repr(c) for c in labels]:
                labels = list(classes)
                columns = [proba_columns[c] for c in classes]
        else:
            columns = list(proba_columns or [])
            if len(columns) == 1:
                labels = list(classes) if classes is not None else [0, 1]
                if len(labels) != 2:
                    raise ConfigError(
                        f"a single score column is the probability of the second of two "
                        f"classes, but classes={labels!r}"
                    )
            else:
                if classes is None or len(classes) != len(columns):
                    raise ConfigError(
                        f"proba_columns {columns} need classes= with one label per column"
                    )
                labels = list(classes)
        for c in columns:
            need(c)
        mat = df[columns].to_numpy(dtype=np.float64)
        if len(columns) == 1:
            mat = np.column_stack([1.0 - mat[:, 0], mat[:, 0]])
        if not np.all(np.isfinite(mat)) or mat.min() < 0 or mat.max() > 1:
            raise InvalidDataError(
                f"score columns {columns} of {self.path.name} hold values outside [0, 1] or "
                "missing values; expected probabilities"
            )
        return labels, mat, "proba:" + ",".join(columns)

    def _fingerprint(self) -> str:
        return self._digest

    def _score(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._rows]
        if missing:
            raise InvalidDataError(
                f"{len(missing)} of {len(texts)} texts are not in {self.path.name} (first: "
                f"{missing[0][:60]!r}); the predictions file must hold a row for every text "
                "scored, with the text written exactly the same"
            )
        return np.stack([self._rows[t] for t in texts])
