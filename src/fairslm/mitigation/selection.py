"""Deprecated name of :mod:`fairslm.mitigation.comparison`; removed in the next release.

"Selection" is kept for the selection rate and for choosing the most accurate model or
checkpoint that meets a fairness target; the package that compares models is named for that.
"""

from __future__ import annotations

import warnings
from typing import Any

_RENAMED = {"Selection": "ModelSelection"}


def __getattr__(name: str) -> Any:
    from fairslm.mitigation import comparison

    new = _RENAMED.get(name, name)
    if new not in comparison.__all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"fairslm.mitigation.selection is deprecated and will be removed in the next release; "
        f"use fairslm.mitigation.comparison.{new}",
        DeprecationWarning, stacklevel=2,
    )
    return getattr(comparison, new)
