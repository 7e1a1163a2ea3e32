"""The audit's canonical artefact: a frozen, versioned, JSON-serialisable :class:`AuditResult`.

The JSON form is the contract: reports, history and the CLI only read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from fairslm._artifact import JsonArtifact, check_kind_version, float_or_nan

__all__ = [
    "AUDIT_SCHEMA_VERSION",
    "AuditResult",
    "CriterionResult",
    "DisparityResult",
    "GroupResult",
    "GroupView",
    "audit_json_schema",
]

AUDIT_SCHEMA_VERSION = "1.2"  # 1.1: intervals, tests, score metrics, multiclass views; 1.2: verdict


def audit_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that :meth:`AuditResult.to_dict` output follows.

    Examples
    --------
    >>> audit_json_schema()["properties"]["kind"]
    {'const': 'fairslm.audit'}
    """
    text = (Path(__file__).with_name("audit.schema.json")).read_text(encoding="utf-8")
    return dict(json.loads(text))


def _by_group_value(v: Any) -> Any:
    """A per-group disparity entry read back from JSON: null -> NaN, intervals stay lists."""
    if v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)):
        return float_or_nan(v)
    if isinstance(v, list):
        return [float_or_nan(x) for x in v]
    return v


@dataclass(frozen=True)
class GroupResult:
    """One group's counts, rates and intervals."""

    label: str
    values: dict[str, Any]
    count: int
    share: float
    weight: float
    sufficient: bool
    metrics: dict[str, float]
    undefined: dict[str, str] = field(default_factory=dict)
    confusion: dict[str, float] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class DisparityResult:
    """A metric compared across groups against a reference."""

    metric: str
    reference: str | None
    reference_value: float
    ratio: float
    difference: float
    worst_group: str | None
    by_group: dict[str, dict[str, Any]] = field(default_factory=dict)
    ratio_interval: tuple[float, float] | None = None
    difference_interval: tuple[float, float] | None = None


@dataclass(frozen=True)
class CriterionResult:
    """A named fairness criterion with its verdict against the policy threshold."""

    name: str
    metrics: tuple[str, ...]
    ratio: float
    difference: float
    threshold: float
    verdict: str  # "pass" | "fail" | "insufficient" | "undefined"
    reference: str | None
    worst_group: str | None
    failing_groups: tuple[str, ...]
    reading: str
    ratio_interval: tuple[float, float] | None = None
    difference_interval: tuple[float, float] | None = None


@dataclass(frozen=True)
class GroupView:
    """All results for one way of grouping rows (one feature, or an intersection)."""

    name: str
    features: tuple[str, ...]
    groups: tuple[GroupResult, ...]
    disparities: dict[str, DisparityResult]
    criteria: tuple[CriterionResult, ...]
    label: str | None = None  # the class audited one-vs-rest, for multiclass tasks

    def group(self, label: str) -> GroupResult:
        for g in self.groups:
            if g.label == label:
                return g
        raise KeyError(f"no group {label!r}; groups are {[g.label for g in self.groups]}")

    def criterion(self, name: str) -> CriterionResult:
        for c in self.criteria:
            if c.name == name:
                return c
        raise KeyError(f"no criterion {name!r}; criteria are {[c.name for c in self.criteria]}")


@dataclass(frozen=True)
class AuditResult(JsonArtifact):
    """The result of a model audit. Frozen; :meth:`to_json` is its contract.

    Examples
    --------
    >>> from fairslm import audit_predictions
    >>> res = audit_predictions([1, 0, 1, 1], [1, 0, 0, 1], sensitive_features=["a", "a", "b", "b"],
    ...                         min_group_size=1)
    >>> res.view("sensitive_feature_0").group("b").metrics["true_positive_rate"]
    0.5
    """

    _kind: ClassVar[str] = "fairslm.audit"
    _what: ClassVar[str] = "audit"

    schema_version: str
    task: dict[str, Any]
    options: dict[str, Any]
    overall: dict[str, float]
    views: tuple[GroupView, ...]
    provenance: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)

    # -- access -------------------------------------------------------------------------
    def view(self, name: str | None = None, *, label: str | None = None) -> GroupView:
        """The view named ``name`` (default: the first, the intersection of all features)."""
        for v in self.views:
            if (name is None or v.name == name) and (label is None or v.label == label):
                return v
        raise KeyError(f"no view {name!r}; views are {[v.name for v in self.views]}")

    @property
    def criteria(self) -> list[CriterionResult]:
        return [c for v in self.views for c in v.criteria]

    @property
    def verdict(self) -> str:
        """``"fail"`` when a criterion fails its threshold in some view, ``"pass"`` when none
        fails and at least one passes, ``"insufficient"`` when none could be judged (every
        view has fewer than two groups of ``min_group_size`` rows, or every rate is undefined):
        no evidence is never a pass."""
        verdicts = {c.verdict for c in self.criteria}
        if "fail" in verdicts:
            return "fail"
        return "pass" if "pass" in verdicts else "insufficient"

    @property
    def passed(self) -> bool:
        """True when :attr:`verdict` is ``"pass"``: no criterion fails and one was judged."""
        return self.verdict == "pass"

    def _json_form(self) -> dict[str, Any]:
        """The fields, with the overall :attr:`verdict` after ``schema_version``."""
        data = super()._json_form()
        return {"kind": data.pop("kind"), "schema_version": data.pop("schema_version"),
                "verdict": self.verdict, **data}

    # -- serialisation ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditResult:
        version = check_kind_version(
            data, kind="fairslm.audit", version=AUDIT_SCHEMA_VERSION, what="audit result",
            written_by="fairslm audit",
        )

        def tup(x: Any) -> tuple[float, float] | None:
            return None if x is None else (float_or_nan(x[0]), float_or_nan(x[1]))

        views = []
        for v in data["views"]:
            groups = tuple(
                GroupResult(
                    label=g["label"],
                    values=dict(g["values"]),
                    count=int(g["count"]),
                    share=float_or_nan(g["share"]),
                    weight=float_or_nan(g["weight"]),
                    sufficient=bool(g["sufficient"]),
                    metrics={k: float_or_nan(x) for k, x in g["metrics"].items()},
                    undefined=dict(g.get("undefined", {})),
                    confusion={k: float_or_nan(x) for k, x in g.get("confusion", {}).items()},
                    intervals={k: tup(x) for k, x in g.get("intervals", {}).items()},  # type: ignore[misc]
                )
                for g in v["groups"]
            )
            disp = {
                k: DisparityResult(
                    metric=d["metric"],
                    reference=d["reference"],
                    reference_value=float_or_nan(d["reference_value"]),
                    ratio=float_or_nan(d["ratio"]),
                    difference=float_or_nan(d["difference"]),
                    worst_group=d["worst_group"],
                    by_group={
                        gk: {kk: _by_group_value(vv) for kk, vv in gv.items()}
                        for gk, gv in d.get("by_group", {}).items()
                    },
                    ratio_interval=tup(d.get("ratio_interval")),
                    difference_interval=tup(d.get("difference_interval")),
                )
                for k, d in v["disparities"].items()
            }
            crit = tuple(
                CriterionResult(
                    name=c["name"],
                    metrics=tuple(c["metrics"]),
                    ratio=float_or_nan(c["ratio"]),
                    difference=float_or_nan(c["difference"]),
                    threshold=float(c["threshold"]),
                    verdict=c["verdict"],
                    reference=c["reference"],
                    worst_group=c["worst_group"],
                    failing_groups=tuple(c["failing_groups"]),
                    reading=c["reading"],
                    ratio_interval=tup(c.get("ratio_interval")),
                    difference_interval=tup(c.get("difference_interval")),
                )
                for c in v["criteria"]
            )
            views.append(
                GroupView(
                    name=v["name"],
                    features=tuple(v["features"]),
                    groups=groups,
                    disparities=disp,
                    criteria=crit,
                    label=v.get("label"),
                )
            )
        return cls(
            schema_version=version,
            task=dict(data["task"]),
            options=dict(data["options"]),
            overall={k: float_or_nan(x) for k, x in data["overall"].items()},
            views=tuple(views),
            provenance=dict(data["provenance"]),
            extras=dict(data.get("extras", {})),
        )

    # -- tidy frames --------------------------------------------------------------------
    def to_frame(self, what: str = "groups") -> Any:
        """Tidy pandas DataFrame of ``"groups"``, ``"disparities"`` or ``"criteria"``."""
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for v in self.views:
            if what == "groups":
                for g in v.groups:
                    for m, val in g.metrics.items():
                        lo, hi = g.intervals.get(m) or (float("nan"), float("nan"))
                        rows.append(
                            {"view": v.name, "class": v.label, "group": g.label, "count": g.count,
                             "sufficient": g.sufficient, "metric": m, "value": val,
                             "ci_low": lo, "ci_high": hi, "undefined": g.undefined.get(m)}
                        )
            elif what == "disparities":
                for d in v.disparities.values():
                    for gl, info in d.by_group.items():
                        flat: dict[str, Any] = {}
                        for key, val in info.items():
                            if isinstance(val, (list, tuple)):  # an interval
                                flat[f"{key}_low"], flat[f"{key}_high"] = val
                            else:
                                flat[key] = val
                        rows.append({"view": v.name, "class": v.label, "metric": d.metric,
                                     "group": gl, "reference": d.reference, **flat})
            elif what == "criteria":
                for c in v.criteria:
                    rows.append({"view": v.name, "class": v.label, "criterion": c.name,
                                 "ratio": c.ratio, "difference": c.difference,
                                 "verdict": c.verdict, "worst_group": c.worst_group,
                                 "reference": c.reference, "threshold": c.threshold})
            else:
                raise ValueError("what must be 'groups', 'disparities' or 'criteria'")
        return pd.DataFrame(rows)
