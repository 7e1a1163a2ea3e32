"""The generation audit's artefact: a frozen, versioned :class:`GenerationAuditResult`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from fairslm._artifact import JsonArtifact, check_kind_version

__all__ = ["GENERATION_SCHEMA_VERSION", "GenerationAuditResult", "generation_json_schema"]

GENERATION_SCHEMA_VERSION = "1.0"
KIND = "fairslm.generation"


def generation_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that ``GenerationAuditResult.to_dict()`` follows.

    Examples
    --------
    >>> generation_json_schema()["properties"]["kind"]
    {'const': 'fairslm.generation'}
    """
    path = Path(__file__).with_name("generation.schema.json")
    return dict(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class GenerationAuditResult(JsonArtifact):
    """How a model's generated texts change when its prompts are rewritten for another group.

    Attributes
    ----------
    schema_version : str
    attribute : str
    groups : list of str
        The attribute's groups; ``reference_group`` is the one each contrast is taken against.
    reference_group : str
    decoding : dict
        The decoding settings (method, max_new_tokens, temperature, top_p, top_k, n_samples,
        seed), the prompt template and, for chat models, the chat wrapping.
    counts : dict
        ``n_texts``, ``n_changed`` (pairs), ``n_unchanged`` (texts with nothing to swap,
        counted and listed in ``unchanged_index``), ``n_outputs``, ``n_generated`` and
        ``n_cached`` (prompts run and served from the cache), ``n_cut`` (outputs stopped by
        ``max_new_tokens``) per group.
    measures : dict
        Per measure: ``label``, ``kind`` (``"continuous"`` or ``"binary"``), ``unit``,
        ``by_group`` (``{group: {n, mean, interval}}``), ``contrasts``
        (``{"female - male": {n, mean_difference, interval, test, p_value, p_holm,
        significant, ...}}``; for McNemar's test ``b`` counts the pairs where only the
        reference group's output has the trait and ``c`` those where only the other group's
        has it) and ``by_direction`` (mean change from the original to the counterfactual
        output, and its test).
    similarity : dict
        Of each pair's two outputs: ``rouge_l`` and, when an encoder ran, ``embedding_cosine``;
        each with ``mean``, ``interval``, ``by_direction`` and, with several samples per prompt,
        ``resampling`` (the same measure between two samples of one prompt, the noise floor,
        and the test that the pairs differ more than that). ``identical_share`` is the share
        of pairs whose outputs are the same text.
    examples : tuple of dict
        The pairs whose outputs differ most (lowest similarity), with the swapped words.
    pairs : tuple of dict
        Every pair's outputs, for review.
    timing : dict
        ``seconds`` of generation, ``prompts``, ``n_generated`` and ``prompts_per_second``
        (prompts the model ran on per second; None when every output came from the cache).
    provenance : dict
    options : dict
    """

    _kind: ClassVar[str] = KIND
    _what: ClassVar[str] = "generation audit"

    schema_version: str
    attribute: str
    groups: list[str]
    reference_group: str
    decoding: dict[str, Any]
    counts: dict[str, Any]
    measures: dict[str, dict[str, Any]]
    similarity: dict[str, Any]
    examples: tuple[dict[str, Any], ...]
    pairs: tuple[dict[str, Any], ...]
    timing: dict[str, Any]
    provenance: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)

    def significant(self) -> list[dict[str, Any]]:
        """Every (measure, contrast) whose Holm-adjusted p-value is below ``options["alpha"]``.

        Each entry holds ``measure``, ``label``, ``contrast``, ``mean_difference``,
        ``interval``, ``p_value`` and ``p_holm``.
        """
        out = []
        for name, m in self.measures.items():
            for contrast, c in m.get("contrasts", {}).items():
                if c.get("significant"):
                    out.append({"measure": name, "label": m.get("label", name),
                                "contrast": contrast, "mean_difference": c["mean_difference"],
                                "interval": c.get("interval"), "p_value": c.get("p_value"),
                                "p_holm": c.get("p_holm")})
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationAuditResult:
        check_kind_version(
            data,
            kind=KIND,
            version=GENERATION_SCHEMA_VERSION,
            what="generation audit",
            written_by="fairslm generation-audit",
        )
        fields = {k: v for k, v in data.items() if k != "kind"}
        fields["examples"] = tuple(fields.get("examples", ()))
        fields["pairs"] = tuple(fields.get("pairs", ()))
        return cls(**fields)
