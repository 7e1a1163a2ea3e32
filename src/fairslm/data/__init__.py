"""Text data sets: readers, the column mapping, and counterfactual perturbation."""

from fairslm.data._dataset import Dataset, load_dataset
from fairslm.data._spec import DatasetSpec

__all__ = [
    "Dataset",
    "DatasetSpec",
    "load_dataset",
]
