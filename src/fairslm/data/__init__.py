"""Data sets: readers, column specs and the synthetic hiring corpus."""

from fairslm.data._synthetic import HIRING_COLUMNS, HiringCorpusConfig, make_hiring_corpus

__all__ = ["HIRING_COLUMNS", "HiringCorpusConfig", "make_hiring_corpus"]
