"""Model selection among checkpoints: the most accurate one that meets the fairness targets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Candidate", "Selector", "violation"]


@dataclass(frozen=True)
class Candidate:
    """One evaluation of the model on validation data."""

    step: int
    accuracy: float
    constraints: dict[str, float] = field(default_factory=dict)
    feasible: bool | None = None
    violation: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "accuracy": self.accuracy, "constraints": dict(self.constraints),
                "feasible": self.feasible, "violation": self.violation}


class Selector:
    """Keeps the most accurate candidate that meets the constraints.

    When no candidate meets them, the one with the smallest total violation is kept (ties go to
    accuracy) and :attr:`feasible` is False, so the caller can report that none did. Without
    constraints the last candidate is kept.
    """

    def __init__(self, has_constraints: bool) -> None:
        self.has_constraints = has_constraints
        self.candidates: list[Candidate] = []
        self.best: Candidate | None = None

    def _key(self, c: Candidate) -> tuple[float, ...]:
        if not self.has_constraints:
            return (c.step,)
        return (1.0 if c.feasible else 0.0, c.accuracy if c.feasible else -c.violation,
                c.accuracy, -c.step)

    def offer(self, c: Candidate) -> bool:
        """Record a candidate; True when it becomes the one to keep."""
        self.candidates.append(c)
        if self.best is None or self._key(c) > self._key(self.best):
            self.best = c
            return True
        return False

    @property
    def feasible(self) -> bool | None:
        if not self.has_constraints or self.best is None:
            return None
        return bool(self.best.feasible)

    def state(self) -> dict[str, Any]:
        return {"candidates": [c.to_dict() for c in self.candidates],
                "best": None if self.best is None else self.best.step}

    def load(self, state: dict[str, Any]) -> None:
        self.candidates = [Candidate(**c) for c in state["candidates"]]
        self.best = next((c for c in self.candidates if c.step == state["best"]), None)


def violation(values: dict[str, float], targets: Sequence[Any]) -> float:
    """Total shortfall of measured values against their targets (0 when all are met)."""
    total = 0.0
    for c in targets:
        v = values.get(str(c), float("nan"))
        if math.isnan(v):
            total += 1.0
        elif c.kind == "ratio":
            total += max(0.0, c.target - v)
        else:
            total += max(0.0, v - c.target)
    return total
