"""Compare models saved on disk, and prediction columns of a file, on one test file."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fairslm._atomic import write_text_atomic
from fairslm.data import read_table
from fairslm.exceptions import InvalidDataError, ModelLoadError
from fairslm.mitigation.comparison._compare import ComparisonResult, compare

__all__ = ["compare_files", "load_for_comparison"]


def load_for_comparison(path: str | os.PathLike[str], **options: Any) -> Any:
    """Load a saved model; wrap it in its saved group thresholds when ``fairslm.json`` has them.

    ``options`` go to :func:`fairslm.load_model` (``template``, ``label_words``, ...).
    """
    p = Path(path)
    if not p.exists():
        raise ModelLoadError(f"model {str(p)!r} does not exist; pass a saved model directory")
    try:
        from fairslm.models import load_model  # type: ignore[attr-defined]
    except ImportError as exc:
        raise ModelLoadError(
            "loading saved models needs fairslm.models.load_model, which this installation "
            "lacks; compare prediction columns with --pred-column instead"
        ) from exc
    model = load_model(p, **options)
    meta = p / "fairslm.json"
    if meta.exists() and '"group_thresholds"' in meta.read_text(encoding="utf-8"):
        from fairslm.mitigation.postprocessing import ThresholdedModel

        model = ThresholdedModel.from_dir(model, p)
    return model


def compare_files(
    data: str | os.PathLike[str],
    *,
    models: Sequence[str | os.PathLike[str]] = (),
    pred_columns: Sequence[str] = (),
    text: str = "text",
    label: str = "label",
    sensitive: Sequence[str] = (),
    out: str | os.PathLike[str] | None = None,
    svg: str | os.PathLike[str] | None = None,
    model_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> ComparisonResult:
    """Compare saved models (``models``) and prediction columns of ``data`` (``pred_columns``).

    ``out`` receives the JSON and ``svg`` the plot, each written whole (temp file + rename).
    ``model_options`` go to :func:`fairslm.load_model` for every model (``template`` and
    ``label_words`` for causal LMs).
    """
    if not models and not pred_columns:
        raise InvalidDataError("nothing to compare: pass --model PATH or --pred-column COLUMN")
    df = read_table(data)
    missing = [c for c in pred_columns if c not in df.columns]
    if missing:
        raise InvalidDataError(
            f"prediction column(s) {missing} not found in {Path(data).name}; columns are: "
            f"{', '.join(map(str, df.columns))}"
        )
    entries: dict[str, Any] = {}
    for m in models:
        name = Path(m).name or str(m)
        if name in entries:
            name = str(m)
        entries[name] = load_for_comparison(m, **(model_options or {}))
    for c in pred_columns:
        entries[c] = df[c].to_numpy()
    result = compare(
        entries, df, text=text, label=label, sensitive=list(sensitive), **options,
    )
    if out is not None:
        result.to_json(out)
    if svg is not None:
        write_text_atomic(result.plot_svg(), svg)
    return result

