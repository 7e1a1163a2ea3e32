"""The audit's canonical artefact: a frozen, versioned, JSON-serialisable :class:`AuditResult`.

The JSON form is the contract: reports, history and the CLI only read it.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

from fairslm._atomic import write_text_atomic
from fairslm.audit._json_io import check_kind_version, read_json_source

__all__ = [
    "JsonArtifact",
    "AUDIT_SCHEMA_VERSION",
    "AuditResult",
    "CriterionResult",
    "DisparityResult",
    "GroupResult",
    "GroupView",
    "audit_json_schema",
    "write_json_atomic",
]

AUDIT_SCHEMA_VERSION = "1.1"  # 1.1: intervals, tests, score metrics, multiclass views


def audit_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that :meth:`AuditResult.to_dict` output follows.

    Examples
    --------
    >>> audit_json_schema()["properties"]["kind"]
    {'const': 'fairslm.audit'}
    """
    text = (Path(__file__).with_name("audit.schema.json")).read_text(encoding="utf-8")
    return dict(json.loads(text))


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, tuples -> lists, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json_atomic(data: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``data`` as JSON to ``path`` whole: a temp file in the same folder, then rename."""
    text = json.dumps(_clean(data), indent=2, allow_nan=False) + "\n"
    return write_text_atomic(text, path)


class JsonArtifact:
    """``to_dict`` / ``to_json`` / ``from_json`` shared by the frozen result dataclasses.

    A subclass sets ``_kind`` (the JSON's ``kind``) and ``_what`` (its name in messages) and
    implements ``from_dict``.
    """

    _kind: ClassVar[str]
    _what: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self._kind, **_clean(asdict(self))}  # type: ignore[call-overload]

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """JSON text; also written whole to ``path`` when given."""
        data = self.to_dict()
        if path is not None:
            write_json_atomic(data, path)
        return json.dumps(data, indent=2, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        raise NotImplementedError

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> Self:
        """Read a result from a JSON file path (or a JSON string)."""
        return cls.from_dict(read_json_source(source, cls._what))

def _nan(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _by_group_value(v: Any) -> Any:
    """A per-group disparity entry read back from JSON: null -> NaN, intervals stay lists."""
    if v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)):
        return _nan(v)
    if isinstance(v, list):
        return [_nan(x) for x in v]
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
    def passed(self) -> bool:
        """True when no criterion in any view fails its threshold."""
        return all(c.verdict != "fail" for c in self.criteria)

    # -- serialisation ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditResult:
        version = check_kind_version(
            data, kind="fairslm.audit", version=AUDIT_SCHEMA_VERSION, what="audit result",
            written_by="fairslm audit",
        )

        def tup(x: Any) -> tuple[float, float] | None:
            return None if x is None else (_nan(x[0]), _nan(x[1]))

        views = []
        for v in data["views"]:
            groups = tuple(
                GroupResult(
                    label=g["label"],
                    values=dict(g["values"]),
                    count=int(g["count"]),
                    share=_nan(g["share"]),
                    weight=_nan(g["weight"]),
                    sufficient=bool(g["sufficient"]),
                    metrics={k: _nan(x) for k, x in g["metrics"].items()},
                    undefined=dict(g.get("undefined", {})),
                    confusion={k: _nan(x) for k, x in g.get("confusion", {}).items()},
                    intervals={k: tup(x) for k, x in g.get("intervals", {}).items()},  # type: ignore[misc]
                )
                for g in v["groups"]
            )
            disp = {
                k: DisparityResult(
                    metric=d["metric"],
                    reference=d["reference"],
                    reference_value=_nan(d["reference_value"]),
                    ratio=_nan(d["ratio"]),
                    difference=_nan(d["difference"]),
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
                    ratio=_nan(c["ratio"]),
                    difference=_nan(c["difference"]),
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
            overall={k: _nan(x) for k, x in data["overall"].items()},
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
