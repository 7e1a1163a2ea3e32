"""The artefact of a regime's bias audit: category tables and findings, each citing its rule.

A result never says "compliant": it holds the figures a regime prescribes, in its categories,
and findings that say what was measured and which rule asks for it. Whether a tool may be used
is for the employer, its auditor and the regulator to decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from fairslm._artifact import JsonArtifact, check_kind_version, float_or_nan

__all__ = [
    "COMPLIANCE_SCHEMA_VERSION",
    "REGIMES",
    "CategoryRow",
    "CategoryTable",
    "ComplianceResult",
    "Finding",
]

COMPLIANCE_SCHEMA_VERSION = "1.0"
# The regimes fairslm speaks: NYC Local Law 144, the EEOC Uniform Guidelines, the EU AI Act.
REGIMES = ("nyc-ll144", "eeoc", "eu-ai-act")


@dataclass(frozen=True)
class CategoryRow:
    """One category of one table.

    ``status`` is ``"included"``, ``"excluded"`` (under 2% and left out of the impact
    ratios, still reported), ``"no applicants"``, or ``"reference"`` (the most selected /
    highest scoring category). EEOC tables also fill the test columns.
    """

    category: str
    applicants: int
    selected: int
    rate: float
    impact_ratio: float
    status: str
    share: float
    below_four_fifths: bool | None = None
    z: float | None = None
    z_p_value: float | None = None
    fisher_p_value: float | None = None
    shortfall: float | None = None
    one_person_changes_finding: bool | None = None
    one_person_ratio: float | None = None


@dataclass(frozen=True)
class CategoryTable:
    """The categories of one dimension (sex, race/ethnicity, their intersection).

    ``rate_kind`` is ``"selection"`` or ``"scoring"``; ``classification`` names the group an
    AEDT sorts people into (one table per group, 6 RCNY §5-301(b)(4)); ``step`` the stage of a
    several-stage decision (EEOC), ``"bottom line"`` for the whole process.
    """

    dimension: str
    rate_kind: str
    rows: tuple[CategoryRow, ...]
    unknown: int
    highest: str | None
    denominator: str
    classification: str | None = None
    step: str | None = None
    rule: str = ""

    def row(self, category: str) -> CategoryRow:
        """The row of ``category``."""
        for r in self.rows:
            if r.category == category:
                return r
        raise KeyError(f"no category {category!r} in the {self.dimension} table; categories: "
                       f"{', '.join(r.category for r in self.rows)}")


@dataclass(frozen=True)
class Finding:
    """What was found, and the rule that asks for it (e.g. ``"6 RCNY §5-301(d)"``).

    ``kind``: ``"measurement"`` (a figure the rule prescribes), ``"indicator"`` (a rule's test
    is met, e.g. a rate under four-fifths of the highest), ``"note"`` (a condition the reader
    must know, e.g. undefined ratios), ``"to supply"`` (something the rule requires that only
    the employer or auditor can give).
    """

    rule: str
    kind: str
    text: str
    subject: str = ""


@dataclass(frozen=True)
class ComplianceResult(JsonArtifact):
    """A bias audit under one regime (kind ``fairslm.compliance``).

    Attributes
    ----------
    regime : str
        ``"nyc-ll144"`` or ``"eeoc"``.
    record : dict
        What the regime asks to publish beside the figures: audit and distribution dates, the
        next audit due, the data type (historical or test) and its explanation, exclusions
        and their justification, the tool and auditor.
    tables : tuple of CategoryTable
    findings : tuple of Finding
    score_audit : dict or None
        A :class:`~fairslm.audit.ScoreAuditResult` as JSON when the tool outputs scores.
    inputs : dict
        The data read: file name, SHA-256, rows, columns.
    """

    _kind: ClassVar[str] = "fairslm.compliance"
    _what: ClassVar[str] = "compliance result"

    schema_version: str
    regime: str
    record: dict[str, Any]
    tables: tuple[CategoryTable, ...]
    findings: tuple[Finding, ...]
    score_audit: dict[str, Any] | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def table(self, dimension: str, *, classification: str | None = None,
              step: str | None = None) -> CategoryTable:
        """The table of one dimension (and classification or step)."""
        for t in self.tables:
            if t.dimension == dimension and t.classification == classification and (
                step is None or t.step == step
            ):
                return t
        raise KeyError(
            f"no {dimension!r} table (classification={classification!r}, step={step!r}); tables: "
            + ", ".join(f"{t.dimension}/{t.classification}/{t.step}" for t in self.tables)
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComplianceResult:
        """Rebuild a result from :meth:`to_dict` output (nulls back to NaN where numeric)."""
        version = check_kind_version(
            data, kind=cls._kind, version=COMPLIANCE_SCHEMA_VERSION, what=cls._what,
            written_by="`fairslm compliance`",
        )
        tables = []
        for t in data["tables"]:
            rows = tuple(
                CategoryRow(**{**r, "rate": float_or_nan(r["rate"]), "impact_ratio": float_or_nan(r["impact_ratio"]),
                               "share": float_or_nan(r["share"])})
                for r in t["rows"]
            )
            tables.append(CategoryTable(**{**t, "rows": rows}))
        return cls(
            schema_version=version, regime=data["regime"], record=dict(data["record"]),
            tables=tuple(tables), findings=tuple(Finding(**f) for f in data["findings"]),
            score_audit=data.get("score_audit"), inputs=dict(data.get("inputs", {})),
            options=dict(data.get("options", {})), provenance=dict(data.get("provenance", {})),
        )
