"""Model audit, data audit, counterfactual tests of decisions and of generated texts, each
returning a versioned result."""

from typing import TYPE_CHECKING

from fairslm._lazy import lazy_exports

if TYPE_CHECKING:
    from fairslm.audit._counterfactual import (
        counterfactual_file,
        counterfactual_test,
        mcnemar_exact,
    )
    from fairslm.audit._counterfactual_result import (
        COUNTERFACTUAL_SCHEMA_VERSION,
        CounterfactualResult,
        counterfactual_json_schema,
    )
    from fairslm.audit._counterfactual_spark import counterfactual_spark
    from fairslm.audit._data_audit import audit_data, audit_data_file
    from fairslm.audit._data_audit_result import (
        DATA_AUDIT_SCHEMA_VERSION,
        DataAuditResult,
        data_audit_json_schema,
    )
    from fairslm.audit._files import audit_file
    from fairslm.audit._generation import counterfactual_generation_test, generation_audit_file
    from fairslm.audit._generation_result import (
        GENERATION_SCHEMA_VERSION,
        GenerationAuditResult,
        generation_json_schema,
    )
    from fairslm.audit._predictions_audit import (
        audit_count_table,
        audit_predictions,
        count_table_sha256,
        resolve_pos_label,
    )
    from fairslm.audit._result import (
        AUDIT_SCHEMA_VERSION,
        AuditResult,
        CriterionResult,
        DisparityResult,
        GroupResult,
        GroupView,
        audit_json_schema,
    )
    from fairslm.audit._score_audit import DEFAULT_THRESHOLDS, audit_median_table, audit_scores
    from fairslm.audit._score_result import (
        SCORE_AUDIT_SCHEMA_VERSION,
        ScoreAuditResult,
        ScoreGroup,
        ScoreView,
    )
    from fairslm.audit._spark import audit_data_spark, audit_spark

__all__ = [
    "AUDIT_SCHEMA_VERSION",
    "AuditResult",
    "COUNTERFACTUAL_SCHEMA_VERSION",
    "CounterfactualResult",
    "CriterionResult",
    "DATA_AUDIT_SCHEMA_VERSION",
    "DEFAULT_THRESHOLDS",
    "DataAuditResult",
    "DisparityResult",
    "GENERATION_SCHEMA_VERSION",
    "GenerationAuditResult",
    "GroupResult",
    "GroupView",
    "SCORE_AUDIT_SCHEMA_VERSION",
    "ScoreAuditResult",
    "ScoreGroup",
    "ScoreView",
    "audit_count_table",
    "audit_data",
    "audit_data_spark",
    "audit_data_file",
    "audit_file",
    "audit_median_table",
    "audit_json_schema",
    "audit_predictions",
    "audit_scores",
    "audit_spark",
    "count_table_sha256",
    "counterfactual_file",
    "counterfactual_generation_test",
    "counterfactual_json_schema",
    "counterfactual_spark",
    "counterfactual_test",
    "data_audit_json_schema",
    "generation_audit_file",
    "generation_json_schema",
    "mcnemar_exact",
    "resolve_pos_label",
]

# Each name is imported from its module on first use, so that importing the package (as
# every command of the CLI does) costs only what is used.
__getattr__, __dir__ = lazy_exports(__name__, {
    "fairslm.audit._counterfactual": (
        "counterfactual_file", "counterfactual_test", "mcnemar_exact",
    ),
    "fairslm.audit._counterfactual_result": (
        "COUNTERFACTUAL_SCHEMA_VERSION", "CounterfactualResult", "counterfactual_json_schema",
    ),
    "fairslm.audit._counterfactual_spark": ("counterfactual_spark",),
    "fairslm.audit._data_audit": ("audit_data", "audit_data_file"),
    "fairslm.audit._data_audit_result": (
        "DATA_AUDIT_SCHEMA_VERSION", "DataAuditResult", "data_audit_json_schema",
    ),
    "fairslm.audit._files": ("audit_file",),
    "fairslm.audit._generation": ("counterfactual_generation_test", "generation_audit_file"),
    "fairslm.audit._generation_result": (
        "GENERATION_SCHEMA_VERSION", "GenerationAuditResult", "generation_json_schema",
    ),
    "fairslm.audit._predictions_audit": (
        "audit_count_table", "audit_predictions", "count_table_sha256", "resolve_pos_label",
    ),
    "fairslm.audit._result": (
        "AUDIT_SCHEMA_VERSION", "AuditResult", "CriterionResult", "DisparityResult", "GroupResult",
        "GroupView", "audit_json_schema",
    ),
    "fairslm.audit._score_audit": ("DEFAULT_THRESHOLDS", "audit_median_table", "audit_scores"),
    "fairslm.audit._score_result": (
        "SCORE_AUDIT_SCHEMA_VERSION", "ScoreAuditResult", "ScoreGroup", "ScoreView",
    ),
    "fairslm.audit._spark": ("audit_data_spark", "audit_spark"),
})
