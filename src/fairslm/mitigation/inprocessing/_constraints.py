"""Fairness constraints with targets, enforced by a proxy-Lagrangian game.

The user states a target ("equal_opportunity ratio >= 0.9") instead of a penalty weight. Each
target becomes linear constraints on group rates: for a ratio target ``tau`` and every ordered
pair of groups (a, b), ``tau * r_b - r_a <= 0`` (so ``min r / max r >= tau``); for a difference
target ``delta``, ``r_a - r_b - delta <= 0``. Training plays the two-player game of Cotter, Jiang
& Sridharan, "Two-Player Games for Efficient Non-Convex Constrained Optimization" (ALT 2019):

* the model player minimises ``loss + sum_k lambda_k * g_k(soft rates)``, where the soft rates
  (mean probabilities) are a differentiable *proxy* for the constraints;
* the multiplier player sees the *hard* constraint values, measured on counted decisions on
  held-out batches, and does projected gradient ascent
  ``lambda_k <- clip(lambda_k + eta * g_k(hard rates), 0, lambda_max)``.

Measuring the multiplier player's constraints on rows the model does not train on follows
Cotter et al., "Training Well-Generalizing Classifiers for Fairness Metrics and Other
Data-Dependent Constraints" (ICML 2019).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.mitigation.inprocessing._ranks import sum_across_ranks
from fairslm.mitigation.inprocessing._rates import group_rate_sums, metrics_for

__all__ = ["ProxyLagrangian", "RateConstraint", "check_support"]

_PATTERN = re.compile(
    r"^\s*(?P<metric>[A-Za-z_]+)\s+(?P<kind>ratio|difference)\s*(?P<op>>=|<=)\s*"
    r"(?P<target>[-+0-9.eE]+)\s*(?:(?:for|between)\s+(?P<groups>.+?))?\s*$"
)


@dataclass(frozen=True)
class RateConstraint:
    """A fairness target: ``<metric> ratio >= tau`` or ``<metric> difference <= delta``.

    Parameters
    ----------
    metric : str
        A criterion (``statistical_parity``, ``equal_opportunity``, ``equalized_odds``) or a
        rate (``selection_rate``, ``true_positive_rate``, ``false_positive_rate``).
    kind : {"ratio", "difference"}
        Ratio of the smallest to the largest group rate (as the audit's ``min_max``
        reference), or largest minus smallest.
    target : float
        In (0, 1]: the lowest allowed ratio, or the largest allowed difference.
    groups : tuple of str, optional
        Group labels the constraint compares; all groups when omitted.

    Examples
    --------
    >>> RateConstraint.parse("equal_opportunity ratio >= 0.9")
    RateConstraint(metric='equal_opportunity', kind='ratio', target=0.9, groups=None)
    >>> RateConstraint.parse("statistical_parity difference <= 0.05 for F, M").groups
    ('F', 'M')
    """

    metric: str
    kind: str
    target: float
    groups: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        metrics_for(self.metric)
        if self.kind not in ("ratio", "difference"):
            raise ConfigError(f"constraint kind must be 'ratio' or 'difference'; got {self.kind!r}")
        t = float(self.target)
        if not (math.isfinite(t) and 0.0 < t <= 1.0):
            raise ConfigError(
                f"constraint target must be in (0, 1] (e.g. ratio >= 0.8, difference <= 0.05); "
                f"got {self.target} in '{self}'"
            )
        if self.groups is not None and len(self.groups) < 2:
            raise ConfigError(f"a constraint compares at least 2 groups; got {list(self.groups)}")

    def __str__(self) -> str:
        op = ">=" if self.kind == "ratio" else "<="
        tail = f" for {', '.join(self.groups)}" if self.groups else ""
        return f"{self.metric} {self.kind} {op} {self.target:g}{tail}"

    @classmethod
    def parse(cls, text: str) -> RateConstraint:
        """Read ``"<metric> ratio >= <t> [for A, B]"`` or ``"<metric> difference <= <t>"``."""
        m = _PATTERN.match(text)
        if m is None:
            raise ConfigError(
                f"cannot read the constraint {text!r}; write it as "
                "'equal_opportunity ratio >= 0.9' or 'statistical_parity difference <= 0.05', "
                "optionally followed by 'for GROUP_A, GROUP_B'"
            )
        kind, op = m["kind"], m["op"]
        if (kind == "ratio") != (op == ">="):
            want = ">=" if kind == "ratio" else "<="
            raise ConfigError(f"a {kind} constraint is a bound '{kind} {want} t'; got {text!r}")
        try:
            target = float(m["target"])
        except ValueError:
            raise ConfigError(f"the target in {text!r} is not a number") from None
        groups = None
        if m["groups"]:
            groups = tuple(g.strip() for g in m["groups"].split(",") if g.strip())
        return cls(metric=m["metric"], kind=kind, target=target, groups=groups)

    @property
    def rates(self) -> tuple[str, ...]:
        """The rates this constraint bounds."""
        return metrics_for(self.metric)


def _as_constraint(c: RateConstraint | str) -> RateConstraint:
    return c if isinstance(c, RateConstraint) else RateConstraint.parse(str(c))


def check_support(
    metrics: Sequence[str],
    y_true: Any,
    group: Any,
    group_labels: Sequence[str],
    *,
    groups: Sequence[int] | None = None,
    positive_name: str = "the positive class",
) -> None:
    """Raise :class:`InvalidDataError` when a constrained group has no rows a rate needs.

    A group with no actual positives has no true positive rate, so equal opportunity cannot be
    trained for it; likewise no negatives for the false positive rate.

    Examples
    --------
    >>> check_support(["true_positive_rate"], [1, 0, 0], [0, 0, 1], ["M", "F"])
    Traceback (most recent call last):
    ...
    fairslm.exceptions.InvalidDataError: group 'F' has no rows with true label the positive class in the training data, so its true positive rate is undefined and cannot be constrained or penalised; drop 'true_positive_rate'-based fairness for it, merge it with another group, or add examples
    """
    import numpy as np

    y = np.asarray(y_true).astype(int)
    g = np.asarray(group).astype(int)
    idx = range(len(group_labels)) if groups is None else groups
    for m in metrics:
        if m == "selection_rate":
            need = np.ones_like(y, dtype=bool)
            what = "rows"
        elif m == "true_positive_rate":
            need = y == 1
            what = f"rows with true label {positive_name}"
        else:
            need = y == 0
            what = f"rows with true label other than {positive_name}"
        for i in idx:
            if not np.any(need & (g == i)):
                raise InvalidDataError(
                    f"group '{group_labels[i]}' has no {what} in the training data, so its "
                    f"{m.replace('_', ' ')} is undefined and cannot be constrained or penalised; "
                    f"drop '{m}'-based fairness for it, merge it with another group, or add examples"
                )


@dataclass(frozen=True)
class _Term:
    constraint: int
    metric: str
    a: int
    b: int

    def name(self, labels: Sequence[str]) -> str:
        return f"{self.metric}:{labels[self.a]}/{labels[self.b]}"


class ProxyLagrangian:
    """Lagrange multipliers for fairness targets, trained as a proxy-Lagrangian game.

    Parameters
    ----------
    constraints : sequence of RateConstraint or str
        Targets such as ``"equal_opportunity ratio >= 0.9"``.
    group_labels : sequence of str
        Label of each group code; constraints may name a subset of them.
    multiplier_lr : float, default 1.0
        Step ``eta`` of the multipliers' ascent. A violation of 0.1 raises lambda by 0.1 per
        update, so a persistent violation weighs as much as the task loss within ~10 updates.
    max_multiplier : float, default 100.0
        Upper bound on each multiplier (the projection of the ascent), which keeps one bad
        held-out batch from dominating training.
    momentum : float, default 0.0
        Decay of the held-out decision counts between updates: 0 measures each update's rows
        alone; 0.9 measures a window of about 10 updates, which a small group needs.
    across_ranks : bool, default False
        Under data parallelism, sum the per-group sums of :meth:`penalty` and :meth:`update`
        over all ranks before forming rates, so every rank measures the whole batch and holds
        the same multipliers (see :func:`~fairslm.mitigation.inprocessing.sum_across_ranks`).
        Every rank must then call both on the same steps. :meth:`evaluate` measures the rows it
        is given.

    Examples
    --------
    >>> import torch
    >>> lag = ProxyLagrangian(["equal_opportunity ratio >= 0.9"], ["F", "M"])
    >>> y, g = torch.tensor([1, 1, 1, 1]), torch.tensor([0, 0, 1, 1])
    >>> values = lag.update(torch.tensor([1, 0, 1, 1]), y, g)  # TPR 0.5 vs 1.0
    >>> values["equal_opportunity ratio >= 0.9"]
    0.5
    >>> lag.multipliers
    {'true_positive_rate:F/M': 0.4, 'true_positive_rate:M/F': 0.0}
    """

    def __init__(
        self,
        constraints: Sequence[RateConstraint | str],
        group_labels: Sequence[str],
        *,
        multiplier_lr: float = 1.0,
        max_multiplier: float = 100.0,
        momentum: float = 0.0,
        across_ranks: bool = False,
    ) -> None:
        self.constraints = [_as_constraint(c) for c in constraints]
        if not self.constraints:
            raise ConfigError("ProxyLagrangian needs at least one constraint")
        self.group_labels = [str(x) for x in group_labels]
        if len(self.group_labels) < 2:
            raise ConfigError(f"fairness constraints need at least 2 groups; got {self.group_labels}")
        if float(multiplier_lr) <= 0 or float(max_multiplier) <= 0:
            raise ConfigError("multiplier_lr and max_multiplier must be > 0")
        if not 0.0 <= float(momentum) < 1.0:
            raise ConfigError(f"momentum must be in [0, 1); got {momentum}")
        self.momentum = float(momentum)
        self.across_ranks = bool(across_ranks)
        self._hard: dict[str, list[list[float]]] = {}
        self.multiplier_lr = float(multiplier_lr)
        self.max_multiplier = float(max_multiplier)
        self.group_index: list[tuple[int, ...]] = []
        self._terms: list[_Term] = []
        for ci, c in enumerate(self.constraints):
            if c.groups is None:
                idx = tuple(range(len(self.group_labels)))
            else:
                missing = [g for g in c.groups if g not in self.group_labels]
                if missing:
                    raise ConfigError(
                        f"constraint '{c}' names group(s) {missing} that do not exist; "
                        f"groups are: {', '.join(self.group_labels)}"
                    )
                idx = tuple(self.group_labels.index(g) for g in c.groups)
            self.group_index.append(idx)
            for m in c.rates:
                for a in idx:
                    for b in idx:
                        if a != b:  # ordered pairs: both directions are bounded
                            self._terms.append(_Term(ci, m, a, b))
        self._lambda = [0.0] * len(self._terms)
        self.last_values: dict[str, float] = {}

    @property
    def multipliers(self) -> dict[str, float]:
        """Current multiplier of each linear constraint, by ``metric:groupA/groupB``."""
        return {t.name(self.group_labels): round(v, 12) for t, v in zip(self._terms, self._lambda, strict=True)}

    def _g(self, term: _Term, rates: dict[str, Any]) -> Any:
        c = self.constraints[term.constraint]
        r = rates[term.metric]
        if c.kind == "ratio":
            return c.target * r[term.b] - r[term.a]
        return r[term.a] - r[term.b] - c.target

    def _sums(self, score: Any, y_true: Any, group: Any, sample_weight: Any,
              across_ranks: bool) -> dict[str, tuple[Any, Any]]:
        """(numerator, denominator) per group of each rate the terms use, in a fixed order (every
        rank must reduce the same tensors in the same order)."""
        import torch

        n = len(self.group_labels)
        metrics = list(dict.fromkeys(t.metric for t in self._terms))
        sums = [t for m in metrics for t in group_rate_sums(score, y_true, group, n, m, sample_weight)]
        if across_ranks:
            sums = list(sum_across_ranks(torch.stack(sums)).unbind(0))
        return {m: (sums[2 * k], sums[2 * k + 1]) for k, m in enumerate(metrics)}

    def _rates(self, score: Any, y_true: Any, group: Any, sample_weight: Any,
               across_ranks: bool = False) -> tuple[dict, dict]:
        sums = self._sums(score, y_true, group, sample_weight, across_ranks)
        rates = {m: num / den.clamp_min(1e-12) for m, (num, den) in sums.items()}
        return rates, {m: den for m, (_, den) in sums.items()}

    def penalty(self, score: Any, y_true: Any, group: Any, sample_weight: Any = None) -> Any:
        """The model player's term ``sum_k lambda_k g_k(soft rates)`` for one batch."""
        import torch

        total = torch.zeros((), dtype=torch.float32, device=score.device)
        if not any(self._lambda):
            return total
        rates, dens = self._rates(score, y_true, group, sample_weight, self.across_ranks)
        for t, lam in zip(self._terms, self._lambda, strict=True):
            d = dens[t.metric]
            if lam == 0.0 or d[t.a] <= 0 or d[t.b] <= 0:
                continue
            total = total + lam * self._g(t, rates)
        return total

    def update(self, y_pred: Any, y_true: Any, group: Any, sample_weight: Any = None) -> dict[str, float]:
        """Dual ascent on hard constraint values measured from decisions ``y_pred`` (0/1).

        Returns the measured value of each constraint (its ratio or difference) by name.
        Terms whose groups have no eligible rows here leave their multiplier unchanged.
        """
        import torch

        score = torch.as_tensor(y_pred).to(torch.float64)
        n = len(self.group_labels)
        rates, dens = {}, {}
        for m, (num, den) in self._sums(score, y_true, group, sample_weight, self.across_ranks).items():
            prev_num, prev_den = self._hard.get(m, [[0.0] * n, [0.0] * n])
            num = num + self.momentum * torch.tensor(prev_num, dtype=num.dtype)
            den = den + self.momentum * torch.tensor(prev_den, dtype=den.dtype)
            self._hard[m] = [num.tolist(), den.tolist()]
            rates[m] = num / den.clamp_min(1e-12)
            dens[m] = den
        for k, t in enumerate(self._terms):
            d = dens[t.metric]
            if d[t.a] <= 0 or d[t.b] <= 0:
                continue
            g = float(self._g(t, rates))
            self._lambda[k] = min(max(self._lambda[k] + self.multiplier_lr * g, 0.0), self.max_multiplier)
        self.last_values = self.measure(rates, dens)
        return dict(self.last_values)

    def measure(self, rates: dict[str, Any], dens: dict[str, Any]) -> dict[str, float]:
        """Each constraint's ratio (min/max) or difference (max-min) from group rates."""
        out: dict[str, float] = {}
        for ci, c in enumerate(self.constraints):
            vals = []
            for m in c.rates:
                rs = [float(rates[m][i]) for i in self.group_index[ci] if float(dens[m][i]) > 0]
                if len(rs) < 2:
                    vals.append(float("nan"))
                elif c.kind == "ratio":
                    hi = max(rs)
                    vals.append(min(rs) / hi if hi > 0 else 1.0)
                else:
                    vals.append(max(rs) - min(rs))
            worst = [v for v in vals if not math.isnan(v)]
            if not worst:
                out[str(c)] = float("nan")
            else:
                out[str(c)] = min(worst) if c.kind == "ratio" else max(worst)
        return out

    def evaluate(self, y_pred: Any, y_true: Any, group: Any, sample_weight: Any = None) -> dict[str, float]:
        """Measured constraint values from hard decisions, without touching the multipliers."""
        import torch

        score = torch.as_tensor(y_pred).to(torch.float64)
        rates, dens = self._rates(score, torch.as_tensor(y_true), torch.as_tensor(group), sample_weight)
        return self.measure(rates, dens)

    def satisfied(self, values: dict[str, float]) -> bool:
        """Whether measured values (from :meth:`evaluate`) meet every target."""
        for c in self.constraints:
            v = values.get(str(c), float("nan"))
            if math.isnan(v):
                return False
            if (c.kind == "ratio" and v < c.target - 1e-12) or (c.kind == "difference" and v > c.target + 1e-12):
                return False
        return True

    def check_support(self, y_true: Any, group: Any, *, positive_name: str = "the positive class") -> None:
        """Refuse training data where a constrained group lacks the rows its rate needs."""
        for ci, c in enumerate(self.constraints):
            check_support(c.rates, y_true, group, self.group_labels, groups=self.group_index[ci],
                          positive_name=positive_name)

    def state_dict(self) -> dict[str, Any]:
        """Multipliers, JSON-serialisable, for checkpoints."""
        return {"multipliers": list(self._lambda), "hard_counts": dict(self._hard)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore multipliers saved by :meth:`state_dict`."""
        lam = [float(v) for v in state["multipliers"]]
        if len(lam) != len(self._terms):
            raise ConfigError("checkpoint multipliers do not match these constraints")
        self._lambda = lam
        self._hard = {k: [list(map(float, v[0])), list(map(float, v[1]))]
                      for k, v in state.get("hard_counts", {}).items()}

