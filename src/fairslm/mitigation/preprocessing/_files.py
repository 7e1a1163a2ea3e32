"""Debias a data file and write the result as a new file (whole, never over the input)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fairslm._atomic import atomic_target
from fairslm.data import read_table
from fairslm.exceptions import InvalidDataError
from fairslm.mitigation.preprocessing._debias import DebiasResult, debias

__all__ = ["debias_file", "write_table_atomic"]

_WRITERS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl"}


def write_table_atomic(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` to ``path`` (format from the suffix) via a temp file and a rename."""
    path = Path(path)
    kind = _WRITERS.get(path.suffix.lower())
    if kind is None:
        raise InvalidDataError(
            f"unsupported output type {path.suffix!r} for {path.name}; use .parquet, .csv or .jsonl"
        )
    with atomic_target(path) as tmp:
        if kind == "parquet":
            frame.to_parquet(tmp, index=False)
        elif kind == "csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
    return path


def debias_file(
    path: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    steps: Any,
    label: str,
    sensitive: Sequence[str],
    text: str | None = None,
    weight: str | None = None,
    pos_label: object | None = None,
) -> DebiasResult:
    """Debias the rows of a data file and write them to ``out``.

    The output holds every input column, plus ``sample_weight`` after reweighing and
    ``fairslm_augmented`` / ``augmented_from`` after augmentation. The input file is never
    modified, and ``out`` may not be the input.
    """
    path, out = Path(path), Path(out)
    if out.resolve() == path.resolve():
        raise InvalidDataError(
            f"refusing to overwrite the input file {path}; choose another --out, e.g. "
            f"{path.with_name(path.stem + '_debiased.parquet')}"
        )
    if out.is_dir():
        raise InvalidDataError(
            f"--out {out} is a folder; pass a file path such as {out / 'debiased.parquet'}"
        )
    if out.suffix.lower() not in _WRITERS:
        raise InvalidDataError(
            f"unsupported output type {out.suffix!r} for {out.name}; use .parquet, .csv or .jsonl"
        )
    frame = read_table(path)
    needed = [label, *sensitive] + [c for c in (text, weight) if c]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InvalidDataError(
            f"column(s) {missing} not found in {path.name}; columns are: "
            f"{', '.join(map(str, frame.columns))}"
        )
    if pos_label is not None:
        labels = pd.unique(frame[label].dropna())
        match = [v for v in labels if str(v) == str(pos_label)]
        if not match:
            raise InvalidDataError(
                f"--pos-label {pos_label!r} is not among the labels in column {label!r}: "
                f"{sorted(map(str, labels))}"
            )
        pos_label = match[0]
    result = debias(
        frame,
        steps,
        y=label,
        sensitive_features=list(sensitive),
        text=text,
        sample_weight=weight,
        pos_label=pos_label,
    )
    write_table_atomic(result.dataset, out)
    provenance = {**result.provenance, "input": str(path), "output": str(out)}
    return dataclasses.replace(result, provenance=provenance)
