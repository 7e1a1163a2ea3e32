"""Mitigation: preprocessing of the data, in-processing during training, postprocessing."""

from fairslm.mitigation.preprocessing import (
    CounterfactualAugmenter,
    DebiasConfig,
    DebiasResult,
    Resampler,
    Reweighing,
    debias,
)

__all__ = [
    "CounterfactualAugmenter",
    "DebiasConfig",
    "DebiasResult",
    "Resampler",
    "Reweighing",
    "debias",
]
