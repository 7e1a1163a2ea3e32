"""Group thresholds saved with a model and applied by a wrapping adapter."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm._artifact import write_json_atomic
from fairslm.exceptions import ConfigError, InvalidDataError, ModelLoadError
from fairslm.mitigation.postprocessing._thresholds import GroupThresholdOptimizer, apply_thresholds

__all__ = ["METADATA_FILE", "ThresholdedModel", "load_group_thresholds", "save_group_thresholds"]

METADATA_FILE = "fairslm.json"
_KEY = "group_thresholds"


def save_group_thresholds(
    model_dir: str | os.PathLike[str],
    optimizer: GroupThresholdOptimizer,
    *,
    sensitive_column: str,
) -> Path:
    """Record fitted thresholds in ``<model_dir>/fairslm.json`` under ``"group_thresholds"``.

    Other keys of an existing ``fairslm.json`` are kept; the file is rewritten atomically.
    """
    if not hasattr(optimizer, "thresholds_"):
        raise ConfigError("the GroupThresholdOptimizer is not fitted; call fit before saving")
    root = Path(model_dir)
    if not root.is_dir():
        raise ModelLoadError(f"model directory {str(root)!r} does not exist; save the model first")
    meta_path = root / METADATA_FILE
    meta: dict[str, Any] = {}
    if meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta[_KEY] = {
        "sensitive_column": sensitive_column,
        "constraint": optimizer.constraint,
        "target": float(optimizer.target),
        "reference_group": optimizer.reference_group,
        "pos_label": optimizer.pos_label_,
        "classes": list(optimizer.classes_),
        "thresholds": dict(optimizer.thresholds_),
        "validation": optimizer.validation_,
    }
    return write_json_atomic(meta, meta_path)


def load_group_thresholds(model_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the ``"group_thresholds"`` entry of ``<model_dir>/fairslm.json``."""
    meta_path = Path(model_dir) / METADATA_FILE
    if not meta_path.exists():
        raise ModelLoadError(
            f"{str(meta_path)!r} not found: this model directory has no fairslm metadata. "
            "Fit a GroupThresholdOptimizer and call save_group_thresholds first"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if _KEY not in meta:
        raise ModelLoadError(
            f"{str(meta_path)!r} has no {_KEY!r} entry (keys: {', '.join(sorted(meta))}). "
            "Fit a GroupThresholdOptimizer and call save_group_thresholds first"
        )
    return dict(meta[_KEY])


def _positive_scores(proba: Any, classes: Any, pos_label: object) -> NDArray[np.float64]:
    arr = np.asarray(proba, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 2:
        # A model that names its columns (a ModelAdapter's classes_) is read by name.
        names = [str(c) for c in classes] if classes is not None else []
        if len(names) == 2 and str(pos_label) in names:
            return arr[:, names.index(str(pos_label))]
        return arr[:, 1]
    if arr.ndim == 2 and arr.shape[1] == 1:
        return arr[:, 0]
    if arr.ndim == 1:
        return arr
    raise InvalidDataError(
        f"the model's predict_proba returned shape {arr.shape}; group thresholds need binary "
        "scores, shape (n,) or (n, 2)"
    )


class ThresholdedModel:
    """A model whose decisions use one threshold per group of a sensitive feature.

    Parameters
    ----------
    model : object
        Anything with ``predict_proba(texts)`` returning scores of the positive class, shape
        ``(n,)``, or ``(n, 2)`` with columns named by ``model.classes_`` (a
        :class:`~fairslm.models.ModelAdapter`) or else column 1 the positive class.
    thresholds : mapping of str to float
        Group label -> threshold (``GroupThresholdOptimizer.thresholds_``).
    sensitive_column : str
        The sensitive feature the thresholds are for; when ``sensitive_features`` is a
        DataFrame or mapping, this column is used.
    pos_label, classes : optional
        Labels returned for selected and rejected rows (defaults 1 and 0).

    Examples
    --------
    >>> class Scores:
    ...     def predict_proba(self, texts):
    ...         return [0.7 if "surgeon" in t else 0.2 for t in texts]
    >>> m = ThresholdedModel(Scores(), {"F": 0.6, "M": 0.8}, "gender")
    >>> m.predict(["a surgeon", "a surgeon"], sensitive_features=["F", "M"]).tolist()
    [1, 0]
    """

    def __init__(
        self,
        model: Any,
        thresholds: Mapping[str, float],
        sensitive_column: str,
        *,
        pos_label: object = 1,
        classes: Sequence[object] | None = None,
    ) -> None:
        self.model = model
        self.thresholds = dict(thresholds)
        self.sensitive_column = sensitive_column
        self.pos_label = pos_label
        self.classes = None if classes is None else list(classes)

    @classmethod
    def from_dir(cls, model: Any, model_dir: str | os.PathLike[str]) -> ThresholdedModel:
        """Wrap ``model`` with the thresholds saved in ``model_dir``."""
        entry = load_group_thresholds(model_dir)
        return cls(
            model,
            entry["thresholds"],
            entry["sensitive_column"],
            pos_label=entry.get("pos_label", 1),
            classes=entry.get("classes"),
        )

    def _column(self, sensitive_features: Any) -> Any:
        if isinstance(sensitive_features, Mapping) or hasattr(sensitive_features, "columns"):
            cols = list(sensitive_features.keys()) if isinstance(sensitive_features, Mapping) else list(
                sensitive_features.columns
            )
            if self.sensitive_column not in cols:
                raise InvalidDataError(
                    f"sensitive feature {self.sensitive_column!r} not found; columns are: "
                    f"{', '.join(map(str, cols))}. The thresholds were fitted for "
                    f"{self.sensitive_column!r}"
                )
            return sensitive_features[self.sensitive_column]
        return sensitive_features

    def predict_proba(self, texts: Sequence[str]) -> Any:
        """The wrapped model's scores, unchanged."""
        return self.model.predict_proba(texts)

    def predict(self, texts: Sequence[str], *, sensitive_features: Any) -> NDArray[Any]:
        """Decisions with each row's group threshold."""
        scores = _positive_scores(
            self.model.predict_proba(texts), getattr(self.model, "classes_", None), self.pos_label
        )
        return apply_thresholds(
            self.thresholds,
            scores,
            sensitive_features={self.sensitive_column: self._column(sensitive_features)},
            pos_label=self.pos_label,
            classes=self.classes,
        )
