"""Counterfactual text tests at scale: rewrite and score the texts where they live, in Spark.

Each Python worker rewrites its batch of texts with the
:class:`~fairslm.data.CounterfactualPerturber` and scores the changed texts and their
counterfactuals with the model it loaded once (:func:`~fairslm.models.spark_model`). To the
driver travel, per changed text, its two probability vectors, direction, group and label (tens
of bytes, no text), and the texts of the few examples with the largest changes; the flip
rates and tests are then the in-memory test's own code.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairslm.audit._counterfactual import (
    DEFAULT_EXAMPLES,
    pairs_result,
    resolve_score_class,
    summarize_pairs,
)
from fairslm.audit._counterfactual_result import CounterfactualResult
from fairslm.data import CounterfactualPerturber
from fairslm.engines import is_spark_dataframe, pandas_interop, quote_backtick, spark_errors
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.models import spark_model

__all__ = ["counterfactual_spark"]

_ROW = "fairslm_row"
_PAIR = "fairslm_pair"


def counterfactual_spark(
    model: str | os.PathLike[str],
    frame: Any,
    *,
    text: str = "text",
    label: str | None = None,
    group: str | None = None,
    attribute: str = "gender",
    pos_label: Any = None,
    target: str | None = None,
    terms: Any = None,
    names: bool = True,
    seed: int = 0,
    n_examples: int = DEFAULT_EXAMPLES,
    **options: Any,
) -> CounterfactualResult:
    """:func:`~fairslm.audit.counterfactual_test` on a Spark DataFrame's texts.

    Parameters
    ----------
    model : path
        A model directory every executor can read (see :func:`~fairslm.models.score_spark`).
    frame : pyspark.sql.DataFrame
    text, label, group : str
        Columns of the texts, of their true labels and of their group (optional).
    attribute, pos_label, target, terms, names, seed, n_examples
        As for :func:`~fairslm.audit.counterfactual_test` and
        :class:`~fairslm.data.CounterfactualPerturber`.
    **options
        Passed to :func:`~fairslm.models.load_model` on the workers.

    Returns
    -------
    CounterfactualResult
        As in memory; an example's ``index`` is the row's Spark id
        (``monotonically_increasing_id``), and ``provenance.texts_sha256`` hashes the row count
        with the order-free sum of the texts' xxhash64.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf

    if not is_spark_dataframe(frame):
        raise InvalidDataError(
            f"counterfactual_spark tests a Spark DataFrame; got {type(frame).__name__}. For "
            "texts in memory use counterfactual_test"
        )
    for col in (text, label, group):
        if col is not None and col not in frame.columns:
            raise InvalidDataError(
                f"column {col!r} not found; columns are: {', '.join(frame.columns)}"
            )
    if int(n_examples) < 0:
        raise ConfigError(f"n_examples must be >= 0; got {n_examples}")
    path = str(Path(model))
    opts = tuple(sorted(options.items()))
    classes = list(spark_model(path, opts).classes_)
    score_class, score_definition = resolve_score_class(classes, pos_label)
    perturber = CounterfactualPerturber(attribute, seed=seed, terms=terms, names=names)

    def _pairs(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        adapter = spark_model(path, opts)
        for batch in batches:
            items = batch.tolist()
            for t in items:
                if not isinstance(t, str) or not t.strip():
                    raise InvalidDataError(
                        f"texts must be non-empty strings; found {t!r}. Drop empty rows first"
                    )
            pert = perturber.perturb(items, target=target)
            idx = np.flatnonzero(pert.changed)
            p0: list[Any] = [None] * len(items)
            p1: list[Any] = [None] * len(items)
            if len(idx):
                both = adapter.predict_proba([items[i] for i in idx] +
                                             [pert.texts[i] for i in idx])
                for r, i in enumerate(idx):
                    p0[i], p1[i] = both[r], both[len(idx) + r]
            yield pd.DataFrame({
                "changed": pert.changed,
                "direction": pert.direction,
                "counterfactual": [t if c else None for t, c in zip(pert.texts, pert.changed,
                                                                    strict=True)],
                "marked": [pert.marked(i) if c else None for i, c in enumerate(pert.changed)],
                "edits": [json.dumps([list(e) for e in pert.edits[i]]) if c else None
                          for i, c in enumerate(pert.changed)],
                "p0": p0,
                "p1": p1,
            })

    q = quote_backtick
    extra = [c for c in (label, group) if c is not None]
    with pandas_interop():
        udf = pandas_udf(  # type: ignore[call-overload]
            _pairs,
            "changed boolean, direction string, counterfactual string, marked string, "
            "edits string, p0 array<double>, p1 array<double>",
        )
    scored = (
        frame.select(F.col(q(text)).alias("t"), *[F.col(q(c)) for c in dict.fromkeys(extra)])
        .withColumn(_ROW, F.monotonically_increasing_id())
        .withColumn(_PAIR, udf(F.col("t")))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    try:
        with spark_errors("the counterfactual pairs"):
            totals = scored.agg(
                F.count("*").alias("n"),
                F.sum(F.xxhash64("t").cast("decimal(38,0)")).alias("h"),
            ).collect()[0]
            sizes = None
            if group is not None:
                sizes = {str(r[0]): int(r[1]) for r in
                         scored.groupBy(F.col(q(group)).cast("string")).count().collect()}
            cols = [F.col(_ROW), F.col(f"{_PAIR}.direction"), F.col(f"{_PAIR}.p0"),
                    F.col(f"{_PAIR}.p1")]
            if label is not None:
                cols.append(F.col(q(label)).alias("label"))
            if group is not None:
                cols.append(F.col(q(group)).cast("string").alias("group"))
            pairs = scored.where(F.col(f"{_PAIR}.changed")).select(*cols).orderBy(_ROW).collect()
        n = int(totals["n"])
        if n == 0:
            raise InvalidDataError("the DataFrame has no rows; pass at least one text")
        k = len(classes)
        index = np.array([r[_ROW] for r in pairs], dtype=np.int64)
        p0 = np.array([r["p0"] for r in pairs], dtype=np.float64).reshape(-1, k)
        p1 = np.array([r["p1"] for r in pairs], dtype=np.float64).reshape(-1, k)
        labels = None if label is None else np.array([r["label"] for r in pairs], dtype=object)
        groups = None if group is None else [str(r["group"]) for r in pairs]

        def example_texts(rows: Sequence[int]) -> list[dict[str, Any]]:
            ids = [int(index[r]) for r in rows]
            if not ids:
                return []
            with spark_errors("the counterfactual examples"):
                found = {
                    r[_ROW]: r for r in scored.where(F.col(_ROW).isin(ids)).select(
                        _ROW, "t", f"{_PAIR}.counterfactual", f"{_PAIR}.marked",
                        f"{_PAIR}.edits").collect()
                }
            return [{"original": found[i]["t"], "counterfactual": found[i]["counterfactual"],
                     "marked": found[i]["marked"], "edits": json.loads(found[i]["edits"])}
                    for i in ids]

        sections = summarize_pairs(
            classes=classes, score_class=score_class, p0=p0, p1=p1, index=index,
            directions=[r["direction"] for r in pairs], groups=groups, group_sizes=sizes,
            labels=labels, n_examples=int(n_examples), example_texts=example_texts,
        )
    finally:
        scored.unpersist()
    fingerprint = spark_model(path, opts).fingerprint()
    digest = hashlib.sha256(f"{n}:{totals['h']}".encode()).hexdigest()
    return pairs_result(
        perturber, sections, classes=classes, score_class=score_class,
        score_definition=score_definition, n_texts=n, seed=seed, target=target,
        n_examples=n_examples,
        provenance={"engine": "spark", "model": path, "model_fingerprint": fingerprint,
                    "texts_sha256": digest,
                    "texts_digest": "sha256 of the row count and the sum of the texts' xxhash64",
                    "dataset_sha256": None},
    )
