"""The weight of a score blend of a fair model and its baseline, chosen on validation data.

Blending decides by ``w * fair + (1 - w) * baseline`` scores: ``w = 1`` is the fair model,
``w = 0`` the baseline, and the weights in between trade the fair model's smaller group gaps
against the baseline's accuracy. The gap is the RMS over the two classes of the largest
between-group difference in each class's true rate (TPR for the positive class, TNR for the
negative): for two groups, the "TPR-gap RMS" of De-Arteaga et al. (2019, "Bias in Bios: A Case
Study of Semantic Representation Bias in a High-Stakes Setting"). :func:`choose_blend_weight`
takes the most accurate weight whose gap is at most ``(1 - cut)`` times the baseline's, all on
the data it is given (pass validation data, never the evaluation split).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.engines import count_table_from_arrays, to_1d
from fairslm.exceptions import ConfigError, InvalidDataError

__all__ = ["BlendChoice", "choose_blend_weight", "class_gap_rms"]


@dataclass(frozen=True)
class BlendChoice:
    """The chosen weight on the fair model and what it reached on the data it was chosen on."""

    weight: float
    met: bool  # False: no weight removes the share asked for; the fair model alone (w = 1)
    cut: float  # share of the baseline's gap asked to remove
    gap: float
    baseline_gap: float
    accuracy: float
    baseline_accuracy: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def class_gap_rms(y_true: Any, y_pred: Any, sensitive_features: Any) -> float:
    """RMS over the classes (1, 0) of the largest between-group gap in the class's true rate.

    Groups with no row of a class are left out of that class's gap. For two groups this is
    De-Arteaga et al.'s TPR-gap RMS.

    Examples
    --------
    >>> class_gap_rms([1, 1, 0, 0], [1, 0, 0, 0], ["a", "b", "a", "b"])  # TPR gap 1, TNR gap 0
    0.7071067811865476
    """
    counts = count_table_from_arrays(y_true, y_pred, sensitive_features, pos_label=1).counts
    gaps = []
    for cls in (1, 0):
        rows = counts[:, cls, :].sum(axis=1)
        rate = counts[rows > 0, cls, cls] / rows[rows > 0]
        gaps.append(float(rate.max() - rate.min()) if rate.size else 0.0)
    return float(np.sqrt(np.mean(np.square(gaps))))


def choose_blend_weight(
    y_true: Any,
    fair_scores: Any,
    baseline_scores: Any,
    sensitive_features: Any,
    *,
    cut: float = 0.7,
    weights: Any = None,
    threshold: float = 0.5,
) -> BlendChoice:
    """The most accurate weight ``w`` on the fair scores whose blend removes ``cut`` of the gap.

    Parameters
    ----------
    y_true : array of 0/1
        Labels of the validation rows (1 = the positive class).
    fair_scores, baseline_scores : array of float
        Each model's positive-class probability on the same rows.
    sensitive_features
        Group of each row (an array, a Series, a DataFrame or a mapping of columns).
    cut : float, default 0.7
        Share of the baseline's gap (:func:`class_gap_rms`) the blend must remove.
    weights : array of float, optional
        Candidate weights; default 0, 0.05, ..., 1. Ties in accuracy go to the larger weight.
    threshold : float, default 0.5
        Decision threshold on the blended score.

    Returns
    -------
    BlendChoice
        ``met`` is False when no candidate removes ``cut`` of the gap; the weight is then 1
        (the fair model alone).

    Examples
    --------
    >>> y = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> g = ["a", "a", "a", "a", "b", "b", "b", "b"]
    >>> base = [0.9, 0.8, 0.1, 0.2, 0.4, 0.3, 0.1, 0.2]   # misses group b's positives
    >>> fair = [0.6, 0.6, 0.4, 0.4, 0.6, 0.6, 0.4, 0.4]
    >>> choice = choose_blend_weight(y, fair, base, g, cut=0.7)
    >>> choice.met, choice.gap, choice.baseline_gap
    (True, 0.0, 0.7071067811865476)
    """
    if not 0 < cut < 1:
        raise ConfigError(f"cut must lie strictly between 0 and 1 (a share of the gap), got {cut!r}")
    y = to_1d(y_true, "y_true")
    fair = np.asarray(to_1d(fair_scores, "fair_scores"), dtype=float)
    base = np.asarray(to_1d(baseline_scores, "baseline_scores"), dtype=float)
    if not (len(y) == len(fair) == len(base)):
        raise InvalidDataError(
            f"y_true, fair_scores and baseline_scores must have one value per row; got "
            f"{len(y)}, {len(fair)} and {len(base)}"
        )
    labels = set(np.unique(y).tolist())
    if not labels <= {0, 1} or len(labels) < 2:
        raise InvalidDataError(
            f"y_true must hold both 0 and 1 (1 = the positive class); found {sorted(labels, key=repr)}"
        )
    grid = np.linspace(0.0, 1.0, 21) if weights is None else np.asarray(weights, dtype=float)
    if grid.size == 0 or np.any(~np.isfinite(grid)) or grid.min() < 0 or grid.max() > 1:
        raise ConfigError("weights must be numbers in [0, 1]")
    y = y.astype(int)

    def decide(w: float) -> NDArray[np.int_]:
        return ((w * fair + (1 - w) * base) >= threshold).astype(int)

    base_pred = decide(0.0)
    base_gap = class_gap_rms(y, base_pred, sensitive_features)
    limit = (1 - cut) * base_gap
    best: tuple[float, float, float] | None = None  # (accuracy, weight, gap)
    for w in np.round(grid, 12):  # 0.7, not linspace's 0.7000000000000001
        pred = decide(float(w))
        gap = class_gap_rms(y, pred, sensitive_features)
        if gap <= limit:
            cand = (float((pred == y).mean()), float(w), gap)
            best = cand if best is None or cand[:2] > best[:2] else best
    met = best is not None
    if best is None:
        pred = decide(1.0)
        best = (float((pred == y).mean()), 1.0, class_gap_rms(y, pred, sensitive_features))
    return BlendChoice(weight=best[1], met=met, cut=float(cut), gap=best[2], baseline_gap=base_gap,
                       accuracy=best[0], baseline_accuracy=float((base_pred == y).mean()))
