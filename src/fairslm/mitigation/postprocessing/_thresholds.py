"""Group-specific decision thresholds that meet a fairness target, from a score count table.

The search never passes over rows per candidate threshold. The rows are aggregated once into
the audit engine's ``(group, y_true, score bin)`` table; reverse cumulative sums over the bins
give every group's true and false positives at every threshold at once. Each rate is
non-increasing in the threshold, so "the rate lies in a band" is an interval of thresholds
found by binary search, and the most accurate threshold inside an interval is a range-maximum
query on a sparse table. A constraint "ratio >= target" holds exactly when every group's rate
lies in ``[L, L / target]`` for some level ``L`` (the smallest rate), so scanning ``L`` over the
rates the groups can reach finds the most accurate feasible set of thresholds (Hardt, Price &
Srebro, 2016, "Equality of Opportunity in Supervised Learning", with deterministic thresholds
instead of randomised ones).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.engines import count_table_from_arrays, group_labels, to_1d
from fairslm.exceptions import ConfigError, InvalidDataError

__all__ = ["POSTPROCESSING_CONSTRAINTS", "GroupThresholdOptimizer"]

# constraint -> the rates whose between-group ratio must reach the target
POSTPROCESSING_CONSTRAINTS: dict[str, tuple[str, ...]] = {
    "statistical_parity": ("selection_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
}
# Levels scanned per rate. For one rate every reachable value is scanned up to this many (exact
# for two groups at 1,000 score bins); equalized odds scans a grid of two levels, so fewer each.
_MAX_LEVELS_ONE = 6000
_MAX_LEVELS_TWO = 300
_TOL = 1e-12
# A threshold above every score in [0, 1]: "never select".
NEVER = float(np.nextafter(1.0, 2.0))


def _sparse_argmax(values: NDArray[np.float64]) -> list[NDArray[np.int64]]:
    """Sparse table for range-argmax queries (first index on ties)."""
    table = [np.arange(len(values), dtype=np.int64)]
    k = 1
    while (1 << k) <= len(values):
        prev = table[-1]
        half = 1 << (k - 1)
        left = prev[: len(values) - (1 << k) + 1]
        right = prev[half : half + len(left)]
        table.append(np.where(values[right] > values[left], right, left))
        k += 1
    return table


def _range_argmax(
    table: list[NDArray[np.int64]], values: NDArray[np.float64], lo: NDArray[np.int64], hi: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Index of the largest ``values[lo..hi]`` (inclusive); ``lo <= hi`` is required."""
    length = hi - lo + 1
    k = np.floor(np.log2(np.maximum(length, 1))).astype(np.int64)
    out = np.empty(len(lo), dtype=np.int64)
    for level in np.unique(k):
        m = k == level
        a = table[level][lo[m]]
        b = table[level][hi[m] - (1 << int(level)) + 1]
        out[m] = np.where(values[b] > values[a], b, a)
    return out


def _band_interval(
    rate: NDArray[np.float64], lo: NDArray[np.float64], hi: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Thresholds ``j`` (rate non-increasing in j) with ``lo <= rate[j] <= hi``: ``[a, b]``."""
    neg = -rate
    a = np.searchsorted(neg, -hi - _TOL, side="left")
    b = np.searchsorted(neg, -lo + _TOL, side="right") - 1
    return a.astype(np.int64), b.astype(np.int64)


def _levels(values: NDArray[np.float64], cap: int) -> NDArray[np.float64]:
    u = np.unique(values[np.isfinite(values)])
    if len(u) > cap:
        u = np.unique(np.quantile(u, np.linspace(0, 1, cap)))
    return u


class GroupThresholdOptimizer:
    """Choose one decision threshold per group to maximise accuracy subject to a fairness target.

    Parameters
    ----------
    constraint : {"statistical_parity", "equal_opportunity", "equalized_odds"}
        The rate(s) to equalise: selection rate, true positive rate, or both true and false
        positive rates.
    target : float in (0, 1], default 0.9
        Required ratio of the smallest to the largest group rate (with ``reference_group``:
        of each group's rate to the reference group's, folded so that ``1/r`` counts as ``r``).
    max_difference : float, optional
        When given, require ``largest - smallest rate <= max_difference`` (with
        ``reference_group``: ``|rate - reference rate| <= max_difference``) instead of the
        ratio; ``target`` is then ignored. Differences suit small rates such as false
        positive rates, whose ratios swing with a handful of rows.
    reference_group : str, optional
        Compare every group with this one instead of smallest against largest.
    pos_label : optional
        The favourable label; defaults to 1 for 0/1 labels.
    n_bins : int, default 1000
        Score bins of the count table; thresholds are bin edges (steps of 1/n_bins).

    Attributes
    ----------
    thresholds_ : dict of str to float
        Group label -> threshold; a row is selected when ``score >= threshold``.
    groups_ : list of str
    validation_ : dict
        Accuracy, achieved ratio(s) and per-group rates on the fit data.

    Examples
    --------
    >>> y = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> s = [0.9, 0.8, 0.3, 0.1, 0.6, 0.4, 0.35, 0.2]
    >>> g = ["M"] * 4 + ["F"] * 4
    >>> opt = GroupThresholdOptimizer(constraint="equal_opportunity", target=1.0, n_bins=20)
    >>> opt = opt.fit(y, s, sensitive_features=g)
    >>> opt.predict(s, sensitive_features=g).tolist()
    [1, 1, 0, 0, 1, 1, 0, 0]
    """

    def __init__(
        self,
        *,
        constraint: str = "equal_opportunity",
        target: float = 0.9,
        max_difference: float | None = None,
        reference_group: str | None = None,
        pos_label: object | None = None,
        n_bins: int = 1000,
    ) -> None:
        self.constraint = constraint
        self.target = target
        self.max_difference = max_difference
        self.reference_group = reference_group
        self.pos_label = pos_label
        self.n_bins = n_bins

    def _check_params(self) -> tuple[str, ...]:
        if self.constraint not in POSTPROCESSING_CONSTRAINTS:
            raise ConfigError(
                f"unknown constraint {self.constraint!r}; group thresholds support "
                f"{', '.join(POSTPROCESSING_CONSTRAINTS)}"
            )
        t = self.target
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < float(t) <= 1:
            raise ConfigError(
                f"target must be a ratio in (0, 1] (for example 0.8 for the four-fifths rule or "
                f"0.9); got {t!r}"
            )
        d = self.max_difference
        if d is not None and (isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 <= d < 1):
            raise ConfigError(
                f"max_difference must be a rate difference in [0, 1) such as 0.05; got {d!r}"
            )
        if not isinstance(self.n_bins, int) or self.n_bins < 2:
            raise ConfigError(f"n_bins must be an integer >= 2; got {self.n_bins!r}")
        return POSTPROCESSING_CONSTRAINTS[self.constraint]

    def fit(
        self, y_true: Any, y_score: Any, *, sensitive_features: Any, sample_weight: Any = None
    ) -> GroupThresholdOptimizer:
        """Find the thresholds on (validation) labels and scores of the positive class."""
        from fairslm.audit import resolve_pos_label

        rates_needed = self._check_params()
        yt = to_1d(y_true, "y_true")
        table = count_table_from_arrays(
            yt, yt, sensitive_features, sample_weight=sample_weight, y_score=y_score,
            n_score_bins=self.n_bins,
        )
        pos = resolve_pos_label(table.classes, self.pos_label)
        p = table.classes.index(pos)
        sc = table.score_weight_sums if table.weighted else table.score_counts
        assert sc is not None and table.score_edges is not None
        labels = table.group_labels
        if self.reference_group is not None and str(self.reference_group) not in labels:
            raise ConfigError(
                f"reference group {self.reference_group!r} does not exist in sensitive_features; "
                f"groups are: {', '.join(labels)}"
            )
        pos_b = sc[:, p, :]
        neg_b = sc.sum(axis=1) - pos_b
        zero = np.zeros((len(labels), 1))
        # tp[g, j]: positives with score bin >= j, j = 0..n_bins (n_bins: nothing selected).
        tp = np.concatenate([np.cumsum(pos_b[:, ::-1], axis=1)[:, ::-1], zero], axis=1)
        fp = np.concatenate([np.cumsum(neg_b[:, ::-1], axis=1)[:, ::-1], zero], axis=1)
        n_pos, n_neg = tp[:, :1], fp[:, :1]
        total = n_pos + n_neg
        for g, lab in enumerate(labels):
            if "true_positive_rate" in rates_needed and n_pos[g, 0] == 0:
                raise InvalidDataError(
                    f"group {lab!r} has no actual positives (y_true = {pos!r}) in the fit data, so "
                    f"its true positive rate and {self.constraint.replace('_', ' ')} are "
                    "undefined. Fit on data with positives in every group, or merge or drop it"
                )
            if "false_positive_rate" in rates_needed and n_neg[g, 0] == 0:
                raise InvalidDataError(
                    f"group {lab!r} has no actual negatives in the fit data, so its false "
                    "positive rate and equalized odds are undefined. Fit on data with negatives "
                    "in every group, or use equal_opportunity"
                )
        rate_of = {
            "selection_rate": (tp + fp) / total,
            "true_positive_rate": tp / np.where(n_pos > 0, n_pos, 1),
            "false_positive_rate": fp / np.where(n_neg > 0, n_neg, 1),
        }
        correct = tp + (n_neg - fp)  # weighted correct decisions at each threshold
        best_j, _ = self._search(rates_needed, rate_of, correct, labels)
        edges = table.score_edges
        thr = np.append(edges[:-1], np.inf)
        self.groups_ = list(labels)
        self.thresholds_ = {lab: (NEVER if j == len(thr) - 1 else round(float(thr[j]), 12)) for lab, j in zip(labels, best_j, strict=True)}
        self.pos_label_ = pos
        self.classes_ = list(table.classes)
        rows = np.arange(len(labels))
        achieved = {
            m: rate_of[m][rows, best_j].tolist() for m in ("selection_rate", "true_positive_rate", "false_positive_rate")
        }
        ref = self._ref_index(labels)
        ratios = {m: _ratio(np.asarray(achieved[m]), ref) for m in rates_needed}
        diffs = {m: _difference(np.asarray(achieved[m]), ref) for m in rates_needed}
        self.validation_ = {
            "accuracy": float(correct[rows, best_j].sum() / total.sum()),
            "ratio": float(min(ratios.values())),
            "ratios": ratios,
            "difference": float(max(diffs.values())),
            "differences": diffs,
            "rates": {m: dict(zip(labels, v, strict=True)) for m, v in achieved.items()},
        }
        return self

    def _ref_index(self, labels: list[str]) -> int | None:
        return None if self.reference_group is None else labels.index(str(self.reference_group))

    def _search(
        self,
        rates_needed: tuple[str, ...],
        rate_of: dict[str, NDArray[np.float64]],
        correct: NDArray[np.float64],
        labels: list[str],
    ) -> tuple[NDArray[np.int64], float]:
        t = float(self.target)
        ref = self._ref_index(labels)
        n_groups = len(labels)
        cap = _MAX_LEVELS_ONE if len(rates_needed) == 1 else _MAX_LEVELS_TWO
        level_sets = []
        for m in rates_needed:
            src = rate_of[m] if ref is None else rate_of[m][ref : ref + 1]
            level_sets.append(_levels(src.ravel(), cap))
        grids = np.meshgrid(*level_sets, indexing="ij")
        levels = [gr.ravel() for gr in grids]  # one array per rate, a row per candidate
        n_cand = len(levels[0])
        lo_idx = np.zeros((n_groups, n_cand), dtype=np.int64)
        hi_idx = np.full((n_groups, n_cand), correct.shape[1] - 1, dtype=np.int64)
        for m, lev in zip(rates_needed, levels, strict=True):
            for g in range(n_groups):
                d = self.max_difference
                if ref is None:
                    lo, hi = lev, (lev / t if d is None else lev + d)
                elif g == ref:
                    lo, hi = lev, lev
                else:
                    lo, hi = (lev * t, lev / t) if d is None else (lev - d, lev + d)
                a, b = _band_interval(rate_of[m][g], lo, hi)
                lo_idx[g] = np.maximum(lo_idx[g], a)
                hi_idx[g] = np.minimum(hi_idx[g], b)
        feasible = (lo_idx <= hi_idx).all(axis=0)
        if not feasible.any():  # unreachable: selecting nobody always meets a ratio target
            raise InvalidDataError("no set of thresholds meets the target on this data")
        cand = np.flatnonzero(feasible)
        choice = np.empty((n_groups, len(cand)), dtype=np.int64)
        score = np.zeros(len(cand))
        for g in range(n_groups):
            table = _sparse_argmax(correct[g])
            choice[g] = _range_argmax(table, correct[g], lo_idx[g, cand], hi_idx[g, cand])
            score += correct[g, choice[g]]
        best = int(np.argmax(score))
        return choice[:, best], float(score[best])

    def predict(self, y_score: Any, *, sensitive_features: Any) -> NDArray[Any]:
        """Decisions: the positive label where ``score >= threshold`` of the row's group."""
        if not hasattr(self, "thresholds_"):
            raise ConfigError("this GroupThresholdOptimizer is not fitted yet; call fit first")
        return apply_thresholds(
            self.thresholds_, y_score, sensitive_features=sensitive_features,
            pos_label=self.pos_label_, classes=self.classes_,
        )


def _ratio(values: NDArray[np.float64], ref: int | None) -> float:
    if ref is None:
        vmax = float(values.max())
        return 1.0 if vmax == 0 else float(values.min() / vmax)
    rv = float(values[ref])
    if rv == 0:
        return 1.0 if float(np.abs(values).max()) == 0 else 0.0
    r = values / rv
    return float(np.min(np.minimum(r, np.where(r > 0, 1 / np.where(r > 0, r, 1), 0))))


def _difference(values: NDArray[np.float64], ref: int | None) -> float:
    if ref is None:
        return float(values.max() - values.min())
    return float(np.abs(values - values[ref]).max())


def apply_thresholds(
    thresholds: dict[str, float],
    y_score: Any,
    *,
    sensitive_features: Any,
    pos_label: object = 1,
    classes: list[object] | None = None,
) -> NDArray[Any]:
    """Apply per-group thresholds; a group without a threshold is an error naming it."""
    s = to_1d(y_score, "y_score").astype(np.float64)
    labels = group_labels(sensitive_features, len(s))
    uniq, inv = np.unique(labels.astype(str), return_inverse=True)
    unseen = [str(u) for u in uniq if str(u) not in thresholds]
    if unseen:
        raise InvalidDataError(
            f"group(s) {', '.join(repr(u) for u in unseen)} have no threshold: they were not in "
            f"the data the thresholds were fitted on (groups: {', '.join(map(repr, thresholds))}). "
            "Refit on data that includes them"
        )
    t = np.asarray([thresholds[str(u)] for u in uniq])[inv.reshape(-1)]
    selected = s >= t
    if classes is None or set(classes) <= {0, 1}:
        return selected.astype(np.int64) if pos_label in (1, True) else (~selected).astype(np.int64)
    others = [c for c in classes if c != pos_label]
    neg = others[0] if len(others) == 1 else None
    out = np.empty(len(s), dtype=object)
    out[selected] = pos_label
    out[~selected] = neg
    return out
