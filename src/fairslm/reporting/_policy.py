"""A report's policy read on an audit: which views it covers, the worst value of a criterion
across them, and the verdict.

The report document and its HTML page both read the audits through these functions, on the
typed :class:`~fairslm.audit.AuditResult`, so the two agree on which views count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fairslm.audit import AuditResult, CriterionResult, GroupView

__all__ = ["as_audit", "number", "policy_verdict", "policy_views", "worst_criterion"]


def number(x: Any) -> float | None:
    """A float, or None where it is missing or NaN (how the report document writes NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return x  # type: ignore[no-any-return]


def as_audit(audit: AuditResult | Mapping[str, Any]) -> AuditResult:
    """The typed audit of an :class:`AuditResult` or of its JSON form."""
    return audit if isinstance(audit, AuditResult) else AuditResult.from_dict(dict(audit))


def policy_views(audit: AuditResult, which: Any) -> list[GroupView]:
    """The views a policy covers: ``"all"``, ``"marginal"`` (the single-feature views, or every
    view when there are none) or a list of view names."""
    views = list(audit.views)
    if which == "marginal":
        return [v for v in views if len(v.features) == 1] or views
    if which != "all":
        names = set(which)
        return [v for v in views if v.name in names]
    return views


def worst_criterion(audit: AuditResult, name: str, which: Any) -> tuple[GroupView, CriterionResult] | None:
    """The view and result of criterion ``name`` with the worst verdict, then lowest ratio."""
    found = [(v, c) for v in policy_views(audit, which) for c in v.criteria if c.name == name]
    if not found:
        return None
    order = {"fail": 0, "pass": 1}
    return min(found, key=lambda vc: (order.get(vc[1].verdict, 2),
                                      r if (r := number(vc[1].ratio)) is not None else 9.0))


def policy_verdict(audit: AuditResult | Mapping[str, Any], policy: Mapping[str, Any]) -> dict[str, Any]:
    """Judge one audit (an :class:`AuditResult` or its dict) against a policy.

    ``policy`` holds ``criteria`` (names), ``views`` (``"all"``, ``"marginal"`` for the
    single-feature views, or a list of view names). Returns ``{"verdict", "failing", "worst"}``;
    a criterion that is insufficient or undefined does not fail the policy but is listed
    under ``"not_judged"``. The verdict is ``"fail"`` when a criterion fails, ``"pass"`` when
    none fails and one passes, ``"insufficient"`` when none could be judged. A pass whose ratio
    interval reaches below the threshold is listed under ``"thin"``: the estimate passes, but
    the data cannot rule out a fail at that confidence; ``"without_interval"`` counts passes
    the audit gave no interval.
    """
    criteria = list(policy.get("criteria") or [])
    failing: list[dict[str, Any]] = []
    not_judged: list[dict[str, Any]] = []
    judged: list[dict[str, Any]] = []
    thin: list[dict[str, Any]] = []
    unbounded = 0  # passes without an interval
    for v in policy_views(as_audit(audit), policy.get("views", "marginal")):
        for c in v.criteria:
            if criteria and c.name not in criteria:
                continue
            interval = None if c.ratio_interval is None else [number(x) for x in c.ratio_interval]
            row = {"view": v.name, "criterion": c.name, "ratio": number(c.ratio),
                   "worst_group": c.worst_group, "verdict": c.verdict, "interval": interval}
            low = None if interval is None else interval[0]
            if c.verdict == "pass" and low is None:
                unbounded += 1
            elif c.verdict == "pass" and low is not None and low < c.threshold:
                thin.append(row)
            if c.verdict == "fail":
                failing.append(row)
            elif c.verdict != "pass":
                not_judged.append(row)
            if c.verdict in ("pass", "fail") and row["ratio"] is not None:
                judged.append(row)
    worst = min(judged, key=lambda r: min(r["ratio"], 1 / r["ratio"]) if r["ratio"] else 0.0,
                default=None)
    verdict = "fail" if failing else ("pass" if judged else "insufficient")
    return {"verdict": verdict, "failing": failing, "not_judged": not_judged, "worst": worst,
            "thin": thin, "without_interval": unbounded}
