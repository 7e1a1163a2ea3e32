"""fairslm: audit, debias and fairness-constrained fine-tuning of small language models.

The top-level namespace holds the public API; heavy dependencies (torch, transformers,
matplotlib, duckdb, pyspark) are imported only by the functions that need them.
"""

from typing import TYPE_CHECKING

from fairslm._lazy import lazy_exports
from fairslm.exceptions import (
    ConfigError,
    FairslmError,
    InvalidDataError,
    MissingDependencyError,
    ModelLoadError,
    UnsafeModelError,
)

if TYPE_CHECKING:
    from fairslm._version import __version__
    from fairslm.audit import (
        AuditResult,
        ScoreAuditResult,
        audit_file,
        audit_predictions,
        audit_scores,
        audit_spark,
    )
    from fairslm.data import Dataset, DatasetSpec, load_dataset
    from fairslm.mitigation.comparison import ComparisonResult, compare
    from fairslm.models import ModelAdapter, load_model
    from fairslm.training import TrainResult, train

__all__ = [
    "AuditResult",
    "ComparisonResult",
    "ConfigError",
    "Dataset",
    "DatasetSpec",
    "FairslmError",
    "InvalidDataError",
    "MissingDependencyError",
    "ModelAdapter",
    "ModelLoadError",
    "ScoreAuditResult",
    "TrainResult",
    "UnsafeModelError",
    "__version__",
    "audit_file",
    "audit_predictions",
    "audit_scores",
    "audit_spark",
    "compare",
    "load_dataset",
    "load_model",
    "train",
]

# Each name is imported from its module on first use, so that importing the package (as
# every command of the CLI does) costs only what is used.
__getattr__, __dir__ = lazy_exports(__name__, {
    "fairslm._version": ("__version__",),
    "fairslm.audit": (
        "AuditResult", "ScoreAuditResult", "audit_file", "audit_predictions", "audit_scores",
        "audit_spark",
    ),
    "fairslm.data": ("Dataset", "DatasetSpec", "load_dataset"),
    "fairslm.mitigation.comparison": ("ComparisonResult", "compare"),
    "fairslm.models": ("ModelAdapter", "load_model"),
    "fairslm.training": ("TrainResult", "train"),
})
