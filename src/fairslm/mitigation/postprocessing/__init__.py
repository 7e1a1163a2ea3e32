"""Post-processing: group-specific decision thresholds chosen to meet a fairness target, and
the weight of a score blend of a fair model with its baseline."""

from fairslm.mitigation.postprocessing._blend import BlendChoice, choose_blend_weight, class_gap_rms
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
    "BlendChoice",
    "GroupThresholdOptimizer",
    "ThresholdedModel",
    "apply_thresholds",
    "choose_blend_weight",
    "class_gap_rms",
    "load_group_thresholds",
    "save_group_thresholds",
]
