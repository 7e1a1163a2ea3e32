"""A score blend of models: one adapter whose probabilities are a weighted mean of others'.

Averaging the outputs of several models is the classic ensemble (Breiman, 1996, "Bagging
predictors"); with two models, a fair fine-tune and the baseline it came from, the weight
trades the fair model's smaller group gaps against the baseline's accuracy one-dimensionally
(:func:`fairslm.mitigation.postprocessing.choose_blend_weight` picks it on validation data).

A blend is saved as a folder holding only ``fairslm.json``::

    {"kind": "blend", "components": [{"model": "../train/model", "weight": 0.6},
                                     {"model": "../baseline/model", "weight": 0.4}]}

Relative paths are relative to the blend's folder, so a run folder can be moved whole.
:func:`fairslm.load_model` loads it like any other model folder.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fairslm._artifact import write_json_atomic
from fairslm.exceptions import ConfigError, InvalidDataError, ModelLoadError
from fairslm.models._base import METADATA_FILE, ModelAdapter
from fairslm.models._cache import ScoreCache

__all__ = ["BlendAdapter", "blend_components", "save_blend"]

BLEND_KIND = "blend"


def _check_weights(weights: Sequence[float]) -> list[float]:
    out = []
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w < 0:
            raise ConfigError(f"blend weights must be finite numbers >= 0, got {w!r}")
        out.append(float(w))
    if not out or sum(out) <= 0:
        raise ConfigError(f"a blend needs at least one positive weight, got {list(weights)!r}")
    return [w / sum(out) for w in out]


class BlendAdapter(ModelAdapter):
    """Probabilities ``sum_k w_k * p_k(text)`` of component models (weights scaled to sum to 1).

    Parameters
    ----------
    models : sequence of ModelAdapter
        The components; they must have the same classes in the same order.
    weights : sequence of float
        One weight >= 0 per component.

    Examples
    --------
    >>> from fairslm.models import CallableAdapter
    >>> fair = CallableAdapter(lambda t: [[0.6, 0.4]] * len(t), classes=[0, 1])
    >>> base = CallableAdapter(lambda t: [[0.2, 0.8]] * len(t), classes=[0, 1])
    >>> BlendAdapter([fair, base], [0.75, 0.25]).predict_proba(["a bio"]).round(2).tolist()
    [[0.5, 0.5]]
    """

    kind = BLEND_KIND

    def __init__(
        self,
        models: Sequence[ModelAdapter],
        weights: Sequence[float],
        *,
        metadata: Mapping[str, Any] | None = None,
        cache: bool | ScoreCache = False,
        cache_dir: str | Path | None = None,
    ) -> None:
        models = list(models)
        if not models or len(models) != len(weights):
            raise ConfigError(
                f"a blend needs one weight per model; got {len(models)} models and {len(weights)} weights"
            )
        self.weights = _check_weights(weights)
        first = models[0].classes_
        for m in models[1:]:
            if list(map(repr, m.classes_)) != list(map(repr, first)):
                raise InvalidDataError(
                    f"blended models must have the same classes in the same order; {first!r} "
                    f"and {m.classes_!r} differ. Blend models trained on the same labels"
                )
        self.models = models
        super().__init__(first, metadata=metadata, cache=cache, cache_dir=cache_dir)

    def _fingerprint(self) -> str:
        return json.dumps([[m.fingerprint(), w] for m, w in zip(self.models, self.weights, strict=True)])

    def _score(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.n_classes))
        for m, w in zip(self.models, self.weights, strict=True):
            out += w * m.predict_proba(texts)
            self._n_truncated = max(self._n_truncated, int(m.last_run_.get("n_truncated", 0)))
        return out


def save_blend(folder: str | os.PathLike[str], components: Mapping[str | os.PathLike[str], float]) -> Path:
    """Write a blend folder: ``fairslm.json`` naming each component model folder and its weight.

    Components with weight 0 are left out (they would be scored for nothing). A component
    path is stored relative to ``folder`` when possible. Returns the written file's path.
    """
    root = Path(folder)
    kept = {Path(p): w for p, w in components.items()}
    weights = _check_weights(list(kept.values()))
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} is a file; a blend is saved as a folder. Choose another path")
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for (path, _), w in zip(kept.items(), weights, strict=True):
        if w == 0:
            continue
        target = path.resolve()
        try:
            stored = os.path.relpath(target, root.resolve())
        except ValueError:  # another drive (Windows)
            stored = str(target)
        rows.append({"model": stored, "weight": round(w, 12)})
    return write_json_atomic({"kind": BLEND_KIND, "components": rows}, root / METADATA_FILE)


def blend_components(folder: Path, metadata: Mapping[str, Any]) -> list[tuple[Path, float]]:
    """The (model folder, weight) pairs a blend's ``fairslm.json`` names, checked."""
    where = folder / METADATA_FILE
    rows = metadata.get("components")
    expected = ('expected "components": [{"model": "<model folder>", "weight": <number>}, ...]')
    if not isinstance(rows, list) or not rows:
        raise ModelLoadError(f"{where} names the kind 'blend' but no components; {expected}")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("model"), str) or "weight" not in row:
            raise ModelLoadError(f"{where}: component {i} is {row!r}; {expected}")
        path = Path(row["model"]).expanduser()
        path = path if path.is_absolute() else folder / path
        if not path.exists():
            raise ModelLoadError(
                f"{where}: component {i} names {row['model']!r}, which does not exist at {path}; "
                "blend folders store paths relative to themselves: move the blend together with "
                "its component models, or save it again"
            )
        if path.resolve() == folder.resolve():
            raise ModelLoadError(f"{where}: component {i} is the blend itself")
        out.append((path, row["weight"]))
    try:
        _check_weights([w for _, w in out])
    except ConfigError as exc:
        raise ModelLoadError(f"{where}: {exc}") from None
    return out
