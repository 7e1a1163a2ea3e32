"""Is one model's improvement over another real? A paired bootstrap from a joint count table.

Two models scored on the same rows are compared on the same resamples: the rows are aggregated
once into the joint table ``(group, y_true, decision of model A, decision of model B) -> count``,
and a bootstrap replicate is a multinomial draw over its cells, which resamples rows once with
both models' decisions attached (Efron & Tibshirani 1993, ch. 6 and sec. 13.4 on paired
comparisons). Each replicate's two confusion tables are the joint table summed over the other
model's decision, so nothing is re-scored and the cost does not grow with the rows. The
interval of a difference (model minus baseline) is the percentile interval of its replicates;
because both models see the same resample, the noise they share (which rows happen to be in
the test set) cancels, and the interval is far narrower than two separate audits suggest.

A difference whose interval excludes 0 is reported as a real change (better or worse); one
whose interval includes 0 is "within noise": these data cannot tell the models apart on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.engines import count_table_from_arrays
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.metrics import (
    CRITERIA,
    REFERENCE_MODES,
    bootstrap_tables,
    compute_rates,
    disparity_batch,
    percentile_interval,
)

__all__ = ["PairedDifference", "paired_differences"]

Array = NDArray[np.float64]
_MODEL_B = "\0model"  # an extra "feature" holding model B's decision; no user column has this name


@dataclass(frozen=True)
class PairedDifference:
    """One statistic of a model against the baseline, with a paired bootstrap interval."""

    statistic: str  # "accuracy", "equal_opportunity ratio", "equal_opportunity difference", ...
    baseline: float
    model: float
    difference: float  # model - baseline
    interval: tuple[float, float]
    better: str  # "higher" or "lower": which direction is an improvement
    verdict: str  # "better", "worse" or "within noise"
    reading: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _joint_table(
    y_true: Any, pred_a: Any, pred_b: Any, sensitive_features: Mapping[str, Any]
) -> tuple[Any, Array]:
    """The baseline's count table and the joint counts ``(group, y_true, pred_a, pred_b)``."""
    b = np.asarray(pred_b, dtype=object)
    joint = count_table_from_arrays(y_true, pred_a, {**sensitive_features, _MODEL_B: b})
    features = tuple(f for f in joint.features if f != _MODEL_B)
    table = joint.marginal(features)
    classes = list(table.classes)
    levels = joint.levels[joint.features.index(_MODEL_B)]
    b_class = []
    for v in levels:
        matches = [i for i, c in enumerate(classes) if c == v or str(c) == str(v)]
        if not matches:
            raise InvalidDataError(
                f"the model predicts {v!r}, a label neither the baseline nor y_true has "
                f"({classes}); compare models that predict the same labels"
            )
        b_class.append(matches[0])
    k = len(classes)
    counts = np.zeros((table.n_groups, k, k, k))
    group_of = joint.group_index(features)
    b_of = np.asarray(b_class)[joint.keys[:, joint.features.index(_MODEL_B)]]
    for i in range(joint.n_groups):
        counts[group_of[i], :, :, b_of[i]] += joint.counts[i]
    return table, counts


def _statistics(
    table: Any, joint: Array, pos: object, *, criteria: Sequence[str], reference: str | int,
    eligible: NDArray[np.bool_], sizes: Array,
) -> dict[str, tuple[Array, Array]]:
    """Per statistic, (baseline, model) values for each table of the stack ``joint``."""
    k = joint.shape[-1]
    out: dict[str, tuple[Array, Array]] = {}
    cells = {"a": joint.sum(axis=-1), "b": joint.sum(axis=-2)}
    needed = sorted({m for crit in criteria for m in CRITERIA[crit][0]})
    values: dict[str, dict[str, Array]] = {}
    for side, c in cells.items():
        total = c.sum(axis=(-3, -2, -1))
        correct = sum(c[..., :, i, i].sum(axis=-1) for i in range(k))
        acc = np.divide(correct, total, out=np.full(total.shape, np.nan), where=total > 0)
        conf = table.binary(pos, source=c)
        rates = compute_rates(conf, needed)
        overall = compute_rates(conf.sum(axis=-3, keepdims=True), needed)
        vals: dict[str, Array] = {"accuracy": acc}
        for crit in criteria:
            ratios, diffs = [], []
            for m in CRITERIA[crit][0]:
                bt = disparity_batch(rates[m], eligible=eligible, sizes=sizes, reference=reference,
                                     overall_values=overall[m][:, 0])
                ratios.append(bt.summary_ratio)
                diffs.append(bt.summary_difference)
            # The worse component decides (equalized odds), as in the audit.
            vals[f"{crit} ratio"] = np.fmin.reduce(ratios)
            vals[f"{crit} difference"] = np.fmax.reduce(diffs)
        values[side] = vals
    for name in values["a"]:
        out[name] = (values["a"][name], values["b"][name])
    return out


def _reading(stat: str, base: float, model: float, diff: float, ci: tuple[float, float],
             better: str, confidence: float) -> tuple[str, str]:
    lo, hi = ci
    head = (f"{stat}: {base:.3f} -> {model:.3f} ({diff:+.3f}, {confidence:.0%} paired interval "
            f"{lo:+.3f} to {hi:+.3f})")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "undefined", f"{head}: undefined on these data."
    if lo > 0 or hi < 0:
        up = lo > 0
        verdict = "better" if up == (better == "higher") else "worse"
        return verdict, f"{head}: {verdict} than the baseline beyond the noise of these data."
    return "within noise", (f"{head}: within noise, the interval includes 0, so these data cannot "
                            "tell the two models apart on it.")


def paired_differences(
    y_true: Any,
    baseline_pred: Any,
    model_pred: Any,
    *,
    sensitive_features: Mapping[str, Any],
    pos_label: object,
    criteria: Sequence[str] | None = None,
    reference_group: Any = "min_max",
    min_group_size: int = 30,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> list[PairedDifference]:
    """Paired bootstrap intervals of ``model - baseline`` for accuracy and every criterion.

    Parameters
    ----------
    y_true, baseline_pred, model_pred : array-like
        Labels and the two models' decisions on the same rows.
    sensitive_features : mapping of name -> array
    pos_label : object
        The favourable label.
    criteria : sequence of str, optional
        Criteria whose summary ratio and difference are compared (default: all).
    reference_group, min_group_size
        As in the audit.
    n_bootstrap : int, default 1000
        Replicates of the joint table; 1,000 keeps the Monte Carlo error of a 95% percentile
        bound near 0.01 of its standard error's scale (Efron & Tibshirani 1993, sec. 19.3).
    confidence : float, default 0.95
    seed : int, default 0

    Returns
    -------
    list of PairedDifference
        Accuracy first, then each criterion's ratio and difference.

    Examples
    --------
    >>> y = [1, 0] * 50
    >>> g = {"g": ["a"] * 50 + ["b"] * 50}
    >>> same = paired_differences(y, y, y, sensitive_features=g, pos_label=1, n_bootstrap=100)
    >>> same[0].verdict, same[0].interval
    ('within noise', (0.0, 0.0))
    """
    crits = list(CRITERIA) if criteria is None else list(criteria)
    unknown = [c for c in crits if c not in CRITERIA]
    if unknown:
        raise ConfigError(f"unknown criteria {unknown}; known criteria: {', '.join(CRITERIA)}")
    if int(n_bootstrap) < 1:
        raise ConfigError(f"n_bootstrap must be >= 1 for a paired comparison; got {n_bootstrap}")
    if not 0 < float(confidence) < 1:
        raise ConfigError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence}")
    n = len(np.asarray(y_true))
    for name, p in (("baseline", baseline_pred), ("model", model_pred)):
        if len(np.asarray(p)) != n:
            raise InvalidDataError(
                f"the {name}'s decisions have {len(np.asarray(p))} rows, y_true has {n}; a paired "
                "comparison needs both models scored on the same rows"
            )
    table, joint = _joint_table(y_true, baseline_pred, model_pred, sensitive_features)
    pos = pos_label if pos_label in table.classes else next(
        (c for c in table.classes if str(c) == str(pos_label)), None)
    if pos is None:
        raise InvalidDataError(f"pos_label {pos_label!r} is not among the labels {list(table.classes)}")
    sizes = table.counts.sum(axis=(1, 2))
    eligible = sizes >= int(min_group_size)
    labels = table.group_labels
    reference: str | int
    if reference_group in REFERENCE_MODES:
        reference = str(reference_group)
    elif str(reference_group) in labels:
        reference = labels.index(str(reference_group))
    else:
        raise InvalidDataError(
            f"reference group {reference_group!r} does not exist; groups are: {', '.join(labels)}. "
            f"Or use one of {', '.join(REFERENCE_MODES)}"
        )
    kw = dict(criteria=crits, reference=reference, eligible=eligible, sizes=sizes)
    point = _statistics(table, joint[None], pos, **kw)
    reps = np.concatenate(list(bootstrap_tables(joint, n_replicates=int(n_bootstrap), seed=int(seed))))
    boot = _statistics(table, reps, pos, **kw)
    out = []
    for stat, (a, b) in point.items():
        ra, rb = boot[stat]
        lo, hi = percentile_interval((rb - ra)[:, None], float(confidence))
        base, model = float(a[0]), float(b[0])
        diff = model - base
        better = "lower" if stat.endswith("difference") else "higher"
        ci = (float(lo[0]) + 0.0, float(hi[0]) + 0.0)
        verdict, reading = _reading(stat, base, model, diff, ci, better, float(confidence))
        out.append(PairedDifference(stat, base, model, diff, ci, better, verdict, reading))
    return out
