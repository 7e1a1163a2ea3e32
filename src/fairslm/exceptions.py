"""The fairslm error hierarchy.

Every error a user can cause is a :class:`FairslmError` and also subclasses the builtin a caller
would naturally catch, so ``except ValueError`` keeps working. Messages say what was expected,
what was found and what to do.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "FairslmError",
    "InvalidDataError",
    "MissingDependencyError",
    "ModelLoadError",
    "OutputPathError",
    "UnsafeModelError",
]


class FairslmError(Exception):
    """Base class of every error fairslm raises on purpose."""


class InvalidDataError(FairslmError, ValueError):
    """Input data (arrays, columns, files) is missing, malformed or inconsistent."""


class ConfigError(FairslmError, ValueError):
    """A configuration file, option or keyword argument is invalid."""


class ModelLoadError(FairslmError, OSError):
    """A model could not be found or loaded."""


class UnsafeModelError(ModelLoadError):
    """Loading would execute untrusted code (pickled weights, remote code) without consent."""


class MissingDependencyError(FairslmError, ImportError):
    """An optional dependency needed for this feature is not installed."""


class OutputPathError(FairslmError, OSError):
    """An output cannot be written where asked: the path is a folder, or it is not writable."""
