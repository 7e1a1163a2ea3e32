"""The end-to-end pipeline (``fairslm run``) and the demo (``fairslm demo``).

It sits at the level of the command-line's callees: it orchestrates data, audit, mitigation,
training and reporting.
"""

from fairslm.pipeline._config import STEPS, PipelineConfig, load_pipeline_config
from fairslm.pipeline._demo import demo_config, run_demo
from fairslm.pipeline._run import PipelineResult, StepRecord, run_pipeline

__all__ = [
    "STEPS",
    "PipelineConfig",
    "PipelineResult",
    "StepRecord",
    "demo_config",
    "load_pipeline_config",
    "run_demo",
    "run_pipeline",
]
