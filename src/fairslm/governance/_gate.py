"""The release gate: does a model's latest recorded audit meet the policy?"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from fairslm.audit import CriterionResult, GroupView
from fairslm.governance._due import open_history, resolve_policy
from fairslm.governance._history import HistoryStore
from fairslm.governance._policy import AuditPolicy
from fairslm.metrics import fold_ratio

__all__ = ["GateCheck", "GateResult", "gate"]

_UNDECIDED = ("insufficient", "undefined")


@dataclass(frozen=True)
class GateCheck:
    """One criterion in one view of the audit, judged against the policy's threshold.

    ``verdict`` is ``"pass"``, ``"fail"``, ``"insufficient"``, ``"undefined"`` or ``"missing"``
    (the audit did not measure the criterion); ``blocks`` says whether it stops the release.
    """

    criterion: str
    view: str
    ratio: float | None
    threshold: float
    verdict: str
    blocks: bool
    failing_groups: tuple[str, ...]
    reading: str


@dataclass(frozen=True)
class GateResult:
    """The gate's decision on the latest audit of ``model``."""

    model: str
    audit_id: int
    recorded_at: datetime
    checks: tuple[GateCheck, ...]
    problems: tuple[str, ...]

    @property
    def blocking(self) -> tuple[GateCheck, ...]:
        """The checks that stop the release."""
        return tuple(c for c in self.checks if c.blocks)

    @property
    def passed(self) -> bool:
        """Whether the release may go ahead: nothing blocks (the policy's ``on_undecided``
        says whether a criterion that could not be judged blocks)."""
        return not self.blocking and not self.problems

    @property
    def verdict(self) -> str:
        """``"fail"`` when a criterion fails, is missing or a problem blocks;
        ``"insufficient"`` when none fails but one could not be judged (whether that blocks
        is the policy's ``on_undecided``); ``"pass"`` when every criterion was judged and
        passed. No evidence never reads as a pass, even when the policy lets it through."""
        if self.problems or any(c.verdict in ("fail", "missing") for c in self.checks):
            return "fail"
        if any(c.verdict in _UNDECIDED for c in self.checks):
            return "insufficient"
        return "pass"


def _failing_groups(view: GroupView, crit: CriterionResult, threshold: float) -> tuple[str, ...]:
    """Groups large enough to count whose folded ratio is below ``threshold``.

    The same rule as the audit's, applied at the policy's threshold (which may differ from the
    one the audit ran with).
    """
    sufficient = {g.label for g in view.groups if g.sufficient}
    failing: set[str] = set()
    for metric in crit.metrics:
        disp = view.disparities.get(metric)
        if disp is None or not disp.by_group:
            return tuple(crit.failing_groups)
        labels = [lab for lab in disp.by_group if lab in sufficient]
        ratios = np.array([float(disp.by_group[lab].get("ratio", np.nan)) for lab in labels])
        folded = fold_ratio(ratios)
        failing.update(lab for lab, r in zip(labels, folded, strict=True) if r < threshold)
    return tuple(sorted(failing))


def _view_name(view: GroupView) -> str:
    return view.name if view.label is None else f"{view.name} (class {view.label})"


def gate(
    policy: AuditPolicy | str | os.PathLike[str] | None = None,
    history: HistoryStore | str | os.PathLike[str] | None = None,
    *,
    model: str,
) -> GateResult:
    """Check the latest recorded audit of ``model`` against the policy.

    Every criterion of the policy must be measured by the audit and reach its threshold in
    every view (each feature and their intersection); one that cannot be judged blocks unless
    the policy says ``on_undecided = "pass"``. An audit run with a smaller ``min_group_size``
    than the policy's is a problem that blocks too.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> from fairslm import audit_predictions
    >>> y = [1, 1, 0, 0] * 10
    >>> res = audit_predictions(y, y, sensitive_features=["a", "b"] * 20, min_group_size=10)
    >>> store = HistoryStore(pathlib.Path(tmp.name) / "h.db")
    >>> _ = store.record(res, model="m")
    >>> result = gate(AuditPolicy(min_group_size=10), store, model="m")
    >>> result.passed
    True
    >>> tmp.cleanup()
    """
    pol = resolve_policy(policy)
    store = open_history(history)
    record = store.latest(model)
    audit = store.result(record.id)
    checks: list[GateCheck] = []
    for name in pol.criteria:
        threshold = pol.threshold_for(name)
        found = False
        for view in audit.views:
            crit = next((c for c in view.criteria if c.name == name), None)
            if crit is None:
                continue
            found = True
            ratio = None if math.isnan(crit.ratio) else crit.ratio
            if crit.verdict in _UNDECIDED:
                checks.append(GateCheck(
                    criterion=name, view=_view_name(view), ratio=ratio, threshold=threshold,
                    verdict=crit.verdict, blocks=pol.on_undecided == "fail", failing_groups=(),
                    reading=crit.reading,
                ))
                continue
            verdict = "pass" if ratio is not None and ratio >= threshold else "fail"
            groups = _failing_groups(view, crit, threshold) if verdict == "fail" else ()
            reading = (
                f"ratio {crit.ratio:.3f} reaches the policy's {threshold:g}"
                if verdict == "pass"
                else f"ratio {crit.ratio:.3f} is below the policy's {threshold:g}; "
                f"failing groups: {', '.join(groups) or 'none named'} "
                f"(reference {crit.reference})"
            )
            checks.append(GateCheck(
                criterion=name, view=_view_name(view), ratio=ratio, threshold=threshold,
                verdict=verdict, blocks=verdict == "fail", failing_groups=groups, reading=reading,
            ))
        if not found:
            checks.append(GateCheck(
                criterion=name, view="-", ratio=None, threshold=threshold, verdict="missing",
                blocks=True, failing_groups=(),
                reading=f"not measured by audit #{record.id}; audit with the policy's criteria",
            ))
    problems = []
    used = audit.options.get("min_group_size")
    if used is not None and int(used) < pol.min_group_size:
        problems.append(
            f"audit #{record.id} used min_group_size={used}, below the policy's "
            f"{pol.min_group_size}: small groups may have decided its verdicts; re-run the "
            "audit with the policy's settings"
        )
    return GateResult(
        model=model, audit_id=record.id, recorded_at=record.recorded_at, checks=tuple(checks),
        problems=tuple(problems),
    )
