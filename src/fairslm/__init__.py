"""fairslm: audit, debias and fairness-constrained fine-tuning of small language models.

The top-level namespace holds the public API; heavy dependencies (torch, transformers,
matplotlib, duckdb) are imported only by the functions that need them.
"""

from fairslm._version import __version__
from fairslm.audit import AuditResult, audit_predictions
from fairslm.exceptions import (
    ConfigError,
    FairslmError,
    InvalidDataError,
    MissingDependencyError,
    ModelLoadError,
    UnsafeModelError,
)
from fairslm.mitigation.selection import ComparisonResult, compare

__all__ = [
    "AuditResult",
    "ComparisonResult",
    "ConfigError",
    "FairslmError",
    "InvalidDataError",
    "MissingDependencyError",
    "ModelLoadError",
    "UnsafeModelError",
    "__version__",
    "audit_predictions",
    "compare",
]
