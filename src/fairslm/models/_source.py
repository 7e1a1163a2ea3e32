"""Find a model on disk and check that loading it is safe.

Weights load from safetensors only, unless the caller passes ``allow_pickle=True``: a
``pytorch_model.bin`` or ``.pt`` file is a Python pickle, and unpickling runs whatever code the
file's author put in it. Hub IDs resolve to the local Hugging Face cache; nothing is downloaded
unless ``allow_download=True``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fairslm.exceptions import ModelLoadError, UnsafeModelError

__all__ = [
    "PICKLE_SUFFIXES",
    "check_remote_code",
    "check_weights",
    "files_digest",
    "looks_like_hub_id",
    "quiet_transformers",
    "read_config",
    "resolve_local",
]

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
# Files that decide how a transformers model tokenizes and scores; all go into its fingerprint.
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
    "added_tokens.json",
    "spiece.model",
    "sentencepiece.bpe.model",
)


def looks_like_hub_id(source: str) -> bool:
    """True for ``name`` or ``org/name`` strings that could be Hugging Face Hub repositories."""
    return bool(_HUB_ID.match(source)) and not source.startswith((".", "~"))


def resolve_local(
    source: str | os.PathLike[str], *, allow_download: bool, allow_pickle: bool
) -> Path:
    """A local path for ``source``: itself when it exists, else the cached Hub snapshot."""
    path = Path(source).expanduser()
    if path.exists():
        return path
    text = str(source)
    if not looks_like_hub_id(text):
        raise ModelLoadError(
            f"model path {text!r} does not exist; pass a directory saved with save_pretrained, "
            "a .skops file or a predictions file"
        )
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    # Only the files a safe load needs; pickled weights are fetched only when allowed.
    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "*.skops", "1_Pooling/*"]
    if allow_pickle:
        patterns += [f"*{s}" for s in PICKLE_SUFFIXES]
    try:
        local = snapshot_download(
            text, local_files_only=not allow_download, allow_patterns=patterns
        )
    except (LocalEntryNotFoundError, HFValidationError, OSError, ValueError) as exc:
        if not allow_download:
            raise ModelLoadError(
                f"{text!r} is not a local path and is not in the local Hugging Face cache, and "
                "downloading is off. Pass a local directory holding the model (saved with "
                "save_pretrained), or pass allow_download=True to fetch it from the Hub"
            ) from exc
        raise ModelLoadError(
            f"could not download {text!r} from the Hugging Face Hub: {exc}"
        ) from exc
    return Path(local)


def read_config(model_dir: Path) -> dict[str, Any]:
    """The model's ``config.json`` as a dict."""
    path = model_dir / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"cannot read {path}: {exc}; re-save the model with save_pretrained"
        ) from exc
    if not isinstance(data, dict):
        raise ModelLoadError(
            f"{path} must hold a JSON object; re-save the model with save_pretrained"
        )
    return data


def check_remote_code(model_dir: Path, config: dict[str, Any], trust_remote_code: bool) -> None:
    """Refuse a model whose config asks to run its own Python code, unless trusted."""
    if config.get("auto_map") and not trust_remote_code:
        raise UnsafeModelError(
            f"the model in {model_dir} ships its own Python code (config.json has 'auto_map'), "
            "which would run on load. Review that code, then pass trust_remote_code=True to load it"
        )


def check_weights(model_dir: Path, *, allow_pickle: bool) -> str:
    """Which weight format loads: ``"safetensors"`` (each file validated) or ``"pickle"``."""
    safetensors = sorted(model_dir.glob("*.safetensors"))
    pickles = sorted(p for p in model_dir.iterdir() if p.suffix in PICKLE_SUFFIXES and p.is_file())
    if safetensors:
        from safetensors import safe_open

        for f in safetensors:
            try:
                with safe_open(str(f), framework="pt") as handle:
                    keys = list(handle.keys())
                    if keys:  # reading one tensor checks the data offsets, not just the header
                        handle.get_slice(keys[0])
            except Exception as exc:  # noqa: BLE001 - safetensors raises several types
                raise ModelLoadError(
                    f"{f} is not a valid safetensors file ({type(exc).__name__}: {exc}); the "
                    "file is corrupt or truncated. Re-save the model with save_pretrained or "
                    "copy the file again"
                ) from exc
        return "safetensors"
    if pickles:
        if not allow_pickle:
            names = ", ".join(p.name for p in pickles)
            raise UnsafeModelError(
                f"{model_dir} holds weights only as pickle files ({names}); loading a pickle "
                "can run arbitrary code. Convert them to safetensors (load once in a sandbox, "
                "then save_pretrained(..., safe_serialization=True)), or pass allow_pickle=True "
                "if you trust the file's source"
            )
        return "pickle"
    found = ", ".join(sorted(p.name for p in model_dir.iterdir())) or "nothing"
    raise ModelLoadError(
        f"no model weights in {model_dir}: expected model.safetensors (or sharded "
        f"*.safetensors files) next to config.json; found: {found}"
    )


_DIGESTS: dict[tuple[str, int, int], str] = {}


def _file_digest(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def files_digest(model_dir: Path, names: list[str]) -> str:
    """SHA-256 over the named files of ``model_dir`` that exist (names and contents)."""
    h = hashlib.sha256()
    for name in sorted(names):
        p = model_dir / name
        if p.is_file():
            h.update(f"{name}\0{_file_digest(p)}\n".encode())
    return h.hexdigest()


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load reports and progress bars while fairslm loads a model."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()
