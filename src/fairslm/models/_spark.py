"""Batch scoring on Spark: a fairslm model directory applied to a DataFrame's text column.

An iterator pandas UDF loads the model once per Python worker, from its path, with the same
safety rules as :func:`~fairslm.models.load_model` (safetensors, no pickles, no remote code),
and scores each Arrow batch of texts with the adapter's own length-sorted batches. The texts
never leave the executors; the probabilities and the decision come back as new columns.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairslm.engines import is_spark_dataframe, pandas_interop, quote_backtick
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.models._base import ModelAdapter
from fairslm.models._load import load_model

__all__ = ["score_spark", "spark_model"]

# One adapter per (path, options) per Python worker process: Spark reuses its Python workers
# across tasks, so a model is read from disk once per worker, not once per partition.
_MODELS: dict[tuple[str, tuple[tuple[str, Any], ...]], ModelAdapter] = {}
_LOCK = threading.Lock()


def spark_model(path: str, options: tuple[tuple[str, Any], ...]) -> ModelAdapter:
    """The adapter for ``path`` in this process, loaded on first use (no score cache: a
    worker sees each text once, and a cache would grow with the data)."""
    key = (path, options)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = load_model(path, cache=False, **dict(options))
            _MODELS[key] = model
    return model


def _spark_type(classes: list[Any]) -> str:
    if all(isinstance(c, bool | np.bool_) for c in classes):
        return "boolean"
    if all(isinstance(c, int | np.integer) and not isinstance(c, bool) for c in classes):
        return "bigint"
    return "string"


def score_spark(
    frame: Any,
    model: str | os.PathLike[str],
    *,
    text: str = "text",
    pos_label: object | None = None,
    proba_column: str = "proba",
    prediction_column: str = "y_pred",
    score_column: str | None = "y_score",
    **options: Any,
) -> Any:
    """Score the texts of a Spark DataFrame with a fairslm model, as new columns.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        Classic or Spark Connect.
    model : path
        A model directory (or ``.skops`` file) that every executor can read at this path:
        a local path on one machine, shared storage (e.g. ``/dbfs/...``, ``/Volumes/...``) on
        a cluster. It is loaded on the driver once to read its classes, then once per worker.
    text : str, default "text"
        The column of texts.
    pos_label : optional
        The class whose probability goes to ``score_column`` (default: 1 for 0/1 classes,
        else the second class of a binary model). Not used for multiclass models.
    proba_column, prediction_column, score_column : str
        New columns: every class's probability (an array in the order of the model's
        classes), the most probable class, and the positive class's probability (binary
        models; ``None`` to leave it out).
    **options
        Passed to :func:`~fairslm.models.load_model` (``batch_size``, ``max_length``,
        ``num_threads``, ``max_batch_tokens``, ...).

    Returns
    -------
    pyspark.sql.DataFrame
        ``frame`` with the three new columns; lazy, like any Spark transformation.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf

    if not is_spark_dataframe(frame):
        raise InvalidDataError(
            f"score_spark scores a Spark DataFrame; got {type(frame).__name__}. For texts in "
            "memory use the model's predict_proba"
        )
    if not isinstance(model, (str, os.PathLike)):
        raise ConfigError(
            "score_spark takes the model's path (executors load it from there), not a "
            f"{type(model).__name__}; save the model with save_pretrained and pass the folder"
        )
    path = str(Path(model))
    if text not in frame.columns:
        raise InvalidDataError(
            f"text column {text!r} not found; columns are: {', '.join(frame.columns)}"
        )
    for c in (proba_column, prediction_column, score_column):
        if c is not None and c in frame.columns:
            raise InvalidDataError(
                f"the DataFrame already has a column {c!r}; pass another name for it"
            )
    opts = tuple(sorted(options.items()))
    classes = list(spark_model(path, opts).classes_)
    kind = _spark_type(classes)
    binary_pos: int | None = None
    if len(classes) == 2 and score_column is not None:
        if pos_label is None:
            pos = 1 if set(classes) == {0, 1} else classes[1]
        else:
            match = [c for c in classes if str(c) == str(pos_label)]
            if not match:
                raise InvalidDataError(
                    f"pos_label {pos_label!r} is not a class of the model {classes}"
                )
            pos = match[0]
        binary_pos = classes.index(pos)
    out_classes = [c.item() if isinstance(c, np.generic) else c for c in classes]
    if kind == "string":
        out_classes = [str(c) for c in out_classes]

    def _score(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        adapter = spark_model(path, opts)
        for texts in batches:
            proba = adapter.predict_proba(texts.tolist())
            best = np.argmax(proba, axis=1)
            yield pd.DataFrame({
                "proba": list(proba),
                "prediction": [out_classes[j] for j in best],
            })

    with pandas_interop():
        udf = pandas_udf(_score, f"proba array<double>, prediction {kind}")  # type: ignore[call-overload]
        scored = frame.withColumn("fairslm_scored", udf(F.col(quote_backtick(text))))
    cols = [F.col(quote_backtick(c)) for c in frame.columns]
    cols.append(F.col("fairslm_scored.proba").alias(proba_column))
    cols.append(F.col("fairslm_scored.prediction").alias(prediction_column))
    if binary_pos is not None and score_column is not None:
        cols.append(F.col("fairslm_scored.proba")[binary_pos].alias(score_column))
    return scored.select(*cols)
