"""Debias training data before fine-tuning: reweighing, resampling, counterfactual augmentation.

Every method is a scikit-learn style object (``fit`` with keyword-only ``sensitive_features``,
then ``transform`` or ``fit_resample``) that returns new data and never modifies its input;
:func:`debias` runs several in order from a config.
"""

from fairslm.mitigation.preprocessing._augmentation import CounterfactualAugmenter
from fairslm.mitigation.preprocessing._config import (
    AugmentStep,
    DebiasConfig,
    ResampleStep,
    ReweighStep,
    TargetShare,
    parse_config,
    steps_from_options,
)
from fairslm.mitigation.preprocessing._debias import DebiasResult, debias
from fairslm.mitigation.preprocessing._files import debias_file
from fairslm.mitigation.preprocessing._resampling import Resampler, ResampleReport
from fairslm.mitigation.preprocessing._reweighing import Reweighing
from fairslm.mitigation.preprocessing._spark import debias_spark
from fairslm.mitigation.preprocessing._summary import DataSummary, GroupSummary

__all__ = [
    "AugmentStep",
    "CounterfactualAugmenter",
    "DataSummary",
    "DebiasConfig",
    "DebiasResult",
    "GroupSummary",
    "ResampleReport",
    "ResampleStep",
    "Resampler",
    "ReweighStep",
    "Reweighing",
    "TargetShare",
    "debias",
    "debias_file",
    "debias_spark",
    "parse_config",
    "steps_from_options",
]
