"""Adversarial debiasing through a gradient-reversal layer.

An adversary head tries to predict the sensitive group from the model's pooled representation
(and, for equalized odds, also from the true label, as in Zhang, Lemoine & Mitchell, "Mitigating
Unwanted Biases with Adversarial Learning", AIES 2018). Between the representation and the
adversary sits a gradient-reversal layer (Ganin & Lempitsky, "Unsupervised Domain Adaptation by
Backpropagation", ICML 2015): identity forward, gradient times ``-alpha`` backward. One backward
pass of ``task_loss + adversary_loss`` then trains the adversary to find the group while pushing
the encoder to hide it.
"""

from __future__ import annotations

import functools
from typing import Any

from fairslm.exceptions import ConfigError
from fairslm.mitigation.inprocessing._ranks import sum_across_ranks

__all__ = ["ADVERSARY_CRITERIA", "build_adversary", "check_adversary_criterion", "grad_reverse"]

# Criterion -> whether the adversary also sees the true label. Seeing y, it can only profit from
# what the representation says about the group *beyond* the label, which is the equalized-odds
# notion of independence (Zhang et al. 2018, section 3); without y it targets statistical parity.
ADVERSARY_CRITERIA = {"statistical_parity": False, "equalized_odds": True, "equal_opportunity": True}


@functools.lru_cache(maxsize=1)
def _reversal() -> Any:
    import torch

    class _GradReverse(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, alpha: float) -> Any:
            ctx.alpha = alpha
            return x.view_as(x)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return -ctx.alpha * grad, None

    return _GradReverse


def grad_reverse(x: Any, alpha: float = 1.0) -> Any:
    """Identity on the forward pass; multiplies the gradient by ``-alpha`` on the backward pass.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> grad_reverse(x, 0.5).sum().backward()
    >>> x.grad.tolist()
    [-0.5, -0.5]
    """
    return _reversal().apply(x, float(alpha))


@functools.lru_cache(maxsize=1)
def _adversary_class() -> Any:
    import torch
    from torch import nn

    class Adversary(nn.Module):
        """MLP predicting the group from a representation, behind a gradient-reversal layer."""

        def __init__(self, n_features: int, n_groups: int, n_classes: int, use_label: bool,
                     hidden: int, alpha: float, across_ranks: bool = False) -> None:
            super().__init__()
            self.across_ranks = across_ranks
            self.n_groups = n_groups
            self.n_classes = n_classes
            self.use_label = use_label
            self.alpha = alpha
            width = n_features + (n_classes if use_label else 0)
            self.net = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, n_groups))

        def forward(self, representation: Any, y: Any = None) -> Any:
            h = grad_reverse(representation, self.alpha)
            if self.use_label:
                if y is None:
                    raise ConfigError("this adversary also needs the true labels y")
                onehot = torch.nn.functional.one_hot(y.long(), self.n_classes).to(h.dtype)
                h = torch.cat([h, onehot], dim=-1)
            return self.net(h)

        def loss(self, representation: Any, group: Any, y: Any = None,
                 sample_weight: Any = None) -> tuple[Any, float]:
            """Weighted cross-entropy of the group prediction, and the (weighted) share of rows
            whose group it finds."""
            logits = self(representation, y)
            ce = torch.nn.functional.cross_entropy(logits, group.long(), reduction="none")
            w = torch.ones_like(ce) if sample_weight is None else sample_weight.to(ce.dtype)
            hit = (logits.argmax(-1) == group).to(ce.dtype)
            sums = torch.stack([(ce * w).sum(), w.sum(), (hit * w).sum().detach()])
            if self.across_ranks:
                sums = sum_across_ranks(sums)
            value = sums[0] / sums[1].clamp_min(1e-12)
            return value, float((sums[2] / sums[1].clamp_min(1e-12)).detach())

    return Adversary


def check_adversary_criterion(criterion: str) -> None:
    """Refuse a criterion the adversary cannot act on, naming those it can."""
    from fairslm.mitigation.inprocessing._rates import criterion_not_trainable

    if criterion not in ADVERSARY_CRITERIA:
        raise ConfigError(f"{criterion_not_trainable(criterion, 'adversary criterion')}; the adversary "
                          f"can act on: {', '.join(sorted(ADVERSARY_CRITERIA))}")


def build_adversary(
    n_features: int,
    n_groups: int,
    *,
    criterion: str = "equalized_odds",
    n_classes: int = 2,
    hidden: int = 64,
    alpha: float = 1.0,
    across_ranks: bool = False,
) -> Any:
    """An adversary head (a ``torch.nn.Module``) ready to add to the training loss.

    Parameters
    ----------
    n_features : int
        Width of the representation it reads (the encoder's hidden size).
    n_groups : int
        Number of group codes it predicts.
    criterion : {"equalized_odds", "equal_opportunity", "statistical_parity"}
        ``statistical_parity`` reads the representation only; the others also read the true
        label (one-hot), following Zhang et al. (2018).
    hidden : int, default 64
        Width of its hidden layer; small, since it only needs to find a linear-ish signal.
    alpha : float, default 1.0
        Strength of the reversed gradient the encoder receives.
    across_ranks : bool, default False
        Under data parallelism, sum the loss and accuracy sums over all ranks, so each rank's
        loss is that of the whole batch (see
        :func:`~fairslm.mitigation.inprocessing.sum_across_ranks`).

    Returns
    -------
    torch.nn.Module
        With ``forward(representation, y=None) -> logits`` and
        ``loss(representation, group, y=None, sample_weight=None) -> (loss, accuracy)``.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> adv = build_adversary(4, 2, criterion="statistical_parity", hidden=3)
    >>> rep = torch.randn(5, 4, requires_grad=True)
    >>> loss, acc = adv.loss(rep, torch.tensor([0, 1, 0, 1, 1]))
    >>> loss.backward()  # rep.grad now points *against* the adversary
    >>> rep.grad.shape
    torch.Size([5, 4])
    """
    check_adversary_criterion(criterion)
    if int(n_groups) < 2:
        raise ConfigError(f"an adversary needs at least 2 groups; got {n_groups}")
    if float(alpha) < 0:
        raise ConfigError(f"adversary alpha must be >= 0; got {alpha}")
    cls = _adversary_class()
    return cls(int(n_features), int(n_groups), int(n_classes), ADVERSARY_CRITERIA[criterion],
               int(hidden), float(alpha), bool(across_ranks))
