"""The counterfactual test's artefact: a frozen, versioned :class:`CounterfactualResult`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from fairslm._artifact import JsonArtifact, check_kind_version

__all__ = ["COUNTERFACTUAL_SCHEMA_VERSION", "CounterfactualResult", "counterfactual_json_schema"]

COUNTERFACTUAL_SCHEMA_VERSION = "1.0"
KIND = "fairslm.counterfactual"



def counterfactual_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that ``to_dict()`` output follows.

    Examples
    --------
    >>> counterfactual_json_schema()["properties"]["kind"]
    {'const': 'fairslm.counterfactual'}
    """
    return dict(json.loads(Path(__file__).with_name("counterfactual.schema.json").read_text(encoding="utf-8")))

@dataclass(frozen=True)
class CounterfactualResult(JsonArtifact):
    """How a model's decisions change when texts are rewritten for another group.

    Every summary (``overall``, each entry of ``by_direction`` and ``by_group``) is a dict with
    ``n`` (changed texts), ``n_flips``, ``flip_rate``, ``mean_score_change``,
    ``mean_abs_score_change``, ``max_abs_score_change``, ``mcnemar`` (``b``: positive ->
    negative, ``c``: negative -> positive, ``p_exact``, ``p_mid``) and ``wilcoxon``
    (``statistic``, ``p_value``); a test that cannot run carries ``reason`` instead.

    Attributes
    ----------
    schema_version : str
    attribute : str
    task : dict
        ``classes``, ``score_class`` (whose probability is the score) and ``score_definition``.
    counts : dict
        ``n_texts``, ``n_changed``, ``n_unchanged`` (texts with nothing to swap).
    overall, by_direction, by_group : dict
    examples : tuple of dict
        The largest score changes, with the edited words marked ``[his->her]``.
    provenance : dict
    """

    _kind: ClassVar[str] = KIND
    _what: ClassVar[str] = "counterfactual result"

    schema_version: str
    attribute: str
    task: dict[str, Any]
    counts: dict[str, int]
    overall: dict[str, Any]
    by_direction: dict[str, dict[str, Any]]
    by_group: dict[str, dict[str, Any]]
    examples: tuple[dict[str, Any], ...]
    provenance: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def flip_rate(self) -> float:
        """Share of the changed texts whose decision flipped."""
        v = self.overall.get("flip_rate")
        return float("nan") if v is None else float(v)

    @property
    def n_unchanged(self) -> int:
        return int(self.counts["n_unchanged"])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CounterfactualResult:
        check_kind_version(
            data,
            kind=KIND,
            version=COUNTERFACTUAL_SCHEMA_VERSION,
            what="counterfactual result",
            written_by="fairslm counterfactual",
        )
        fields = {k: v for k, v in data.items() if k != "kind"}
        fields["examples"] = tuple(fields.get("examples", ()))
        return cls(**fields)
