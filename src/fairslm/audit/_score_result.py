"""The result of an audit of scores: a frozen, versioned, JSON-serialisable artefact."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from fairslm._artifact import JsonArtifact, check_kind_version, float_or_nan

__all__ = ["SCORE_AUDIT_SCHEMA_VERSION", "ScoreAuditResult", "ScoreGroup", "ScoreView"]

SCORE_AUDIT_SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class ScoreGroup:
    """One group's scores: size, moments, scoring rate, SMD against the reference, AUC.

    ``histogram`` holds the group's share of rows in each of the result's histogram bins.
    """

    label: str
    count: int
    share: float
    sufficient: bool
    mean: float
    sd: float
    scoring_rate: float
    impact_ratio: float
    smd: float
    smd_interval: tuple[float, float] | None
    roc_auc: float
    histogram: tuple[float, ...]


@dataclass(frozen=True)
class ScoreView:
    """The groups of one grouping, and every criterion across decision thresholds.

    ``curves[metric][group]`` holds one value per threshold (``score >= threshold``);
    ``criteria[name]`` the criterion's ratio (lowest over highest group among groups with at
    least ``min_group_size`` rows) at each threshold.
    """

    name: str
    features: tuple[str, ...]
    reference: str | None
    highest_scoring: str | None
    groups: tuple[ScoreGroup, ...]
    curves: dict[str, dict[str, tuple[float, ...]]]
    criteria: dict[str, tuple[float, ...]]

    def group(self, label: str) -> ScoreGroup:
        """The group named ``label``."""
        for g in self.groups:
            if g.label == label:
                return g
        raise KeyError(f"no group {label!r} in view {self.name!r}; groups: "
                       f"{', '.join(g.label for g in self.groups)}")


@dataclass(frozen=True)
class ScoreAuditResult(JsonArtifact):
    """Audit of a model's scores across groups (kind ``fairslm.score_audit``).

    Attributes
    ----------
    median : float
        Median score of all rows; the scoring rate is the share of a group strictly above it.
    ties_at_median : int
        Rows scored exactly at the median (not above it).
    score_range : tuple of float
        The scores' units: table scores in [0, 1] map to ``lo + x (hi - lo)``.
    thresholds : tuple of float
        Decision thresholds of the curves, in the scores' units.
    histogram_edges : tuple of float
        Edges of the per-group histograms, in the scores' units.
    labelled : bool
        Whether outcome labels were given (AUC, TPR, FPR, precision need them).
    """

    _kind: ClassVar[str] = "fairslm.score_audit"
    _what: ClassVar[str] = "score audit"

    schema_version: str
    n_rows: int
    median: float
    ties_at_median: int
    score_range: tuple[float, float]
    thresholds: tuple[float, ...]
    histogram_edges: tuple[float, ...]
    labelled: bool
    views: tuple[ScoreView, ...]
    options: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def view(self, name: str) -> ScoreView:
        """The view of one grouping, e.g. ``"gender"`` or ``"gender & race"``."""
        for v in self.views:
            if v.name == name:
                return v
        raise KeyError(f"no view {name!r}; views: {', '.join(v.name for v in self.views)}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreAuditResult:
        """Rebuild a result from :meth:`to_dict` output (nulls back to NaN)."""
        version = check_kind_version(
            data, kind=cls._kind, version=SCORE_AUDIT_SCHEMA_VERSION, what=cls._what,
            written_by="fairslm.audit_scores or `fairslm compliance --y-score`",
        )
        views = []
        for v in data["views"]:
            groups = tuple(
                ScoreGroup(
                    label=g["label"], count=int(g["count"]), share=float_or_nan(g["share"]),
                    sufficient=bool(g["sufficient"]), mean=float_or_nan(g["mean"]), sd=float_or_nan(g["sd"]),
                    scoring_rate=float_or_nan(g["scoring_rate"]), impact_ratio=float_or_nan(g["impact_ratio"]),
                    smd=float_or_nan(g["smd"]),
                    smd_interval=None if g.get("smd_interval") is None
                    else (float_or_nan(g["smd_interval"][0]), float_or_nan(g["smd_interval"][1])),
                    roc_auc=float_or_nan(g["roc_auc"]),
                    histogram=tuple(float_or_nan(x) for x in g["histogram"]),
                )
                for g in v["groups"]
            )
            views.append(ScoreView(
                name=v["name"], features=tuple(v["features"]), reference=v.get("reference"),
                highest_scoring=v.get("highest_scoring"), groups=groups,
                curves={m: {k: tuple(float_or_nan(x) for x in vals) for k, vals in by.items()}
                        for m, by in v["curves"].items()},
                criteria={k: tuple(float_or_nan(x) for x in vals) for k, vals in v["criteria"].items()},
            ))
        return cls(
            schema_version=version, n_rows=int(data["n_rows"]), median=float(data["median"]),
            ties_at_median=int(data["ties_at_median"]),
            score_range=(float(data["score_range"][0]), float(data["score_range"][1])),
            thresholds=tuple(float(t) for t in data["thresholds"]),
            histogram_edges=tuple(float(t) for t in data["histogram_edges"]),
            labelled=bool(data["labelled"]), views=tuple(views),
            options=dict(data.get("options", {})), provenance=dict(data.get("provenance", {})),
            notes=tuple(data.get("notes", ())),
        )
