"""The one interface every model is audited through: :class:`ModelAdapter`."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fairslm.exceptions import InvalidDataError, ModelLoadError
from fairslm.models._cache import ScoreCache
from fairslm.models._texts import check_texts, text_hash

__all__ = ["METADATA_FILE", "ModelAdapter", "read_metadata", "resolve_cache"]

# Optional file in a model directory with fairslm's own settings for the model (prompt
# template, label words, group thresholds written by post-processing, ...).
METADATA_FILE = "fairslm.json"


def read_metadata(model_dir: Path) -> dict[str, Any]:
    """The contents of ``model_dir/fairslm.json``, or ``{}`` when there is none."""
    path = Path(model_dir) / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"{path} is not valid JSON ({exc}); fix or delete it (it holds fairslm's settings "
            "for this model and is optional)"
        ) from exc
    if not isinstance(data, dict):
        raise ModelLoadError(
            f"{path} must hold a JSON object, found {type(data).__name__}; fix or delete it"
        )
    return data


def resolve_cache(cache: bool | ScoreCache, cache_dir: str | Path | None) -> ScoreCache | None:
    """The cache an adapter uses: none, a fresh one, or the one given."""
    if isinstance(cache, ScoreCache):
        return cache
    if cache or cache_dir is not None:
        return ScoreCache(cache_dir)
    return None


class ModelAdapter:
    """A text classifier seen through one small interface.

    Subclasses implement ``_score(texts) -> array (n, n_classes)`` and ``_fingerprint()``; this
    base class validates inputs, serves repeated texts from the score cache and keeps a record
    of the last run in ``last_run_``.

    Attributes
    ----------
    classes_ : list
        Class labels, in the column order of :meth:`predict_proba`.
    metadata : dict
        Contents of the model's optional ``fairslm.json`` (empty when there is none).
    last_run_ : dict
        ``n_texts``, ``n_scored`` (texts the model ran on), ``n_cached`` (served from the
        cache), ``n_truncated`` and ``seconds`` of the last :meth:`predict_proba` call.
    """

    kind: str = "adapter"
    # False for adapters around objects that can change under them (an in-memory model being
    # fine-tuned): their fingerprint is recomputed on every call.
    static_fingerprint: bool = True
    classes_: list[Any]
    metadata: dict[str, Any]
    cache: ScoreCache | None

    def __init__(
        self,
        classes: Iterable[Any],
        *,
        metadata: Mapping[str, Any] | None = None,
        cache: bool | ScoreCache = True,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.classes_ = list(classes)
        if len(self.classes_) < 2:
            raise InvalidDataError(f"a classifier needs at least 2 classes, got {self.classes_!r}")
        if len(set(map(repr, self.classes_))) != len(self.classes_):
            raise InvalidDataError(f"class labels must be distinct, got {self.classes_!r}")
        self.metadata = dict(metadata or {})
        self.cache = resolve_cache(cache, cache_dir)
        self.last_run_: dict[str, Any] = {}
        self._fingerprint_value: str | None = None
        self._n_truncated = 0

    # -- to implement -------------------------------------------------------------------------
    def _score(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fingerprint(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- public API ---------------------------------------------------------------------------
    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.classes_)

    def fingerprint(self) -> str:
        """A stable SHA-256 of everything that decides the scores (weights, config, tokenizer,
        prompt template, label words, max length); equal fingerprints mean equal scores."""
        if self._fingerprint_value is None or not self.static_fingerprint:
            self._fingerprint_value = hashlib.sha256(
                f"{self.kind}\n{self._fingerprint()}\n{self.classes_!r}".encode()
            ).hexdigest()
        return self._fingerprint_value

    def predict_proba(self, texts: Iterable[object]) -> np.ndarray:
        """Class probabilities, one row per text, columns in the order of ``classes_``."""
        start = time.perf_counter()
        items = check_texts(texts)
        n = len(items)
        out = np.empty((n, self.n_classes), dtype=np.float64)
        self._n_truncated = 0
        if n == 0:
            self.last_run_ = {
                "n_texts": 0,
                "n_scored": 0,
                "n_cached": 0,
                "n_truncated": 0,
                "seconds": 0.0,
            }
            return out
        hashes = [text_hash(t) for t in items]
        fp = self.fingerprint() if self.cache is not None else ""
        found = self.cache.get(fp, hashes) if self.cache is not None else {}
        # Score each distinct uncached text once, however often it repeats.
        todo: dict[str, str] = {}
        for h, t in zip(hashes, items, strict=True):
            if h not in found and h not in todo:
                todo[h] = t
        if todo:
            scored = np.asarray(self._score(list(todo.values())), dtype=np.float64)
            self._check_scores(scored, len(todo))
            new = dict(zip(todo, scored, strict=True))
            if self.cache is not None:
                self.cache.put(fp, list(todo), scored)
            found = {**found, **new}
        for i, h in enumerate(hashes):
            out[i] = found[h]
        self.last_run_ = {
            "n_texts": n,
            "n_scored": len(todo),
            "n_cached": n - sum(1 for h in hashes if h in todo),
            "n_truncated": self._n_truncated,
            "seconds": time.perf_counter() - start,
        }
        return out

    def predict(self, texts: Iterable[object]) -> np.ndarray:
        """The most probable class label of each text (first class on exact ties)."""
        proba = self.predict_proba(texts)
        return np.asarray([self.classes_[j] for j in np.argmax(proba, axis=1)])

    def check_labels(self, y: Iterable[Any]) -> None:
        """Raise :class:`InvalidDataError` unless every label in ``y`` is one of ``classes_``.

        Examples
        --------
        >>> from fairslm.models import CallableAdapter
        >>> m = CallableAdapter(lambda t: [[0.5, 0.5]] * len(t), classes=[0, 1])
        >>> m.check_labels([0, 1, 1])
        """
        values = sorted({v.item() if hasattr(v, "item") else v for v in y}, key=repr)
        known = {repr(c) for c in self.classes_}
        extra = [v for v in values if repr(v) not in known]
        if extra:
            raise InvalidDataError(
                f"the model predicts {self.n_classes} classes {self.classes_!r} but the data's "
                f"labels take {len(values)} values {values!r}; {extra!r} "
                f"{'is' if len(extra) == 1 else 'are'} not a class of the model. Map the labels "
                "onto the model's classes, or load a model trained on these labels"
            )

    def _check_scores(self, scored: np.ndarray, n: int) -> None:
        if scored.shape != (n, self.n_classes):
            raise InvalidDataError(
                f"the model returned scores of shape {scored.shape} for {n} texts, expected "
                f"({n}, {self.n_classes}), one column per class of {self.classes_!r}; check "
                "the classes passed to the adapter"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, classes={self.classes_!r})"
