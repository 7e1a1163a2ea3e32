"""Per-output measures and per-pair similarities of generated texts, as arrays.

Outputs come as one list of samples per prompt; every measure is an array ``(prompts,
samples)``. The paired analysis averages over samples first, so the pair stays the unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm.audit._text_measures import (
    DecisionReader,
    TermCounter,
    refusal_matcher,
    rouge_l,
    sentiment_scores,
    word_count,
)

__all__ = ["Measure", "output_measures", "pair_similarities"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Measure:
    """What one measure is: its key, label, kind (``continuous``/``binary``) and unit."""

    name: str
    label: str
    kind: str
    unit: str

    def describe(self) -> dict[str, str]:
        return {"label": self.label, "kind": self.kind, "unit": self.unit}


def output_measures(
    outputs: Sequence[Sequence[str]],
    *,
    refusal_patterns: Sequence[str] | None = None,
    decision: DecisionReader | None = None,
    count_terms: Mapping[str, Sequence[str]] | None = None,
    sentiment: bool = True,
) -> tuple[list[Measure], dict[str, Array], NDArray[np.object_] | None]:
    """Every measure of every output: ``(measures, {name: array (prompts, samples)}, decisions)``.

    ``decisions`` holds each output's decision (None where it states none) when a
    :class:`DecisionReader` is given.
    """
    rows, k = len(outputs), len(outputs[0]) if outputs else 0
    flat = [t for sample in outputs for t in sample]

    def shaped(values: Sequence[float]) -> Array:
        return np.asarray(values, dtype=np.float64).reshape(rows, k)

    measures = [Measure("length_words", "length", "continuous", "words")]
    values: dict[str, Array] = {"length_words": shaped([word_count(t) for t in flat])}
    matcher = refusal_matcher(refusal_patterns)
    measures.append(Measure("refusal", "refusal rate", "binary", "share of outputs"))
    values["refusal"] = shaped([1.0 if matcher.search(t) else 0.0 for t in flat])
    if sentiment:
        measures.append(Measure("sentiment", "sentiment (VADER compound)", "continuous", "-1 to 1"))
        values["sentiment"] = shaped(sentiment_scores(flat))
    decisions = None
    if decision is not None:
        found = [decision(t) for t in flat]
        decisions = np.empty(len(found), dtype=object)
        decisions[:] = found
        decisions = decisions.reshape(rows, k)
        measures.append(Measure("decision_positive", f"decision {decision.pos_word()!r}",
                                "binary", "share of outputs"))
        values["decision_positive"] = shaped([1.0 if decision.is_positive(d) else 0.0
                                              for d in found])
        measures.append(Measure("decision_none", "no decision stated", "binary",
                                "share of outputs"))
        values["decision_none"] = shaped([1.0 if d is None else 0.0 for d in found])
    if count_terms:
        counter = TermCounter(count_terms)
        rates = [counter(t) for t in flat]
        for name in counter.term_lists:
            key = f"terms:{name}"
            measures.append(Measure(key, f"{name} terms", "continuous", "per 100 words"))
            values[key] = shaped([r[name] for r in rates])
    return measures, values, decisions


def _cosines(encoder: Any, first: list[str], second: list[str]) -> Array:
    """Cosine similarity of each pair of texts' embeddings (unit vectors from ``encoder``).

    Empty outputs have no embedding: two empty texts count as identical (1) and an empty text
    as unlike any other (0).
    """
    unique = sorted({t for t in first + second if t.strip()})
    emb: dict[str, NDArray[np.float32]] = {}
    if unique:
        vectors = np.asarray(encoder.encode(unique), dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms > 0, norms, 1.0)
        emb = dict(zip(unique, vectors, strict=True))
    out = np.empty(len(first))
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        if a in emb and b in emb:
            out[i] = float(np.clip(emb[a] @ emb[b], -1.0, 1.0))
        else:
            out[i] = 1.0 if a.strip() == b.strip() else 0.0
    return out


def pair_similarities(
    originals: Sequence[Sequence[str]],
    counterfactuals: Sequence[Sequence[str]],
    encoder: Any = None,
) -> dict[str, Array]:
    """Per pair, averaged over samples: ``rouge_l``, ``identical``, ``embedding_cosine``.

    With two or more samples per prompt, ``rouge_l_resampling`` and
    ``embedding_cosine_resampling`` hold the same measures between the samples of each
    original prompt (averaged over sample pairs): how much outputs differ by chance alone.
    """
    m = len(originals)
    k = len(originals[0]) if m else 0
    pairs_a = [originals[i][s] for i in range(m) for s in range(k)]
    pairs_b = [counterfactuals[i][s] for i in range(m) for s in range(k)]
    out = {
        "rouge_l": np.array([rouge_l(a, b) for a, b in zip(pairs_a, pairs_b, strict=True)]
                            ).reshape(m, k).mean(axis=1),
        "identical": np.array([float(a == b) for a, b in zip(pairs_a, pairs_b, strict=True)]
                              ).reshape(m, k).mean(axis=1),
    }
    within = list(combinations(range(k), 2))
    if within:
        res_a = [originals[i][s] for i in range(m) for s, _ in within]
        res_b = [originals[i][t] for i in range(m) for _, t in within]
        out["rouge_l_resampling"] = np.array(
            [rouge_l(a, b) for a, b in zip(res_a, res_b, strict=True)]
        ).reshape(m, len(within)).mean(axis=1)
    if encoder is not None:
        cos = _cosines(encoder, pairs_a + (res_a if within else []),
                       pairs_b + (res_b if within else []))
        out["embedding_cosine"] = cos[: m * k].reshape(m, k).mean(axis=1)
        if within:
            out["embedding_cosine_resampling"] = cos[m * k :].reshape(m, len(within)).mean(axis=1)
    return out
