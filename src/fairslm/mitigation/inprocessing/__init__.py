"""Fairness during training: differentiable penalties, constraint targets, adversaries.

Everything here works on torch tensors of one batch, so the same objects serve the full
fine-tuning loop (:func:`fairslm.train`) and a head-only trainer on cached embeddings:

* :class:`FairnessPenalty` -- ``weight * spread of soft group rates``, with running estimates;
* :class:`ProxyLagrangian` -- targets such as ``"equal_opportunity ratio >= 0.9"`` enforced by
  multipliers updated on hard rates of held-out batches (Cotter, Jiang & Sridharan 2019);
* :func:`build_adversary` / :func:`grad_reverse` -- adversarial debiasing through gradient
  reversal (Zhang, Lemoine & Mitchell 2018; Ganin & Lempitsky 2015).

Conventions: ``score`` is the probability of the positive class (shape ``(n,)``), ``y_true`` is
1 for the positive class and 0 otherwise, ``group`` holds integer group codes in
``[0, n_groups)`` and ``sample_weight`` is optional.

A training step, in outline::

    penalty = FairnessPenalty("equal_opportunity", n_groups=2, weight=1.0)
    lagrangian = ProxyLagrangian(["equal_opportunity ratio >= 0.9"], ["F", "M"])
    loss = task_loss + penalty(p_pos, y, g, w) + lagrangian.penalty(p_pos, y, g, w)
    loss.backward(); optimizer.step()
    # every few steps, on held-out rows, with decisions y_hat = (p_pos >= 0.5):
    lagrangian.update(y_hat, y_held, g_held)

Under data parallelism (torchrun, ``DistributedDataParallel``) pass ``across_ranks=True``: each
object then sums its per-group statistics over the ranks before forming rates
(:func:`sum_across_ranks`), so N ranks optimise the objective of one process on the same global
batch.
"""

from fairslm.mitigation.inprocessing._adversary import (
    ADVERSARY_CRITERIA,
    build_adversary,
    check_adversary_criterion,
    grad_reverse,
)
from fairslm.mitigation.inprocessing._constraints import (
    ProxyLagrangian,
    RateConstraint,
    check_support,
)
from fairslm.mitigation.inprocessing._penalty import FairnessPenalty
from fairslm.mitigation.inprocessing._ranks import ranks_active, sum_across_ranks
from fairslm.mitigation.inprocessing._rates import (
    CRITERION_METRICS,
    RATE_METRICS,
    group_rate_sums,
    metrics_for,
)

__all__ = [
    "ADVERSARY_CRITERIA",
    "CRITERION_METRICS",
    "FairnessPenalty",
    "ProxyLagrangian",
    "RATE_METRICS",
    "RateConstraint",
    "build_adversary",
    "check_adversary_criterion",
    "check_support",
    "grad_reverse",
    "group_rate_sums",
    "metrics_for",
    "ranks_active",
    "sum_across_ranks",
]
