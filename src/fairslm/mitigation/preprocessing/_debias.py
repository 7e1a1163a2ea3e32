"""Run debiasing steps in order and summarise the data before and after."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairslm.data import Rows, as_rows, is_dataset
from fairslm.exceptions import InvalidDataError
from fairslm.mitigation.preprocessing._augmentation import CounterfactualAugmenter
from fairslm.mitigation.preprocessing._config import (
    AugmentStep,
    DebiasConfig,
    ResampleStep,
    ReweighStep,
    parse_config,
)
from fairslm.mitigation.preprocessing._outputs import WEIGHT_COLUMN
from fairslm.mitigation.preprocessing._resampling import Resampler
from fairslm.mitigation.preprocessing._reweighing import Reweighing
from fairslm.mitigation.preprocessing._summary import DataSummary, summarize_rows

__all__ = ["DebiasResult", "debias"]


@dataclass(frozen=True)
class DebiasResult:
    """The debiased data, summaries of the data before and after, and what each step did."""

    dataset: Any
    before: DataSummary
    after: DataSummary
    report: tuple[dict[str, Any], ...]
    config: DebiasConfig
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the data, JSON-ready."""
        return {
            "kind": "fairslm.debias",
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "report": [dict(r) for r in self.report],
            "config": self.config.model_dump(),
            "provenance": dict(self.provenance),
        }


@dataclass
class _Columns:
    """Column names that carry labels, groups, texts and weights through the steps."""

    label: Any
    sensitive: Any
    text: Any
    weight: Any


def _rows(data: Any, cols: _Columns, *, need_text: bool = False) -> Rows:
    if is_dataset(data):
        return as_rows(data, need_text=need_text)
    return as_rows(
        data, cols.label, sensitive_features=cols.sensitive, sample_weight=cols.weight,
        text=cols.text, need_text=need_text,
    )


def _content_hash(data: Any) -> str:
    if is_dataset(data) and getattr(data, "content_hash", None):
        return str(data.content_hash)
    import hashlib

    frame = data.frame if is_dataset(data) else data
    hashed = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
    return "sha256:" + hashlib.sha256(hashed.tobytes()).hexdigest()


def debias(
    data: Any,
    steps: Any,
    *,
    y: str | None = None,
    sensitive_features: str | list[str] | None = None,
    text: str | None = None,
    sample_weight: str | None = None,
    pos_label: object | None = None,
) -> DebiasResult:
    """Apply debiasing steps in order (e.g. augment, then reweigh) to training data.

    Parameters
    ----------
    data : Dataset or pandas.DataFrame
        A fairslm ``Dataset``, or a DataFrame whose columns are named by ``y``,
        ``sensitive_features``, ``text`` (needed by augmentation) and ``sample_weight``.
    steps : list of dict, or DebiasConfig
        Each step has a ``method`` (``"augment"``, ``"resample"``, ``"reweigh"``) and that
        method's options, e.g. ``[{"method": "augment", "mode": "cda"}, {"method": "reweigh"}]``.
    pos_label : optional
        The favourable label, for the summaries of a DataFrame.

    Returns
    -------
    DebiasResult
        The new data (same kind as ``data``; the input is not modified), data summaries before
        and after, and a report of each step.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1, 1, 0, 1, 0, 0], "g": list("aaabbb")})
    >>> res = debias(df, [{"method": "reweigh"}], y="y", sensitive_features="g", pos_label=1)
    >>> round(res.before.label_rate_gap(), 3), round(res.after.label_rate_gap(), 3)
    (0.333, 0.0)
    """
    config = parse_config(steps)
    if not is_dataset(data):
        if not isinstance(data, pd.DataFrame):
            raise InvalidDataError(
                f"debias takes a fairslm Dataset or a pandas DataFrame; got {type(data).__name__}."
                " For arrays, use Reweighing, Resampler or CounterfactualAugmenter directly"
            )
        if not isinstance(y, str) or sensitive_features is None:
            raise InvalidDataError(
                "for a DataFrame, name the columns: debias(df, steps, y='label', "
                "sensitive_features='gender', text='text')"
            )
    cols = _Columns(y, sensitive_features, text, sample_weight)
    first = _rows(data, cols)
    if pos_label is not None:
        first = dataclasses.replace(first, pos_label=pos_label)
    pos = first.pos_label
    before = summarize_rows(first)
    report: list[dict[str, Any]] = []
    current = data
    for i, step in enumerate(config.steps, start=1):
        n_before = _rows(current, cols).n
        entry: dict[str, Any] = {"step": i, **step.model_dump()}
        if isinstance(step, ReweighStep):
            rw = Reweighing(smoothing=step.smoothing)
            if is_dataset(current):
                current = rw.fit_transform(current)
            else:
                current = rw.fit_transform(
                    current, cols.label, sensitive_features=cols.sensitive,
                    sample_weight=cols.weight,
                )
            if not is_dataset(current) and cols.weight is None:
                cols.weight = WEIGHT_COLUMN
            entry["cells"] = rw.cells_.to_dict(orient="records")
        elif isinstance(step, ResampleStep):
            rs = Resampler(target=step.target_value(), mode=step.mode, seed=step.seed)
            if is_dataset(current):
                current = rs.fit_resample(current)
            else:
                current = rs.fit_resample(current, cols.label, sensitive_features=cols.sensitive)
            entry.update(rs.report_.to_dict())
        elif isinstance(step, AugmentStep):
            aug = CounterfactualAugmenter(
                attribute=step.attribute, mode=step.mode, p=step.p, terms=step.terms,
                swap_sensitive=step.swap_value(), seed=step.seed,
            )
            if is_dataset(current):
                current = aug.fit_resample(current)
            else:
                if cols.text is None:
                    raise InvalidDataError(
                        "augmentation needs the texts: pass text= (CLI: --text) naming the text column"
                    )
                current = aug.fit_resample(
                    current, cols.label, sensitive_features=cols.sensitive, text=cols.text
                )
            entry.update(n_changed=aug.n_changed_, n_added=aug.n_added_)
        rows_after = _rows(current, cols)
        entry.update(rows_before=n_before, rows_after=rows_after.n)
        report.append(entry)
    last = dataclasses.replace(_rows(current, cols), pos_label=pos)
    after = summarize_rows(last)
    from fairslm._version import __version__

    provenance = {
        "fairslm_version": __version__,
        "input_hash": _content_hash(data),
        "seeds": [getattr(s, "seed", None) for s in config.steps],
        "rows_before": before.rows,
        "rows_after": after.rows,
        "weights_finite": bool(last.weights is None or np.isfinite(last.weights).all()),
    }
    return DebiasResult(
        dataset=current,
        before=before,
        after=after,
        report=tuple(report),
        config=config,
        provenance=provenance,
    )

