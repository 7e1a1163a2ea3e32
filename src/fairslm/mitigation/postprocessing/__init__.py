"""Post-processing: group-specific decision thresholds chosen to meet a fairness target."""

from fairslm.mitigation.postprocessing._model import (
    ThresholdedModel,
    load_group_thresholds,
    save_group_thresholds,
)
from fairslm.mitigation.postprocessing._thresholds import (
    POSTPROCESSING_CONSTRAINTS,
    GroupThresholdOptimizer,
    apply_thresholds,
)

__all__ = [
    "POSTPROCESSING_CONSTRAINTS",
    "GroupThresholdOptimizer",
    "ThresholdedModel",
    "apply_thresholds",
    "load_group_thresholds",
    "save_group_thresholds",
]
