"""Sentence embeddings from the frozen encoder, computed once and cached.

Head-only training freezes the encoder, so every text needs encoding exactly once. The
encoding itself is :class:`fairslm.models.SentenceEncoder` (mean pooling over real tokens,
L2-normalised, as all-MiniLM-L6-v2 was trained); with ``cache_dir`` its score cache keeps each
text's embedding under the encoder's fingerprint, so later runs read instead of re-encoding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["DEFAULT_MAX_LENGTH", "embed_texts"]

# The fine-tuning default: head-only rows see the same truncated texts as fine-tuned ones, and
# biographies rarely exceed 128 word pieces.
DEFAULT_MAX_LENGTH = 128


def embed_texts(
    texts: Sequence[str],
    *,
    model_path: str | os.PathLike[str] | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
    batch_size: int = 64,
    cache_dir: str | os.PathLike[str] | None = None,
) -> NDArray[np.float32]:
    """Mean-pooled, L2-normalised sentence embeddings of ``texts``.

    Parameters
    ----------
    texts : sequence of str
    model_path : path, optional
        An encoder directory; defaults to the packaged all-MiniLM-L6-v2.
    max_length : int, default 128
        Word pieces kept per text.
    batch_size : int, default 64
    cache_dir : path, optional
        Where the encoder's cache keeps embeddings; None encodes without caching.

    Returns
    -------
    ndarray of shape (n_texts, hidden_size), float32
    """
    from fairslm.models import SentenceEncoder

    encoder = SentenceEncoder(
        model_path,
        batch_size=batch_size,
        max_length=max_length,
        cache=cache_dir is not None,
        cache_dir=cache_dir,
        show_progress=False,
    )
    return encoder.encode(texts)
