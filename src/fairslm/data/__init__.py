"""Text data sets: readers, the column mapping, the row container, counterfactual perturbation
and the synthetic hiring corpus."""

from fairslm.data._dataset import Dataset, load_dataset
from fairslm.data._lexicon import Lexicon, builtin_lexicon, load_terms
from fairslm.data._perturb import CounterfactualPerturber, Edit, PerturbationResult
from fairslm.data._readers import read_columns, read_table
from fairslm.data._rows import Rows, as_rows, group_label, is_dataset, label_codes
from fairslm.data._spec import DatasetSpec
from fairslm.data._synthetic import HIRING_COLUMNS, HiringCorpusConfig, make_hiring_corpus

__all__ = [
    "HIRING_COLUMNS",
    "CounterfactualPerturber",
    "Dataset",
    "DatasetSpec",
    "Edit",
    "HiringCorpusConfig",
    "Lexicon",
    "PerturbationResult",
    "Rows",
    "as_rows",
    "builtin_lexicon",
    "group_label",
    "is_dataset",
    "label_codes",
    "load_dataset",
    "load_terms",
    "make_hiring_corpus",
    "read_columns",
    "read_table",
]
