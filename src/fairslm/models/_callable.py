"""Any Python function ``texts -> probabilities`` as a :class:`ModelAdapter`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.models._base import ModelAdapter
from fairslm.models._cache import ScoreCache

__all__ = ["CallableAdapter"]


class CallableAdapter(ModelAdapter):
    """Wrap ``fn(list[str]) -> array`` of class probabilities.

    Parameters
    ----------
    fn : callable
        Takes a list of texts, returns an array ``(n, n_classes)`` of probabilities in the order
        of ``classes``; for two classes a 1-d array of the second class's probability is
        accepted too.
    classes : sequence
        The class labels, in column order.
    fingerprint : str, optional
        A version string for the function (e.g. a model hash). Without one, scores are cached
        for this adapter object only, never on disk, since fairslm cannot tell when the
        function's behaviour changes.
    batch_size : int, optional
        Call ``fn`` on at most this many texts at a time.

    Examples
    --------
    >>> m = CallableAdapter(lambda ts: [[0.9, 0.1] if "nurse" in t else [0.2, 0.8] for t in ts],
    ...                     classes=["nurse", "surgeon"])
    >>> m.predict(["a nurse", "a surgeon"]).tolist()
    ['nurse', 'surgeon']
    """

    kind = "callable"

    def __init__(
        self,
        fn: Callable[[list[str]], Any],
        *,
        classes: Sequence[Any] | None = None,
        fingerprint: str | None = None,
        batch_size: int | None = None,
        cache: bool | ScoreCache = True,
        cache_dir: str | Path | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not callable(fn):
            raise ConfigError(
                f"expected a callable texts -> probabilities, got {type(fn).__name__}"
            )
        if classes is None:
            raise ConfigError(
                "a callable model needs classes=[...], the labels of its probability columns "
                "in order (e.g. classes=[0, 1])"
            )
        if cache_dir is not None and fingerprint is None:
            raise ConfigError(
                "an on-disk score cache for a callable needs fingerprint='...' (a version of "
                "the function), otherwise a changed function would get stale scores"
            )
        if batch_size is not None and batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size}")
        super().__init__(classes, metadata=metadata, cache=cache, cache_dir=cache_dir)
        self.fn = fn
        self.batch_size = batch_size
        self._user_fingerprint = fingerprint

    def _fingerprint(self) -> str:
        if self._user_fingerprint is not None:
            return self._user_fingerprint
        # Unique to this adapter object in this process: the in-memory cache only.
        name = getattr(self.fn, "__qualname__", type(self.fn).__name__)
        return hashlib.sha256(f"{name}@{id(self)}".encode()).hexdigest()

    def _score(self, texts: list[str]) -> np.ndarray:
        step = self.batch_size or len(texts)
        parts = []
        for start in range(0, len(texts), step):
            chunk = texts[start : start + step]
            out = np.asarray(self.fn(chunk), dtype=np.float64)
            if out.ndim == 1 and self.n_classes == 2 and out.shape[0] == len(chunk):
                out = np.column_stack([1.0 - out, out])
            if out.ndim != 2 or out.shape != (len(chunk), self.n_classes):
                raise InvalidDataError(
                    f"the callable returned an array of shape {out.shape} for {len(chunk)} "
                    f"texts; expected ({len(chunk)}, {self.n_classes}), one column per class of "
                    f"{self.classes_!r}. Check classes= against the function's output"
                )
            if not np.all(np.isfinite(out)) or out.min() < 0 or out.max() > 1:
                raise InvalidDataError(
                    "the callable returned values outside [0, 1] or not finite; return "
                    "probabilities (apply a softmax to logits first)"
                )
            parts.append(out)
        return np.concatenate(parts, axis=0)
