"""Accuracy-fairness trade-offs: the Pareto front and constrained model selection."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fairslm.exceptions import ConfigError, InvalidDataError

__all__ = ["ModelSelection", "pareto_front", "select_most_accurate"]


def pareto_front(accuracy: Sequence[float], disparity: Sequence[float]) -> list[int]:
    """Indices of the points no other point beats on both accuracy (higher) and disparity (lower).

    A point is dominated when another is at least as good on both and strictly better on one.
    Points with a NaN are never on the front. Indices are returned by increasing disparity.

    Examples
    --------
    >>> pareto_front([0.95, 0.93, 0.90, 0.92], [0.20, 0.05, 0.04, 0.10])
    [2, 1, 0]
    """
    acc = np.asarray(accuracy, dtype=np.float64)
    dis = np.asarray(disparity, dtype=np.float64)
    if acc.shape != dis.shape or acc.ndim != 1:
        raise InvalidDataError(
            f"accuracy and disparity must be 1-D and of equal length; got {acc.shape} and {dis.shape}"
        )
    ok = np.flatnonzero(~(np.isnan(acc) | np.isnan(dis)))
    # Sort by disparity ascending, then accuracy descending; keep strict accuracy records.
    order = ok[np.lexsort((-acc[ok], dis[ok]))]
    front: list[int] = []
    best = -math.inf
    for i in order:
        if acc[i] > best:
            front.append(int(i))
            best = acc[i]
    return front


@dataclass(frozen=True)
class ModelSelection:
    """Outcome of :func:`select_most_accurate`.

    ``index``/``name`` are None when no candidate meets the constraint; ``message`` says which
    was chosen, or why none was and which came closest.
    """

    index: int | None
    name: str | None
    feasible: tuple[str, ...]
    message: str


def select_most_accurate(
    names: Sequence[str],
    accuracy: Sequence[float],
    fairness: Sequence[float],
    *,
    target: float,
    kind: str = "ratio",
    criterion: str = "equal_opportunity",
) -> ModelSelection:
    """The most accurate candidate among those that meet the fairness target.

    Parameters
    ----------
    names, accuracy, fairness : sequences of equal length
        One entry per model or checkpoint, measured on validation data.
    target : float
        ``fairness >= target`` for ``kind="ratio"``; ``fairness <= target`` for
        ``kind="difference"``.
    kind : {"ratio", "difference"}
    criterion : str
        Only used to word the message.

    Examples
    --------
    >>> s = select_most_accurate(["a", "b", "c"], [0.95, 0.93, 0.92], [0.7, 0.91, 0.95], target=0.9)
    >>> s.name, s.feasible
    ('b', ('b', 'c'))
    >>> select_most_accurate(["a"], [0.95], [0.7], target=0.9).name is None
    True
    """
    if kind not in ("ratio", "difference"):
        raise ConfigError(f"kind must be 'ratio' or 'difference'; got {kind!r}")
    if kind == "ratio" and not 0 < float(target) <= 1:
        raise ConfigError(f"a ratio target must be in (0, 1]; got {target}")
    if not len(names) == len(accuracy) == len(fairness):
        raise InvalidDataError(
            f"names, accuracy and fairness must have equal lengths; got {len(names)}, "
            f"{len(accuracy)}, {len(fairness)}"
        )
    if not names:
        raise InvalidDataError("there are no candidates to select from")
    acc = np.asarray(accuracy, dtype=np.float64)
    fair = np.asarray(fairness, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        meets = fair >= target - 1e-12 if kind == "ratio" else fair <= target + 1e-12
    meets &= ~np.isnan(fair) & ~np.isnan(acc)
    label = f"{criterion.replace('_', ' ')} {kind} {'>=' if kind == 'ratio' else '<='} {target:g}"
    names = [str(v) for v in names]
    feasible = tuple(names[int(i)] for i in np.flatnonzero(meets))
    if not meets.any():
        valid = np.flatnonzero(~np.isnan(fair))
        if valid.size:
            gap = (target - fair[valid]) if kind == "ratio" else (fair[valid] - target)
            c = int(valid[np.argmin(gap)])
            closest = f"; the closest is {names[c]!r} ({kind} {fair[c]:.3f}, accuracy {acc[c]:.4f})"
        else:
            closest = "; every candidate's fairness value is undefined"
        return ModelSelection(
            None, None, (),
            f"no candidate meets {label} on the validation data{closest}. Relax the target, "
            "strengthen the mitigation, or add group thresholds",
        )
    idx = np.flatnonzero(meets)
    best = int(idx[np.argmax(acc[idx])])
    return ModelSelection(
        best, str(names[best]), feasible,
        f"{names[best]!r} is the most accurate of {len(feasible)} candidate(s) meeting {label} "
        f"(accuracy {acc[best]:.4f}, {kind} {fair[best]:.3f})",
    )
