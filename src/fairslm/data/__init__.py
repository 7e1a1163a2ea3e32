"""Text data sets: readers, the column mapping, and counterfactual perturbation."""

from fairslm.data._dataset import Dataset, load_dataset
from fairslm.data._lexicon import Lexicon, builtin_lexicon, load_terms
from fairslm.data._perturb import CounterfactualPerturber, Edit, PerturbationResult
from fairslm.data._spec import DatasetSpec

__all__ = [
    "CounterfactualPerturber",
    "Dataset",
    "DatasetSpec",
    "Edit",
    "Lexicon",
    "PerturbationResult",
    "builtin_lexicon",
    "load_dataset",
    "load_terms",
]
