"""The end-to-end pipeline (``fairslm run``) and the demo (``fairslm demo``).

It sits at the level of the command-line's callees: it orchestrates data, audit, mitigation,
training and reporting.
"""

from fairslm.pipeline._compliance import ComplianceRun, run_compliance
from fairslm.pipeline._config import STEPS, PipelineConfig, load_pipeline_config
from fairslm.pipeline._demo import demo_config, run_demo
from fairslm.pipeline._model_audit import ModelAudit, audit_model, audit_model_file
from fairslm.pipeline._run import PipelineResult, StepRecord, run_pipeline

__all__ = [
    "STEPS",
    "ComplianceRun",
    "ModelAudit",
    "PipelineConfig",
    "PipelineResult",
    "StepRecord",
    "audit_model",
    "audit_model_file",
    "demo_config",
    "load_pipeline_config",
    "run_compliance",
    "run_demo",
    "run_pipeline",
]
