"""Fairlearn's exponentiated gradient and LEACE concept erasure on frozen embeddings.

Both reuse their libraries: Fairlearn's ``ExponentiatedGradient`` (Agarwal et al., 2018, "A
Reductions Approach to Fair Classification") and ``concept_erasure.LeaceEraser`` (Belrose et
al., 2023, "LEACE: Perfect linear concept erasure in closed form"). fairslm only adapts their
inputs (embeddings, sensitive features) and outputs (probabilities of the positive class).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm._optional import import_optional
from fairslm.engines import encode_features
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.mitigation.head_only._head import binary_labels, decisions

__all__ = ["EG_CONSTRAINTS", "ExponentiatedGradientHead", "LeaceHead"]

# fairslm criterion -> Fairlearn constraint class name
EG_CONSTRAINTS = {
    "statistical_parity": "DemographicParity",
    "equal_opportunity": "TruePositiveRateParity",
    "equalized_odds": "EqualizedOdds",
}


def _group_codes(sensitive_features: Any, n: int) -> NDArray[np.int64]:
    _, levels, codes = encode_features(sensitive_features, n)
    out = np.zeros(n, dtype=np.int64)
    for lv, c in zip(levels, codes, strict=True):
        out = out * len(lv) + c
    return out


def _logistic(C: float, seed: int) -> Any:
    sklearn_lm = import_optional("sklearn.linear_model", purpose="a logistic head")
    return sklearn_lm.LogisticRegression(C=C, max_iter=2000, random_state=seed)


class _BinaryOutput:
    classes_: list[object]
    pos_label_: object

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        raise NotImplementedError

    def predict(self, X: Any) -> NDArray[Any]:
        """Decisions at probability 0.5, in the labels of ``y``."""
        return decisions(self.predict_proba(X)[:, 1] >= 0.5, self.classes_, self.pos_label_)


class ExponentiatedGradientHead(_BinaryOutput):
    """Fairlearn's ``ExponentiatedGradient`` around a logistic regression on embeddings.

    Parameters
    ----------
    constraint : {"statistical_parity", "equal_opportunity", "equalized_odds"}
        Mapped to Fairlearn's ``DemographicParity``, ``TruePositiveRateParity``,
        ``EqualizedOdds``.
    difference_bound : float, default 0.01
        Fairlearn's bound on the constraint's difference.
    C : float, default 1.0
        Inverse regularisation of the logistic regression.
    pos_label, seed : optional

    Notes
    -----
    The result is a randomised classifier; ``predict_proba`` returns the probability of a
    positive decision (Fairlearn's ``_pmf_predict``), and ``predict`` thresholds it at 0.5 so
    decisions are deterministic.
    """

    def __init__(
        self,
        *,
        constraint: str = "equal_opportunity",
        difference_bound: float = 0.01,
        C: float = 1.0,
        pos_label: object | None = None,
        seed: int = 0,
    ) -> None:
        self.constraint = constraint
        self.difference_bound = difference_bound
        self.C = C
        self.pos_label = pos_label
        self.seed = seed

    def fit(self, X: Any, y: Any, *, sensitive_features: Any, sample_weight: Any = None) -> ExponentiatedGradientHead:
        """Run the reduction on embeddings ``X``."""
        if self.constraint not in EG_CONSTRAINTS:
            raise ConfigError(
                f"unknown constraint {self.constraint!r}; ExponentiatedGradient supports "
                f"{', '.join(EG_CONSTRAINTS)}"
            )
        red = import_optional("fairlearn.reductions", purpose="ExponentiatedGradient")
        Xa = np.asarray(X, dtype=np.float64)
        y01, self.pos_label_, self.classes_ = binary_labels(y, self.pos_label)
        groups = _group_codes(sensitive_features, len(y01))
        constraint = getattr(red, EG_CONSTRAINTS[self.constraint])(
            difference_bound=self.difference_bound
        )
        eg = red.ExponentiatedGradient(_logistic(self.C, self.seed), constraints=constraint)
        kwargs = {} if sample_weight is None else {"sample_weight": np.asarray(sample_weight)}
        eg.fit(Xa, y01.astype(np.int64), sensitive_features=groups, **kwargs)
        self.model_ = eg
        return self

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Probability of a positive decision, shape (n, 2)."""
        if not hasattr(self, "model_"):
            raise ConfigError("this ExponentiatedGradientHead is not fitted yet; call fit first")
        pmf = np.asarray(self.model_._pmf_predict(np.asarray(X, dtype=np.float64)))
        return np.column_stack([1.0 - pmf[:, 1], pmf[:, 1]])


class LeaceHead(_BinaryOutput):
    """Erase the sensitive attribute from the embeddings with LEACE, then fit a logistic head.

    LEACE finds the least-squares-smallest affine edit of the embeddings after which no linear
    classifier can predict the attribute better than a constant. The eraser is fitted on the
    training embeddings and applied to every later input, so prediction needs no sensitive
    features.

    When the label and the attribute are strongly associated (as occupation and gender are),
    any direction that predicts the label also predicts the attribute, so erasing the attribute
    erases much of the label too. ``fit_eraser_on="label_balanced"`` fits the eraser on a
    subsample in which every group has the same number of rows within each label, so that the
    attribute direction it removes is not the label's direction.

    Parameters
    ----------
    fit_eraser_on : {"all", "label_balanced"}, default "all"
    C : float, default 1.0
    pos_label, seed : optional
    """

    def __init__(
        self,
        *,
        fit_eraser_on: str = "all",
        C: float = 1.0,
        pos_label: object | None = None,
        seed: int = 0,
    ) -> None:
        self.fit_eraser_on = fit_eraser_on
        self.C = C
        self.pos_label = pos_label
        self.seed = seed

    def fit(self, X: Any, y: Any, *, sensitive_features: Any, sample_weight: Any = None) -> LeaceHead:
        """Fit the eraser on ``(X, groups)`` and the head on the erased embeddings."""
        torch = import_optional("torch", purpose="LEACE")
        ce = import_optional("concept_erasure", purpose="LEACE concept erasure")
        Xa = np.asarray(X, dtype=np.float32)
        y01, self.pos_label_, self.classes_ = binary_labels(y, self.pos_label)
        groups = _group_codes(sensitive_features, len(y01))
        n_groups = int(groups.max()) + 1
        if n_groups < 2:
            raise InvalidDataError("LEACE needs at least two groups in sensitive_features; found one")
        if self.fit_eraser_on not in ("all", "label_balanced"):
            raise ConfigError(
                f"fit_eraser_on must be 'all' or 'label_balanced'; got {self.fit_eraser_on!r}"
            )
        rows = np.arange(len(y01))
        if self.fit_eraser_on == "label_balanced":
            rng = np.random.default_rng(self.seed)
            keep = []
            for label in (0.0, 1.0):
                cells = [np.flatnonzero((y01 == label) & (groups == k)) for k in range(n_groups)]
                m = min(len(c) for c in cells)
                if m == 0:
                    raise InvalidDataError(
                        "fit_eraser_on='label_balanced' needs every group in both classes; "
                        "a group has no rows with one of the labels. Use fit_eraser_on='all'"
                    )
                keep += [rng.choice(c, size=m, replace=False) for c in cells]
            rows = np.sort(np.concatenate(keep))
        z = np.eye(n_groups, dtype=np.float32)[groups[rows]]
        self.eraser_ = ce.LeaceEraser.fit(torch.from_numpy(Xa[rows]), torch.from_numpy(z))
        head = _logistic(self.C, self.seed)
        head.fit(self.transform(Xa), y01.astype(np.int64), sample_weight=sample_weight)
        self.head_ = head
        return self

    def transform(self, X: Any) -> NDArray[np.float32]:
        """Embeddings with the attribute erased."""
        torch = import_optional("torch", purpose="LEACE")
        if not hasattr(self, "eraser_"):
            raise ConfigError("this LeaceHead is not fitted yet; call fit first")
        with torch.no_grad():
            return self.eraser_(torch.from_numpy(np.asarray(X, dtype=np.float32))).numpy()

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Probabilities, shape (n, 2): column 1 is the positive class."""
        return np.asarray(self.head_.predict_proba(self.transform(X)), dtype=np.float64)
