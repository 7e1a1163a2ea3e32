"""Pieces shared by the transformers adapters: loading, labels, limits, fingerprints."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from fairslm.exceptions import ConfigError, ModelLoadError
from fairslm.models._source import (
    TOKENIZER_FILES,
    check_remote_code,
    check_weights,
    files_digest,
    quiet_transformers,
    read_config,
)

__all__ = [
    "classes_from_config",
    "load_pretrained",
    "model_max_length",
    "state_digest",
    "tokenizer_digest",
]

_DEFAULT_LABEL = re.compile(r"^LABEL_(\d+)$")


def load_pretrained(
    model_dir: Path,
    auto_class: str,
    *,
    allow_pickle: bool,
    trust_remote_code: bool,
    device: str | None,
    dtype: Any = None,
) -> tuple[Any, Any, dict[str, Any], dict[str, Any]]:
    """Load model and tokenizer from ``model_dir`` with the safety checks applied.

    Returns ``(model, tokenizer, config_dict, loading_info)``.
    """
    import transformers

    if not model_dir.is_dir():
        raise ModelLoadError(
            f"{model_dir} is not a directory; pass the directory saved with save_pretrained"
        )
    if not (model_dir / "config.json").is_file():
        found = ", ".join(sorted(p.name for p in model_dir.iterdir())) or "nothing"
        raise ModelLoadError(
            f"no model found in {model_dir}: expected config.json and model.safetensors as "
            f"written by save_pretrained; found: {found}"
        )
    _check_tokenizer_files(model_dir)
    config = read_config(model_dir)
    check_remote_code(model_dir, config, trust_remote_code)
    weights = check_weights(model_dir, allow_pickle=allow_pickle)
    kwargs: dict[str, Any] = {
        "use_safetensors": weights == "safetensors",
        "trust_remote_code": trust_remote_code,
        "local_files_only": True,
        "output_loading_info": True,
    }
    if dtype is not None:
        kwargs["dtype"] = dtype
    cls = getattr(transformers, auto_class)
    try:
        with quiet_transformers():
            model, info = cls.from_pretrained(str(model_dir), **kwargs)
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                str(model_dir), trust_remote_code=trust_remote_code, local_files_only=True
            )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelLoadError(
            f"transformers could not load the model in {model_dir} as {auto_class}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    model.eval()
    if device is not None:
        model.to(device)
    return model, tokenizer, config, info


# The vocabulary files tokenizers save (fast tokenizers, WordPiece, BPE, SentencePiece).
# Without one, transformers falls back to a tiny default vocabulary that reads every word as
# [UNK], so every text gets the same score: refuse instead of auditing nonsense.
VOCABULARY_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model",
                    "tokenizer.model", "sentencepiece.bpe.model", "source.spm")


def _check_tokenizer_files(model_dir: Path) -> None:
    if any((model_dir / name).is_file() for name in VOCABULARY_FILES):
        return
    found = ", ".join(sorted(p.name for p in model_dir.iterdir())) or "nothing"
    raise ModelLoadError(
        f"no tokenizer in {model_dir}: expected one of {', '.join(VOCABULARY_FILES)} (written by "
        f"tokenizer.save_pretrained); found: {found}. Save the tokenizer next to the model: "
        f"tokenizer.save_pretrained({str(model_dir)!r})"
    )


def classes_from_config(config: Any) -> list[Any]:
    """Class labels in logit order from ``config.id2label``.

    transformers names unlabelled classes ``LABEL_0``, ``LABEL_1``...; those become the integers
    0, 1, ... so they compare equal to 0/1 labels in the data.
    """
    id2label = {int(k): v for k, v in (config.id2label or {}).items()}
    n = int(config.num_labels)
    labels = [id2label.get(i, f"LABEL_{i}") for i in range(n)]
    matches = [_DEFAULT_LABEL.match(str(v)) for v in labels]
    if all(m is not None and int(m.group(1)) == i for i, m in enumerate(matches)):
        return list(range(n))
    return labels


def model_max_length(tokenizer: Any, config: Any, requested: int | None) -> int:
    """The token limit to truncate to: ``requested``, else the model's own limit."""
    limits = [
        v
        for v in (
            getattr(config, "max_position_embeddings", None),
            getattr(tokenizer, "model_max_length", None),
        )
        # transformers uses a huge sentinel (1e30) for "no limit known".
        if isinstance(v, int) and 0 < v < 1_000_000
    ]
    limit = min(limits) if limits else None
    if requested is None:
        if limit is None:
            raise ConfigError(
                "neither the model config nor the tokenizer states a maximum length; pass "
                "max_length= (in tokens)"
            )
        return limit
    if requested < 2:
        raise ConfigError(f"max_length must be at least 2 tokens, got {requested}")
    if limit is not None and requested > limit:
        raise ConfigError(
            f"max_length={requested} exceeds the model's limit of {limit} tokens; pass at most {limit}"
        )
    return int(requested)


def tokenizer_digest(model_dir: Path | None, tokenizer: Any) -> str:
    """Hash of the tokenizer files in ``model_dir``, or of the tokenizer's own state."""
    if model_dir is not None:
        return files_digest(model_dir, list(TOKENIZER_FILES))
    backend = getattr(tokenizer, "backend_tokenizer", None)
    text = backend.to_str() if backend is not None else repr(sorted(tokenizer.get_vocab().items()))
    return hashlib.sha256(text.encode()).hexdigest()


def state_digest(model: Any) -> str:
    """Hash of a model's config and every parameter and buffer (for in-memory models)."""
    import torch

    h = hashlib.sha256(model.config.to_json_string(use_diff=False).encode())
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        # A byte view works for every dtype (bfloat16 has no numpy equivalent).
        flat = tensor.detach().to("cpu").contiguous().reshape(-1)
        h.update(flat.view(torch.uint8).numpy().tobytes())
    return h.hexdigest()
