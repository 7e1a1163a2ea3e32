"""A differentiable fairness penalty on soft group rates, smoothed by running estimates."""

from __future__ import annotations

from typing import Any

from fairslm.exceptions import ConfigError
from fairslm.mitigation.inprocessing._ranks import sum_across_ranks
from fairslm.mitigation.inprocessing._rates import group_rate_sums, metrics_for

__all__ = ["FairnessPenalty"]


class FairnessPenalty:
    """Penalty on the spread of soft group rates for one fairness criterion.

    For every rate ``r`` the criterion compares (selection rate for statistical parity, TPR for
    equal opportunity, TPR and FPR for equalized odds) the penalty is

    ``weight * sum_g (r_g - mean_h r_h) ** 2``

    over the groups seen so far, where ``r_g`` is the soft rate (mean probability of the
    positive class) of group g. This is the squared-gap relaxation of the demographic-parity and
    equal-opportunity constraints (Zafar et al., "Fairness Constraints", AISTATS 2017; Donini et
    al., "Empirical Risk Minimization under Fairness Constraints", NeurIPS 2018).

    **Running estimates.** A batch holds few rows of a small group, so its batch rate is noisy.
    The value of each ``r_g`` is therefore a running (exponentially weighted) estimate over past
    batches including this one, while its gradient is the gradient of this batch's soft rate:
    ``r_g = r_g^running + (r_g^batch - stopgrad(r_g^batch))``. The penalty's gradient is thus
    ``2 (r_g^running - mean) * d r_g^batch``: the direction comes from the batch, the size of the
    gap from a window of about ``1 / (1 - momentum)`` batches.

    Parameters
    ----------
    criterion : str
        ``"statistical_parity"``, ``"equal_opportunity"``, ``"equalized_odds"`` or a rate name
        (``"selection_rate"``, ``"true_positive_rate"``, ``"false_positive_rate"``).
    n_groups : int
        Number of group codes.
    weight : float, default 1.0
        Multiplier of the penalty in the training loss.
    momentum : float, default 0.9
        Decay of the running sums; 0 uses the batch alone. 0.9 averages over ~10 batches, enough
        to hold a few dozen rows of a group that is 5% of the data at batch size 32.
    across_ranks : bool, default False
        Under data parallelism, sum the per-group sums over all ranks before forming rates, so
        each rank's shard adds to the rates of the whole batch (see
        :func:`~fairslm.mitigation.inprocessing.sum_across_ranks`). Every rank must then call
        the penalty on every step.

    Examples
    --------
    >>> import torch
    >>> pen = FairnessPenalty("statistical_parity", n_groups=2, momentum=0.0)
    >>> p = torch.tensor([0.8, 0.6, 0.2, 0.4], requires_grad=True)
    >>> loss = pen(p, torch.tensor([1, 0, 1, 0]), torch.tensor([0, 0, 1, 1]))
    >>> round(loss.item(), 6)  # rates 0.7 and 0.3 around a mean of 0.5
    0.08
    """

    def __init__(
        self, criterion: str, *, n_groups: int, weight: float = 1.0, momentum: float = 0.9,
        across_ranks: bool = False,
    ) -> None:
        self.criterion = criterion
        self.metrics = metrics_for(criterion)
        if int(n_groups) < 2:
            raise ConfigError(f"a fairness penalty needs at least 2 groups; got {n_groups}")
        if not 0.0 <= float(momentum) < 1.0:
            raise ConfigError(f"momentum must be in [0, 1); got {momentum}")
        if float(weight) < 0:
            raise ConfigError(f"penalty weight must be >= 0; got {weight}")
        self.n_groups = int(n_groups)
        self.weight = float(weight)
        self.momentum = float(momentum)
        self.across_ranks = bool(across_ranks)
        self._num: dict[str, list[float]] = {m: [0.0] * self.n_groups for m in self.metrics}
        self._den: dict[str, list[float]] = {m: [0.0] * self.n_groups for m in self.metrics}
        self.last_rates: dict[str, list[float]] = {}

    def __call__(
        self, score: Any, y_true: Any, group: Any, sample_weight: Any = None
    ) -> Any:
        """Penalty for one batch (a scalar tensor); also updates the running estimates."""
        import torch

        total = torch.zeros((), dtype=torch.float32, device=score.device)
        sums = [t for m in self.metrics
                for t in group_rate_sums(score, y_true, group, self.n_groups, m, sample_weight)]
        if self.across_ranks:
            sums = list(sum_across_ranks(torch.stack(sums)).unbind(0))
        for k, m in enumerate(self.metrics):
            num, den = sums[2 * k], sums[2 * k + 1]
            run_num = torch.tensor(self._num[m], device=score.device) * self.momentum + num.detach()
            run_den = torch.tensor(self._den[m], device=score.device) * self.momentum + den.detach()
            self._num[m] = run_num.tolist()
            self._den[m] = run_den.tolist()
            seen = run_den > 0
            running = torch.where(seen, run_num / run_den.clamp_min(1e-12), torch.zeros_like(run_num))
            batch = torch.where(den > 0, num / den.clamp_min(1e-12), torch.zeros_like(num))
            rate = running + (batch - batch.detach())
            self.last_rates[m] = [float(v) if s else float("nan") for v, s in zip(running.tolist(), seen.tolist(), strict=True)]
            if int(seen.sum()) < 2:
                continue
            r = rate[seen]
            total = total + ((r - r.mean()) ** 2).sum()
        return total * self.weight

    def state_dict(self) -> dict[str, Any]:
        """The running sums, JSON-serialisable, for checkpoints."""
        return {"num": {k: list(v) for k, v in self._num.items()},
                "den": {k: list(v) for k, v in self._den.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore running sums saved by :meth:`state_dict`."""
        self._num = {k: [float(x) for x in v] for k, v in state["num"].items()}
        self._den = {k: [float(x) for x in v] for k, v in state["den"].items()}
