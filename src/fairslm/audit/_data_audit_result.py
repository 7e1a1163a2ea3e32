"""The data audit's artefact: a frozen, versioned :class:`DataAuditResult`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from fairslm._artifact import JsonArtifact, check_kind_version

__all__ = ["DATA_AUDIT_SCHEMA_VERSION", "DataAuditResult", "data_audit_json_schema"]

DATA_AUDIT_SCHEMA_VERSION = "1.0"
KIND = "fairslm.data_audit"



def data_audit_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that ``to_dict()`` output follows.

    Examples
    --------
    >>> data_audit_json_schema()["properties"]["kind"]
    {'const': 'fairslm.data_audit'}
    """
    return dict(json.loads(Path(__file__).with_name("data_audit.schema.json").read_text(encoding="utf-8")))

@dataclass(frozen=True)
class DataAuditResult(JsonArtifact):
    """Representation, labeling bias, proxies and aggregation-bias pointers of a data set.

    Attributes
    ----------
    schema_version : str
    dataset : dict
        ``n_rows``, ``content_hash``, ``source``, ``spec``, ``classes``, ``pos_label``,
        ``splits``.
    representation : dict
        Per view (each sensitive feature, and their intersection): ``groups`` (count, share,
        per-split counts and shares, reference share and ratio when given,
        ``under_represented``), ``empty`` and ``tiny`` intersections.
    labeling : dict
        Per label audited (the positive class, or every class), per view: each group's
        positive-label ``rate`` with ``ci``, and the statistical parity of the labels
        (``ratio``, ``difference``, ``reference``, ``worst_group``, ``verdict``, ``ratio_ci``).
    proxies : dict
        Per sensitive feature: the probe's ``auc``, ``ci``, ``p_value`` against chance, and
        ``top_terms`` per group.
    aggregation : dict
        Per sensitive feature: each group's label distribution, its total variation distance
        to the pooled one, a chi-square test, and ``flagged`` groups.
    findings : tuple of str
        Plain-language sentences on what needs attention.
    """

    _kind: ClassVar[str] = KIND
    _what: ClassVar[str] = "data audit"

    schema_version: str
    dataset: dict[str, Any]
    representation: dict[str, Any]
    labeling: dict[str, Any]
    proxies: dict[str, Any]
    aggregation: dict[str, Any]
    findings: tuple[str, ...]
    provenance: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataAuditResult:
        check_kind_version(
            data,
            kind=KIND,
            version=DATA_AUDIT_SCHEMA_VERSION,
            what="data audit",
            written_by="fairslm data-audit",
        )
        fields = {k: v for k, v in data.items() if k != "kind"}
        fields["findings"] = tuple(fields.get("findings", ()))
        return cls(**fields)
