"""The training objective: weighted cross-entropy plus the fairness terms, on one batch.

One implementation serves both ways of fine-tuning -- :func:`fairslm.train` and
:class:`fairslm.training.FairnessTrainer` -- so a penalty, a constraint target or an adversary
means the same loss in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fairslm.exceptions import ConfigError

__all__ = ["FairnessObjective", "StepLoss"]


@dataclass
class StepLoss:
    """The loss of one batch and its parts (tensors), plus the adversary's accuracy."""

    total: Any
    terms: dict[str, Any] = field(default_factory=dict)
    adversary_accuracy: float = float("nan")


class FairnessObjective:
    """``task_loss + penalty + constraint penalty + adversary loss`` for a batch of class logits.

    Parameters
    ----------
    pos_index : int
        Index of the positive (favourable) class among the logits.
    penalty : FairnessPenalty, optional
    lagrangian : ProxyLagrangian, optional
        Its multipliers weigh the soft-rate constraint terms; they move in its ``update``.
    adversary : torch.nn.Module, optional
        From :func:`~fairslm.mitigation.inprocessing.build_adversary`.
    adversary_source : {"representation", "prediction"}
        What the adversary reads: the pooled representation or the class log-probabilities.
    across_ranks : bool, default False
        Each rank holds a shard of the batch: the task loss is then the weighted mean over the
        whole batch, and the fairness objects must be built with ``across_ranks=True`` too
        (:meth:`from_config` does), so every rank computes the loss of the whole batch.

    Notes
    -----
    Every term is a function of sums over the batch (``sum w * ce``, per-group ``sum w * p``,
    ...). With ``across_ranks`` the sums are taken over all ranks, differentiably
    (:func:`~fairslm.mitigation.inprocessing.sum_across_ranks`), so each rank holds the loss of
    the global batch and ``DistributedDataParallel``'s averaged gradient is that loss's gradient.
    """

    def __init__(self, pos_index: int, *, penalty: Any = None, lagrangian: Any = None,
                 adversary: Any = None, adversary_source: str = "representation",
                 across_ranks: bool = False) -> None:
        self.across_ranks = bool(across_ranks)
        self.pos_index = int(pos_index)
        self.penalty = penalty
        self.lagrangian = lagrangian
        self.adversary = adversary
        self.adversary_source = adversary_source

    @classmethod
    def from_config(cls, cfg: Any, *, classes: Sequence[str], group_labels: Sequence[str],
                    pos_index: int, hidden_size: int, across_ranks: bool = False) -> FairnessObjective:
        """Build the penalty, multipliers and adversary that ``cfg`` asks for.

        ``cfg`` has ``penalty``, ``constraints`` and ``adversary`` sections (a
        :class:`~fairslm.training.TrainConfig` or a :class:`~fairslm.training.FairnessConfig`).
        """
        from fairslm.mitigation import inprocessing

        n_groups = len(group_labels)
        penalty = lagrangian = adversary = None
        if cfg.penalty is not None:
            penalty = inprocessing.FairnessPenalty(cfg.penalty.criterion, n_groups=n_groups,
                                                   weight=cfg.penalty.weight,
                                                   momentum=cfg.penalty.momentum,
                                                   across_ranks=across_ranks)
        if cfg.constraints is not None:
            c = cfg.constraints
            lagrangian = inprocessing.ProxyLagrangian(c.targets, group_labels,
                                                      multiplier_lr=c.multiplier_lr,
                                                      max_multiplier=c.max_multiplier,
                                                      momentum=c.momentum,
                                                      across_ranks=across_ranks)
        source = "representation"
        if cfg.adversary is not None:
            a = cfg.adversary
            source = a.source
            width = len(classes) if a.source == "prediction" else hidden_size
            # Looked up on the module at call time, so a test can stand in for it.
            adversary = inprocessing.build_adversary(width, n_groups, criterion=a.criterion,
                                                     n_classes=len(classes), hidden=a.hidden,
                                                     alpha=a.alpha, across_ranks=across_ranks)
        return cls(pos_index, penalty=penalty, lagrangian=lagrangian, adversary=adversary,
                   adversary_source=source, across_ranks=across_ranks)

    @property
    def needs_representation(self) -> bool:
        """Whether :meth:`__call__` needs the pooled representation of the batch."""
        return self.adversary is not None and self.adversary_source == "representation"

    def __call__(self, logits: Any, y: Any, group: Any, weight: Any,
                 representation: Any = None) -> StepLoss:
        """The loss of one batch.

        Parameters
        ----------
        logits : torch.Tensor, shape (n, n_classes)
        y : torch.LongTensor, shape (n,)
            Class index of each row.
        group : torch.LongTensor, shape (n,)
            Group code of each row.
        weight : torch.Tensor, shape (n,)
            Row weights; the task loss is their weighted mean of cross-entropy.
        representation : torch.Tensor, shape (n, d), optional
            Needed when the adversary reads the representation.
        """
        import torch

        from fairslm.mitigation.inprocessing import sum_across_ranks

        logits = logits.float()
        y, group, weight = y.to(logits.device), group.to(logits.device), weight.to(logits.device)
        ce = torch.nn.functional.cross_entropy(logits, y, reduction="none")
        if self.across_ranks:
            sums = sum_across_ranks(torch.stack([(ce * weight).sum(), weight.sum().to(ce.dtype)]))
            task_loss = sums[0] / sums[1].clamp_min(1e-12)
        else:
            task_loss = (ce * weight).sum() / weight.sum().clamp_min(1e-12)
        p_pos = torch.softmax(logits, dim=-1)[:, self.pos_index]
        y_pos = (y == self.pos_index).long()
        out = StepLoss(total=task_loss, terms={"task_loss": task_loss})
        if self.penalty is not None:
            out.terms["penalty"] = self.penalty(p_pos, y_pos, group, weight)
        if self.lagrangian is not None:
            out.terms["constraint_penalty"] = self.lagrangian.penalty(p_pos, y_pos, group, weight)
        if self.adversary is not None:
            if self.needs_representation:
                if representation is None:
                    raise ConfigError("the adversary reads the representation; pass representation=")
                seen = representation
            else:
                seen = torch.log_softmax(logits, dim=-1)
            out.terms["adversary_loss"], out.adversary_accuracy = self.adversary.loss(
                seen, group, y=y, sample_weight=weight)
        for name, value in out.terms.items():
            if name != "task_loss":
                out.total = out.total + value
        return out
