"""Counterfactual data augmentation (CDA) and substitution (CDS) of training texts."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from fairslm.data import Rows, as_rows
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.mitigation.preprocessing._outputs import AUGMENTED_COLUMN, SOURCE_COLUMN, rebuild_frame

__all__ = ["AUGMENT_MODES", "CounterfactualAugmenter"]

AUGMENT_MODES = ("cda", "cds")


class CounterfactualAugmenter:
    """Add (CDA) or substitute (CDS) counterfactual copies of the training texts.

    Each text is rewritten by the counterfactual perturbation engine
    (:class:`fairslm.data.CounterfactualPerturber`), which swaps the terms of a protected
    attribute (he/she, his/her, ...). Labels are unchanged.

    * ``mode="cda"``, counterfactual data augmentation (Lu et al., "Gender Bias in Neural Natural
      Language Processing", 2018): every text the engine changes gets a swapped copy appended.
    * ``mode="cds"``, counterfactual data substitution (Maudslay et al., "It's All in the Name",
      EMNLP 2019): every text the engine changes is replaced by its swapped version with
      probability ``p``; the number of rows stays the same.

    Rows made this way carry ``fairslm_augmented = True`` and ``augmented_from`` = the position
    of their source row in the input (original rows: False and -1), so they can be left out of
    evaluation.

    Parameters
    ----------
    attribute : str, default "gender"
        Protected attribute whose terms are swapped.
    mode : {"cda", "cds"}, default "cda"
    p : float, default 0.5
        Substitution probability for ``"cds"`` (Maudslay et al. use 0.5).
    terms : path, Lexicon, list of them, or None
        Term lists (CSV or YAML files, see :func:`fairslm.data.load_terms`) merged with the
        engine's built-in list for ``attribute``.
    swap_sensitive : "auto", mapping or None, default "auto"
        What the sensitive feature of a swapped row becomes. The feature is the one named
        ``attribute`` (or the only one). ``"auto"`` swaps its two values when it has exactly two
        (a text rewritten from "she" to "he" now describes a man); a mapping such as
        ``{"F": "M", "M": "F"}`` says it explicitly; None keeps the original value.
    seed : int, default 0
    perturber : object or None
        Any object with ``perturb(texts)`` returning ``.texts`` and ``.changed``; by default
        ``fairslm.data.CounterfactualPerturber(attribute, seed=seed, terms=terms)``.

    Attributes
    ----------
    n_changed_ : int
        Texts the engine changed.
    n_added_ : int
        Rows added (CDA) or substituted (CDS).
    sample_indices_ : numpy.ndarray
        Position of the source row of every output row.
    augmented_ : numpy.ndarray of bool
        Which output rows are counterfactual.
    sensitive_features_ : pandas.DataFrame
        Sensitive features of the output rows (after ``swap_sensitive``).
    """

    def __init__(
        self,
        *,
        attribute: str = "gender",
        mode: str = "cda",
        p: float = 0.5,
        terms: Any = None,
        swap_sensitive: Any = "auto",
        seed: int = 0,
        perturber: Any = None,
    ) -> None:
        self.attribute = attribute
        self.mode = mode
        self.p = p
        self.terms = terms
        self.swap_sensitive = swap_sensitive
        self.seed = seed
        self.perturber = perturber

    def _check_params(self) -> None:
        if self.mode not in AUGMENT_MODES:
            raise ConfigError(
                f"unknown augmentation mode {self.mode!r}; use one of {', '.join(AUGMENT_MODES)}"
            )
        if not isinstance(self.p, (int, float)) or not 0.0 <= float(self.p) <= 1.0:
            raise ConfigError(f"p must be a probability between 0 and 1; got {self.p!r}")

    def _engine(self) -> Any:
        if self.perturber is not None:
            return self.perturber
        from fairslm.data import CounterfactualPerturber

        return CounterfactualPerturber(attribute=self.attribute, seed=self.seed, terms=self.terms)

    def _swap_column(self, rows: Rows) -> tuple[str | None, dict[object, object]]:
        if self.swap_sensitive is None:
            return None, {}
        sens = rows.sensitive
        if self.attribute in sens.columns:
            col = self.attribute
        elif sens.shape[1] == 1:
            col = str(sens.columns[0])
        else:
            return None, {}
        if isinstance(self.swap_sensitive, Mapping):
            return col, dict(self.swap_sensitive)
        if self.swap_sensitive != "auto":
            raise ConfigError(
                f"swap_sensitive must be 'auto', a mapping or None; got {self.swap_sensitive!r}"
            )
        values = pd.unique(sens[col].dropna())
        if len(values) != 2:
            return None, {}
        a, b = values[0], values[1]
        return col, {a: b, b: a}

    def fit_resample(
        self,
        X: Any,
        y: Any = None,
        *,
        sensitive_features: Any = None,
        text: Any = None,
    ) -> Any:
        """Perturb the texts and return the augmented data.

        ``X`` is a fairslm ``Dataset``, a DataFrame (``y``, ``sensitive_features`` and ``text``
        may be column names) or the list of texts.

        Returns
        -------
        A new ``Dataset`` or DataFrame with the marking columns; for a list of texts, the tuple
        ``(texts, y)``. The input is not modified.
        """
        self._check_params()
        rows = as_rows(X, y, sensitive_features=sensitive_features, text=text, need_text=True)
        assert rows.texts is not None
        texts = [str(t) for t in rows.texts]
        result = self._engine().perturb(texts)
        new_texts = np.asarray(list(result.texts), dtype=object)
        changed = np.asarray(result.changed, dtype=bool)
        if len(new_texts) != rows.n or len(changed) != rows.n:
            raise InvalidDataError(
                f"the perturbation engine returned {len(new_texts)} texts for {rows.n} inputs"
            )
        n_changed = int(changed.sum())
        if n_changed == 0:
            warnings.warn(
                f"the {self.attribute} term list matched nothing in the {rows.n} texts, so no "
                "counterfactual rows were made (0 of "
                f"{rows.n} texts changed). Check attribute= and terms=, and the text column",
                UserWarning,
                stacklevel=2,
            )
        n = rows.n
        if self.mode == "cda":
            extra = np.flatnonzero(changed)
            source = np.concatenate([np.arange(n), extra]).astype(np.int64)
            augmented = np.concatenate([np.zeros(n, bool), np.ones(len(extra), bool)])
            out_texts = np.concatenate([np.asarray(texts, dtype=object), new_texts[extra]])
        else:
            rng = np.random.default_rng(self.seed)
            substitute = changed & (rng.random(n) < float(self.p))
            source = np.arange(n, dtype=np.int64)
            augmented = substitute
            out_texts = np.where(substitute, new_texts, np.asarray(texts, dtype=object))
        self.n_changed_ = n_changed
        self.n_unchanged_ = n - n_changed
        self.n_added_ = int(augmented.sum())
        self.sample_indices_ = source
        self.augmented_ = augmented
        col, mapping = self._swap_column(rows)
        sens = rows.sensitive.iloc[source].reset_index(drop=True)
        if col is not None:
            sens[col] = _swap(sens[col], augmented, mapping)
        self.sensitive_features_ = sens
        if rows.kind == "arrays":
            return list(out_texts), rows.labels[source]
        frame = rows.frame
        assert frame is not None
        out = frame.iloc[source].reset_index(drop=True)
        if rows.text_column is not None:
            out[rows.text_column] = out_texts
        else:
            raise InvalidDataError("the text column of the data is unknown; pass text=")
        previous_mark = out[AUGMENTED_COLUMN] if AUGMENTED_COLUMN in out.columns else None
        previous_source = out[SOURCE_COLUMN] if SOURCE_COLUMN in out.columns else None
        mark = augmented.copy()
        origin = np.where(augmented, source, -1)
        if previous_mark is not None:
            mark |= previous_mark.fillna(False).to_numpy(dtype=bool)
        if previous_source is not None:
            prev = previous_source.fillna(-1).to_numpy(dtype=np.int64)
            origin = np.where(prev >= 0, prev, origin)
        out[AUGMENTED_COLUMN] = mark
        out[SOURCE_COLUMN] = origin
        if col is not None and col in out.columns and _is_column_of(rows, col):
            out[col] = _swap(out[col], augmented, mapping).to_numpy()
        return rebuild_frame(out, rows)


def _is_column_of(rows: Rows, col: str) -> bool:
    """True when the sensitive feature ``col`` was read from the frame's own column."""
    frame = rows.frame
    return frame is not None and col in frame.columns and (
        rows.kind == "dataset" or np.array_equal(
            frame[col].astype(str).to_numpy(), rows.sensitive[col].astype(str).to_numpy()
        )
    )


def _swap(values: pd.Series, rows_to_swap: NDArray[np.bool_], mapping: dict[object, object]) -> pd.Series:
    out = values.astype(object).copy()
    mask = pd.Series(rows_to_swap, index=out.index)
    out[mask] = out[mask].map(lambda v: mapping.get(v, v))
    return out
