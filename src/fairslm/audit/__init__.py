"""Model audit, data audit and counterfactual tests, each returning a versioned result."""

from fairslm.audit._files import audit_file
from fairslm.audit._model_audit import audit_count_table, audit_predictions
from fairslm.audit._result import (
    AUDIT_SCHEMA_VERSION,
    AuditResult,
    CriterionResult,
    DisparityResult,
    GroupResult,
    GroupView,
    audit_json_schema,
)

__all__ = [
    "AUDIT_SCHEMA_VERSION",
    "AuditResult",
    "CriterionResult",
    "DisparityResult",
    "GroupResult",
    "GroupView",
    "audit_count_table",
    "audit_file",
    "audit_json_schema",
    "audit_predictions",
]
