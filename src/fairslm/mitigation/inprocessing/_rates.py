"""Group rates as torch tensors: soft (differentiable) for the model, hard (counted) for checks.

A *soft* rate replaces the decision ``1[p >= 0.5]`` by the probability ``p`` of the positive
class, so the selection rate of group g is ``sum_i w_i p_i / sum_i w_i`` over the rows of g, the
soft true positive rate the same over the rows of g with ``y = 1``, and the soft false positive
rate over the rows with ``y = 0`` (the relaxation used by Zafar et al. 2017 and by Cotter et al.
2019 for their proxy constraints). *Hard* rates count decisions and are the ones the audit reports.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CRITERION_METRICS",
    "RATE_METRICS",
    "criterion_not_trainable",
    "group_rate_sums",
    "metrics_for",
]

# The rates fairness during training acts on, and the rows each one averages over.
RATE_METRICS: dict[str, str] = {
    "selection_rate": "all rows",
    "true_positive_rate": "rows whose true label is the positive class",
    "false_positive_rate": "rows whose true label is not the positive class",
}

# Criteria (named as in the audit) -> the rates they compare across groups.
CRITERION_METRICS: dict[str, tuple[str, ...]] = {
    "statistical_parity": ("selection_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
}


def metrics_for(name: str) -> tuple[str, ...]:
    """The rates behind a criterion or a rate name; :class:`ConfigError` for anything else."""
    from fairslm.exceptions import ConfigError

    if name in CRITERION_METRICS:
        return CRITERION_METRICS[name]
    if name in RATE_METRICS:
        return (name,)
    known = sorted(CRITERION_METRICS) + sorted(RATE_METRICS)
    raise ConfigError(f"{criterion_not_trainable(name, 'fairness metric')}; training can act on: {', '.join(known)}")


def criterion_not_trainable(name: str, what: str) -> str:
    """Why training refuses ``name`` as a ``what``: an audit criterion it has no loss for, or an
    unknown name."""
    from fairslm.metrics import CRITERIA

    if name in CRITERIA:
        # the soft rates relax selection, true and false positive rates only; precision's
        # rows, for one, are the model's own positive decisions
        return (f"the audit criterion {name!r} compares {' and '.join(CRITERIA[name][0])}, which "
                f"training has no loss for (audits still report it after training)")
    return f"unknown {what} {name!r}"


def group_rate_sums(
    score: Any,
    y_true: Any,
    group: Any,
    n_groups: int,
    metric: str,
    sample_weight: Any = None,
) -> tuple[Any, Any]:
    """Per-group numerator and denominator of a rate, as two tensors of length ``n_groups``.

    Parameters
    ----------
    score : torch.Tensor, shape (n,)
        Probability of the positive class (soft rates) or 0/1 decisions (hard rates).
    y_true : torch.Tensor, shape (n,)
        1 where the true label is the positive class, else 0.
    group : torch.LongTensor, shape (n,)
        Group code of each row, in ``[0, n_groups)``.
    metric : str
        One of :data:`RATE_METRICS`.
    sample_weight : torch.Tensor, optional
        Row weights; ones when omitted.

    Returns
    -------
    (numerator, denominator) : tuple of torch.Tensor
        The rate of group g is ``numerator[g] / denominator[g]``; a zero denominator means the
        group has no eligible rows in this batch.

    Examples
    --------
    >>> import torch
    >>> num, den = group_rate_sums(torch.tensor([0.9, 0.2, 0.6, 0.4]), torch.tensor([1, 1, 1, 0]),
    ...                            torch.tensor([0, 0, 1, 1]), 2, "true_positive_rate")
    >>> [round(v, 6) for v in (num / den).tolist()]
    [0.55, 0.6]
    """
    import torch

    score = torch.as_tensor(score)
    if not score.is_floating_point():
        score = score.to(torch.float32)
    dtype = score.dtype
    w = (
        torch.ones_like(score)
        if sample_weight is None
        else torch.as_tensor(sample_weight, device=score.device).to(dtype)
    )
    y = torch.as_tensor(y_true, device=score.device).to(dtype)
    if metric == "selection_rate":
        mask = torch.ones_like(score)
    elif metric == "true_positive_rate":
        mask = y
    elif metric == "false_positive_rate":
        mask = 1.0 - y
    else:
        metrics_for(metric)  # raises the ConfigError
        raise AssertionError("unreachable")
    idx = torch.as_tensor(group, device=score.device).long()
    den = torch.zeros(n_groups, dtype=dtype, device=score.device).index_add(0, idx, w * mask)
    num = torch.zeros(n_groups, dtype=dtype, device=score.device).index_add(
        0, idx, w * mask * score
    )
    return num, den
