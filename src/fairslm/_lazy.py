"""Package namespaces whose names are imported from their modules on first use.

``import fairslm`` (and every ``fairslm`` command) would otherwise import pandas, scipy,
pydantic and every module of the package before doing anything. A package ``__init__`` lists
its public names under ``if TYPE_CHECKING:`` imports (for type checkers and readers) and
hands the same mapping to :func:`lazy_exports`, which supplies the module ``__getattr__``
(PEP 562) and ``__dir__``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, exporting ``{module: names}`` lazily.

    Examples
    --------
    >>> getattr_, dir_ = lazy_exports("fairslm", {"fairslm.exceptions": ("ConfigError",)})
    >>> getattr_("ConfigError").__name__
    'ConfigError'
    """
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__
