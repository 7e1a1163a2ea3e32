"""Texts in, probabilities out: a frozen encoder followed by a fitted head."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.mitigation.head_only._embeddings import DEFAULT_MAX_LENGTH, embed_texts

__all__ = ["EmbeddingPipeline"]


class EmbeddingPipeline:
    """Adapter that embeds texts with the frozen encoder and scores them with a head.

    Parameters
    ----------
    head : object
        A fitted head with ``predict_proba(X)`` and ``predict(X)`` on embeddings.
    model_path : path, optional
        The encoder; defaults to the packaged MiniLM.
    max_length : int, default 128
    cache_dir : path, optional
        Embedding cache shared with training.
    """

    def __init__(
        self,
        head: Any,
        *,
        model_path: str | os.PathLike[str] | None = None,
        max_length: int = DEFAULT_MAX_LENGTH,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.head = head
        self.model_path = model_path
        self.max_length = max_length
        self.cache_dir = cache_dir

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embeddings of ``texts`` (cached when ``cache_dir`` is set)."""
        return embed_texts(
            texts, model_path=self.model_path, max_length=self.max_length, cache_dir=self.cache_dir
        )

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Probabilities, shape (n, 2)."""
        return np.asarray(self.head.predict_proba(self.embed(texts)), dtype=np.float64)

    def predict(self, texts: Sequence[str]) -> NDArray[Any]:
        """The head's decisions."""
        return np.asarray(self.head.predict(self.embed(texts)))
