"""``load_model``: one entry point that finds the right adapter for a model."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from fairslm.exceptions import ConfigError, ModelLoadError
from fairslm.models._base import ModelAdapter, read_metadata
from fairslm.models._blend import BLEND_KIND, BlendAdapter, blend_components
from fairslm.models._callable import CallableAdapter
from fairslm.models._hf_causal import HFCausalLMAdapter
from fairslm.models._hf_classifier import HFClassifierAdapter
from fairslm.models._predictions import PREDICTION_SUFFIXES, PredictionsFileAdapter
from fairslm.models._sklearn import SklearnAdapter
from fairslm.models._source import read_config, resolve_local

__all__ = ["KINDS", "load_model"]

# The blend folders being loaded by this thread, outermost first (loop detection).
_BLEND_STACK = threading.local()

KINDS = ("hf-classifier", "hf-causal-lm", "sklearn", "callable", "predictions", BLEND_KIND)

_CACHE = ("cache", "cache_dir", "metadata")
_TORCH = ("batch_size", "max_batch_tokens", "max_length", "num_threads", "show_progress", "device")
# The keyword arguments each kind of adapter takes; anything else is a mistake to report.
OPTIONS: dict[str, tuple[str, ...]] = {
    "hf-classifier": (*_TORCH, *_CACHE),
    "hf-causal-lm": (*_TORCH, *_CACHE, "template", "label_words"),
    "sklearn": (*_CACHE, "trusted"),
    "callable": (*_CACHE, "classes", "fingerprint", "batch_size"),
    "predictions": ("text_column", "proba_columns", "prediction_column", "classes", "metadata"),
    # Passed on to each component, as far as its kind takes them.
    BLEND_KIND: (*_TORCH, *_CACHE),
}


def _detect_dir(model_dir: Path) -> str:
    meta = read_metadata(model_dir)
    if "kind" in meta:
        return str(meta["kind"])
    if sorted(model_dir.glob("*.skops")):
        return "sklearn"
    if (model_dir / "config.json").is_file():
        archs = read_config(model_dir).get("architectures") or []
        if any(a.endswith("ForCausalLM") for a in archs):
            return "hf-causal-lm"
        return "hf-classifier"  # headless encoders are refused there with a clear message
    found = ", ".join(sorted(p.name for p in model_dir.iterdir())) or "nothing"
    raise ModelLoadError(
        f"no model found in {model_dir}: expected config.json + model.safetensors (a "
        f"transformers model saved with save_pretrained), a .skops file (scikit-learn) or a "
        f"fairslm.json naming the kind; found: {found}"
    )


def _detect(source: Any, path: Path | None) -> str:
    if path is None:
        if hasattr(source, "predict_proba") and hasattr(source, "classes_"):
            return "sklearn"
        if callable(source):
            return "callable"
        raise ConfigError(
            f"cannot load a model from a {type(source).__name__}; pass a path, a hub ID, a "
            "fitted scikit-learn pipeline or a function texts -> probabilities"
        )
    if path.is_dir():
        return _detect_dir(path)
    if path.suffix == ".skops":
        return "sklearn"
    if path.suffix in PREDICTION_SUFFIXES:
        return "predictions"
    raise ModelLoadError(
        f"cannot tell what kind of model {path} is; expected a model directory, a .skops file "
        f"or a predictions file ({', '.join(PREDICTION_SUFFIXES)}). Pass kind= to say"
    )


def load_model(
    source: Any,
    *,
    kind: str | None = None,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    allow_download: bool = False,
    **kw: Any,
) -> ModelAdapter:
    """Load a model as a :class:`ModelAdapter`.

    Parameters
    ----------
    source
        A directory saved with ``save_pretrained`` (transformers), a ``.skops`` file or a
        directory holding one (scikit-learn), a CSV/Parquet/JSONL file of predictions, a
        Hugging Face Hub ID (resolved in the local cache; downloaded only with
        ``allow_download=True``), a fitted scikit-learn pipeline, or a callable
        ``texts -> probabilities``.
    kind : {"hf-classifier", "hf-causal-lm", "sklearn", "callable", "predictions", "blend"}, optional
        Detected when omitted: from ``fairslm.json``'s ``"kind"``, the files present and the
        architecture in ``config.json``. A ``"blend"`` folder (``fairslm.models.save_blend``)
        averages the scores of the model folders it names.
    allow_pickle : bool, default False
        Load ``.bin``/``.pt`` pickled weights when no safetensors exist. Unpickling runs code
        from the file: only for files you trust.
    trust_remote_code : bool, default False
        Run Python code shipped with a model (``auto_map`` in its config).
    allow_download : bool, default False
        Fetch a Hub ID that is not in the local cache.
    **kw
        Passed to the adapter: ``batch_size``, ``max_length``, ``num_threads``,
        ``show_progress``, ``cache``, ``cache_dir``, ``device``; ``template`` and
        ``label_words`` for causal LMs; ``classes`` for callables; ``text_column``,
        ``proba_columns``, ``prediction_column`` for predictions files; ``trusted`` for skops.

    Examples
    --------
    >>> import fairslm
    >>> m = fairslm.load_model(lambda ts: [[0.3, 0.7]] * len(ts), classes=[0, 1])
    >>> m.predict_proba(["a bio"]).tolist()
    [[0.3, 0.7]]
    """
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"unknown model kind {kind!r}; expected one of {', '.join(KINDS)}")
    path: Path | None = None
    if isinstance(source, str | os.PathLike):
        path = resolve_local(source, allow_download=allow_download, allow_pickle=allow_pickle)
    kind = kind or _detect(source, path)
    if kind not in KINDS:
        raise ConfigError(
            f"fairslm.json gives the unknown model kind {kind!r}; expected one of {', '.join(KINDS)}"
        )
    unknown = sorted(set(kw) - set(OPTIONS[kind]))
    if unknown:
        raise ConfigError(
            f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"for a model of kind {kind!r}; its options are: {', '.join(sorted(OPTIONS[kind]))}"
        )
    if kind == BLEND_KIND:
        if path is None or not path.is_dir():
            raise ConfigError("kind='blend' needs a blend folder (written by fairslm.models.save_blend)")
        metadata = kw.pop("metadata", None)
        parts = blend_components(path, read_metadata(path))
        # A blend may name blends (an ensemble blended with a baseline); one that leads back to
        # itself would never finish loading.
        here = path.resolve()
        loading: list[Path] = _BLEND_STACK.__dict__.setdefault("paths", [])
        if here in loading:
            chain = " -> ".join(map(str, [*loading[loading.index(here):], here]))
            raise ModelLoadError(f"blend folders name each other in a loop ({chain}); "
                                 "save the blends again so that none names itself, directly or through another")
        loading.append(here)
        try:
            models = []
            for p, _ in parts:
                sub = _detect(str(p), p)
                models.append(load_model(p, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code,
                                         **{k: v for k, v in kw.items() if k in OPTIONS[sub]}))
        finally:
            loading.pop()
        return BlendAdapter(models, [w for _, w in parts],
                            metadata=read_metadata(path) if metadata is None else metadata)
    if kind == "callable":
        if path is not None or not callable(source):
            raise ConfigError("kind='callable' needs a function texts -> probabilities as source")
        return CallableAdapter(source, **kw)
    if kind == "sklearn":
        if path is None:
            return SklearnAdapter(source, **kw)
        if path.is_dir():
            files = sorted(path.glob("*.skops"))
            if len(files) != 1:
                raise ModelLoadError(
                    f"expected exactly one .skops file in {path}, found {len(files)}; pass the file"
                )
            kw.setdefault("metadata", read_metadata(path))
            path = files[0]
        return SklearnAdapter.from_file(path, **kw)
    if path is None:
        raise ConfigError(
            f"kind={kind!r} needs a path or hub ID as source, got {type(source).__name__}"
        )
    if kind == "predictions":
        return PredictionsFileAdapter(path, **kw)
    if not path.is_dir():
        raise ModelLoadError(
            f"{path} is a file; a transformers model is a directory holding config.json and "
            "model.safetensors. Pass the directory"
        )
    cls = HFCausalLMAdapter if kind == "hf-causal-lm" else HFClassifierAdapter
    return cls.from_pretrained(
        path, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code, **kw
    )
