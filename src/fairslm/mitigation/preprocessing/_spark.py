"""``debias`` on Spark: reweigh training data held by Spark and write it as Parquet.

The weights come from a Spark count table and are joined back onto the rows
(:mod:`fairslm.mitigation.preprocessing._spark_cells`). Resampling and counterfactual
augmentation stay single-machine: they need every row, and augmentation every text.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fairslm.audit import count_table_sha256
from fairslm.engines import (
    check_columns,
    is_remote_path,
    spark_errors,
    spark_source,
)
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.mitigation.preprocessing._cells import Cells
from fairslm.mitigation.preprocessing._config import ReweighStep, parse_config
from fairslm.mitigation.preprocessing._debias import DebiasResult
from fairslm.mitigation.preprocessing._outputs import WEIGHT_COLUMN
from fairslm.mitigation.preprocessing._reweighing import Reweighing
from fairslm.mitigation.preprocessing._spark_cells import (
    cell_table_spark,
    join_factors,
    spark_weight_ranges,
)
from fairslm.mitigation.preprocessing._summary import summarize_cells

__all__ = ["debias_spark", "write_parquet_dataset"]

def _refuse_output(out: str, source: Any) -> None:
    if is_remote_path(out):
        return
    target = Path(out).resolve()
    if isinstance(source, (str, os.PathLike)) and not is_remote_path(os.fspath(source)):
        src = Path(source).resolve()
        if target == src or src in target.parents:
            raise InvalidDataError(
                f"refusing to write into the input {source}; choose another --out folder"
            )
    if target.exists():
        raise InvalidDataError(
            f"{out} already exists; choose a new --out folder (a Parquet dataset is written "
            "there) or delete it first"
        )


def write_parquet_dataset(frame: Any, out: str) -> None:
    """Write ``frame`` as a Parquet folder; a local folder appears whole or not at all.

    A local folder is written into a fairslm temp folder beside it and renamed into place with
    the command's other outputs (:func:`fairslm._atomic.atomic_directory`), so an interrupted
    or failed write leaves nothing behind and a stale temp folder is cleaned up next time.
    """
    from fairslm._atomic import atomic_directory

    if is_remote_path(out):
        with spark_errors(f"the output {out}"):
            frame.write.mode("errorifexists").parquet(out)
        return
    # Whole, as the input is: the JVM resolves a relative path against its own working folder,
    # which is not this process's once it has changed folder.
    with atomic_directory(Path(out).absolute()) as tmp, spark_errors(f"the output {out}"):
        # The temp folder is this write's own and empty: Spark may replace it.
        frame.write.mode("overwrite").parquet(str(tmp))


def debias_spark(
    source: Any,
    *,
    out: str | os.PathLike[str],
    steps: Any,
    label: str,
    sensitive: Sequence[str],
    weight: str | None = None,
    pos_label: object | None = None,
    spark: Any = None,
    format: str | None = None,
) -> DebiasResult:
    """Reweigh training data held by Spark and write it as a Parquet dataset.

    The weights come from a Spark count table and are joined back onto the rows, so the data
    never reaches the driver; ``out`` (a folder, local or on the cluster's storage) receives
    every input column plus the weight column (``sample_weight`` unless ``weight`` names one).
    Only reweighing runs here: resampling and augmentation need the rows on one machine.

    Returns
    -------
    DebiasResult
        ``dataset`` is the reweighed Spark DataFrame; summaries before and after come from
        the count table (the weight ranges from one more aggregation).
    """
    config = parse_config(steps)
    others = sorted({s.method for s in config.steps if not isinstance(s, ReweighStep)})
    if others:
        raise ConfigError(
            f"{' and '.join(others)} run on one machine only (they need every row, and "
            "augmentation every text); with the Spark engine only reweigh runs. Drop "
            f"--engine spark to {' and '.join(others)} a file that fits in memory"
        )
    out = os.fspath(out)
    sensitive = [str(s) for s in sensitive]
    _refuse_output(out, source)
    src = spark_source(source, spark=spark, format=format)
    frame = src.frame_with_text(sensitive)
    check_columns(frame.columns, src.name, y_true=label, y_pred=label, sensitive=sensitive,
                  weight=weight)
    # The source keeps its name for messages ("x.csv has no rows", not "the DataFrame").
    table = cell_table_spark(dataclasses.replace(src, frame=frame), label, sensitive, weight)
    pos = None
    if pos_label is not None:
        match = [c for c in table.classes if str(c) == str(pos_label)]
        if not match:
            raise InvalidDataError(
                f"--pos-label {pos_label!r} is not among the labels in column {label!r}: "
                f"{sorted(map(str, table.classes))}"
            )
        pos = match[0]
    cells = Cells.from_table(table)
    lo, hi = spark_weight_ranges(frame, label, sensitive, weight, table)
    before = summarize_cells(cells, np.nanmin(lo, axis=1), np.nanmax(hi, axis=1),
                             weighted=weight is not None, pos_label=pos)
    current, w = frame, weight
    report = []
    for i, step in enumerate(config.steps, start=1):
        assert isinstance(step, ReweighStep)  # others were refused above
        rw = Reweighing(smoothing=step.smoothing).fit(current, label, sensitive_features=sensitive,
                                                      sample_weight=w)
        out_col = w or WEIGHT_COLUMN
        current = join_factors(current, label=label, sensitive=sensitive, weight=w,
                               out_column=out_col, group_keys=rw.group_keys_,
                               classes=rw.classes_, factors=rw.weight_table_, check=False)
        # A factor scales every weight of its cell: sums and ranges follow without a pass.
        cells = copy.copy(cells)
        cells.weight_sums = cells.weight_sums * rw.weight_table_
        lo, hi = lo * rw.weight_table_, hi * rw.weight_table_
        w = out_col
        report.append({"step": i, **step.model_dump(),
                       "cells": rw.cells_.to_dict(orient="records"),
                       "rows_before": table.n_rows, "rows_after": table.n_rows})
    after = summarize_cells(cells, np.nanmin(lo, axis=1), np.nanmax(hi, axis=1), weighted=True,
                            pos_label=pos)
    write_parquet_dataset(current, out)
    from fairslm._version import __version__

    provenance = {
        "fairslm_version": __version__,
        "engine": "spark",
        "input": src.provenance,
        "output": out,
        "input_hash": count_table_sha256(table),
        "rows_before": table.n_rows,
        "rows_after": table.n_rows,
        "weights_finite": bool(np.isfinite(cells.weight_sums).all()),
    }
    return DebiasResult(dataset=current, before=before, after=after, report=tuple(report),
                        config=config, provenance=provenance)
