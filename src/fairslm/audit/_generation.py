"""Counterfactual generation audits: does what a model writes change with the group words?

Each text is rewritten by a :class:`~fairslm.data.CounterfactualPerturber`, both versions are
put into the same prompt template, and the model writes for both with the same fixed decoding
settings (and, when sampling, the same random numbers). The outputs are measured (length,
refusals, stated decisions, sentiment, term rates, similarity of the pair) and every measure is
compared between the groups pair by pair.
"""

from __future__ import annotations

import hashlib
import inspect
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fairslm._version import __version__
from fairslm.audit._generation_measures import output_measures, pair_similarities
from fairslm.audit._generation_result import GENERATION_SCHEMA_VERSION, GenerationAuditResult
from fairslm.audit._generation_stats import (
    direction_summaries,
    group_summaries,
    measure_contrasts,
    similarity_summary,
)
from fairslm.audit._paired import DEFAULT_ALPHA, DEFAULT_N_BOOTSTRAP
from fairslm.audit._text_measures import DecisionReader
from fairslm.data import CounterfactualPerturber, Dataset, load_dataset
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.models import DEFAULT_MAX_NEW_TOKENS, DecodingSettings, check_texts, load_generator

__all__ = ["counterfactual_generation_test", "generation_audit_file"]

DEFAULT_EXAMPLES = 10
# Unchanged texts are listed by position for review; past this many only the count is kept.
MAX_LISTED_UNCHANGED = 100


def _check_template(template: Any) -> str:
    if not isinstance(template, str) or "{text}" not in template:
        raise ConfigError(
            f"template must be a string with a '{{text}}' placeholder where each text goes, "
            f"got {template!r}; e.g. 'Summarise this biography in one sentence:\\n{{text}}'"
        )
    return template


def _settings(n_samples: int, seed: int, temperature: float | None, top_p: float, top_k: int,
              max_new_tokens: int) -> DecodingSettings:
    if temperature is None:
        # One output: greedy. Several: sample from the model's own distribution (T = 1).
        temperature = 0.0 if n_samples == 1 else 1.0
    return DecodingSettings(max_new_tokens=int(max_new_tokens), temperature=float(temperature),
                            top_p=float(top_p), top_k=int(top_k), n_samples=int(n_samples),
                            seed=int(seed))


def _takes_streams(generator: Any) -> bool:
    try:
        params = inspect.signature(generator.generate).parameters
    except (TypeError, ValueError):  # a builtin or C-level callable: assume the full protocol
        return True
    return "streams" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _check_outputs(outputs: Any, n_prompts: int, n_samples: int, generator: Any) -> None:
    name = type(generator).__name__
    if not isinstance(outputs, list) or len(outputs) != n_prompts:
        got = len(outputs) if isinstance(outputs, list) else type(outputs).__name__
        raise InvalidDataError(
            f"{name}.generate returned {got} items for {n_prompts} prompts; expected one list "
            f"of {n_samples} texts per prompt"
        )
    for i, sample in enumerate(outputs):
        if (not isinstance(sample, list) or len(sample) != n_samples
                or not all(isinstance(t, str) for t in sample)):
            raise InvalidDataError(
                f"{name}.generate returned {sample!r} for prompt {i}; expected a list of "
                f"{n_samples} strings"
            )


def _example(i: int, r: int, pert: Any, o: list[str], c: list[str], sims: dict[str, Any],
             values: dict[str, Any], decisions: Any) -> dict[str, Any]:
    ex: dict[str, Any] = {
        "index": i,
        "direction": pert.direction[i],
        "original": pert.original[i],
        "counterfactual": pert.texts[i],
        "marked": pert.marked(i),
        "edits": [list(e) for e in pert.edits[i]],
        "output_original": o[0],
        "output_counterfactual": c[0],
        "rouge_l": float(sims["rouge_l"][r]),
        "embedding_cosine": (float(sims["embedding_cosine"][r])
                             if "embedding_cosine" in sims else None),
        "measures": {k: [float(v[0][r]), float(v[1][r])] for k, v in values.items()},
    }
    if decisions is not None:
        ex["decisions"] = [decisions[0][r][0], decisions[1][r][0]]
    return ex


def counterfactual_generation_test(
    model: Any,
    prompts: Any,
    *,
    attribute: str = "gender",
    n_samples: int = 1,
    seed: int = 0,
    template: str = "{text}",
    perturber: CounterfactualPerturber | None = None,
    target: str | None = None,
    temperature: float | None = None,
    top_p: float = 1.0,
    top_k: int = 0,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    label_words: Mapping[str, Any] | None = None,
    decision_regex: str | None = None,
    pos_label: Any = None,
    refusal_patterns: Sequence[str] | None = None,
    count_terms: Mapping[str, Sequence[str]] | None = None,
    sentiment: bool = True,
    encoder: Any = None,
    reference_group: str | None = None,
    alpha: float = DEFAULT_ALPHA,
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
    confidence: float = 0.95,
    n_examples: int = DEFAULT_EXAMPLES,
    load_options: Mapping[str, Any] | None = None,
) -> GenerationAuditResult:
    """Generate for each prompt and its counterfactual; compare what the model writes.

    Parameters
    ----------
    model : path or generator
        A causal LM directory (see :func:`fairslm.models.load_generator`; ``load_options``
        are passed on) or any object with ``generate(prompts, settings, streams=...)`` such as
        :class:`~fairslm.models.HFTextGenerator`.
    prompts : sequence of str or Dataset
        The texts (biographies, applications, notes). Each goes into ``template``.
    attribute : str, default "gender"
        The perturber's attribute; ``perturber`` (with user term lists) replaces the default.
    n_samples : int, default 1
        Outputs per prompt. One: greedy decoding. Several: sampling at ``temperature``
        (default 1.0), seeded by ``seed``; a prompt and its counterfactual share their random
        numbers, so differences come from the swapped words, not from chance draws.
    seed : int, default 0
        Seeds the sampling and the bootstrap.
    template : str, default "{text}"
        The prompt, with ``{text}`` where each text goes.
    temperature, top_p, top_k, max_new_tokens
        Decoding settings (see :class:`~fairslm.models.DecodingSettings`), recorded in the
        result.
    label_words, decision_regex, pos_label
        How to read a decision from an output (see :class:`DecisionReader`): adds the share of
        outputs stating the favourable decision, the share stating none, and the decision
        consistency of the pairs.
    refusal_patterns : sequence of str, optional
        Regular expressions of refusals; default a built-in list of common phrases.
    count_terms : mapping of name -> terms, optional
        Term lists counted per 100 words, e.g. ``{"family": ["husband", "children"]}``.
    sentiment : bool, default True
        Score outputs with VADER.
    encoder : object with ``encode(texts)``, False, or None
        Sentence embeddings for the similarity of each pair's outputs; default the packaged
        MiniLM (:class:`~fairslm.models.SentenceEncoder`); False skips it (ROUGE-L remains).
    reference_group : str, optional
        The group each contrast is taken against; default the attribute's first group
        (``male`` for gender).
    alpha : float, default 0.05
        Significance level of the Holm-adjusted p-values.
    n_bootstrap, confidence
        Percentile bootstrap over pairs for every interval.
    n_examples : int, default 10
        How many of the most differing pairs to keep with their outputs.

    Returns
    -------
    GenerationAuditResult

    Examples
    --------
    >>> class Echo:  # writes the prompt back, so every swapped word shows in the output
    ...     def generate(self, prompts, settings, streams=None):
    ...         return [[p] * settings.n_samples for p in prompts]
    >>> res = counterfactual_generation_test(
    ...     Echo(), ["He is a surgeon.", "She is a nurse.", "A nurse."], encoder=False,
    ...     n_bootstrap=200)
    >>> res.counts["n_changed"], res.counts["n_unchanged"], res.similarity["identical_share"]
    (2, 1, 0.0)
    """
    dataset_hash = None
    if isinstance(prompts, Dataset):
        dataset_hash = prompts.content_hash
        prompts = prompts.texts
    texts = check_texts(prompts)
    if not texts:
        raise InvalidDataError("prompts is empty; pass at least one text")
    template = _check_template(template)
    for name, value, low in (("alpha", alpha, 0.0), ("confidence", confidence, 0.0)):
        if not low < float(value) < 1:
            raise ConfigError(f"{name} must be between 0 and 1, got {value!r}")
    if int(n_bootstrap) < 1 or int(n_examples) < 0:
        raise ConfigError(
            f"n_bootstrap must be >= 1 and n_examples >= 0; got {n_bootstrap} and {n_examples}"
        )
    settings = _settings(n_samples, seed, temperature, top_p, top_k, max_new_tokens)
    decision = (DecisionReader(label_words, decision_regex, pos_label)
                if label_words or decision_regex is not None else None)
    perturber = perturber or CounterfactualPerturber(attribute, seed=seed)
    groups = list(perturber.lexicon.groups)
    reference = reference_group if reference_group is not None else groups[0]
    if reference not in groups:
        raise ConfigError(
            f"reference_group {reference!r} is not a group of {perturber.attribute!r}; groups "
            f"are: {', '.join(groups)}"
        )
    pert = perturber.perturb(texts, target=target)
    idx = [int(i) for i in np.flatnonzero(pert.changed)]
    if not idx:
        raise InvalidDataError(
            f"none of the {len(texts)} texts contains a {perturber.attribute} term to swap "
            f"(terms of the groups {', '.join(groups)}), so there is nothing to compare. Check "
            "the attribute, or pass term lists (terms=..., --terms) with the words your texts use"
        )
    generator = load_generator(model, **dict(load_options or {}))
    originals = [template.replace("{text}", texts[i]) for i in idx]
    counterfactuals = [template.replace("{text}", pert.texts[i]) for i in idx]
    streams = [hashlib.sha256(texts[i].encode("utf-8", "surrogatepass")).hexdigest() for i in idx]
    start = time.perf_counter()
    if _takes_streams(generator):
        outputs = generator.generate(originals + counterfactuals, settings,
                                     streams=streams + streams)
    else:  # a generator without named random streams (e.g. greedy only, or an external API)
        outputs = generator.generate(originals + counterfactuals, settings)
    seconds = time.perf_counter() - start
    m = len(idx)
    _check_outputs(outputs, 2 * m, settings.n_samples, generator)
    run = dict(getattr(generator, "last_run_", {}) or {})
    out_o, out_c = outputs[:m], outputs[m:]
    side = np.empty((m, 2), dtype=object)  # the group each version of a pair was written for
    side[:] = [str(pert.direction[i]).split("->") for i in idx]

    measures, values, decisions = output_measures(
        outputs, refusal_patterns=refusal_patterns, decision=decision,
        count_terms=count_terms, sentiment=sentiment,
    )
    per_pair = {k: (v[:m].mean(axis=1), v[m:].mean(axis=1)) for k, v in values.items()}
    binary = {x.name for x in measures if x.kind == "binary" and settings.n_samples == 1}
    rng = np.random.default_rng(int(seed))
    contrasts = measure_contrasts(per_pair, side, groups, reference, binary,
                                  n_bootstrap=int(n_bootstrap), confidence=float(confidence),
                                  alpha=float(alpha), rng=rng)
    by_group = group_summaries(per_pair, side, groups, int(n_bootstrap), float(confidence), rng)
    by_direction = direction_summaries(per_pair, side, binary)
    measure_block = {
        x.name: {**x.describe(), "by_group": by_group[x.name], "contrasts": contrasts[x.name],
                 "by_direction": by_direction[x.name]}
        for x in measures
    }
    enc = None
    if encoder is not False:
        if encoder is None:
            from fairslm.models import SentenceEncoder

            encoder = SentenceEncoder()
        enc = encoder
    sims = pair_similarities(out_o, out_c, enc)
    if decisions is not None:
        sims["decision_consistency"] = (decisions[:m] == decisions[m:]).mean(axis=1).astype(float)
    similarity = similarity_summary(sims, side, int(n_bootstrap), float(confidence), rng)

    order_key = sims.get("embedding_cosine", sims["rouge_l"])
    order = np.lexsort((np.arange(m), sims["rouge_l"], order_key))[: int(n_examples)]
    dec_split = None if decisions is None else (decisions[:m], decisions[m:])
    examples = tuple(_example(idx[r], int(r), pert, out_o[r], out_c[r], sims, per_pair, dec_split)
                     for r in order)
    cut = run.get("cut") if isinstance(run.get("cut"), list) else None
    n_cut = {g: 0 for g in groups}
    if cut is not None:
        for r in range(m):
            n_cut[side[r][0]] += int(sum(cut[r]))
            n_cut[side[r][1]] += int(sum(cut[m + r]))
    pairs = tuple(
        {"index": idx[r], "direction": pert.direction[idx[r]], "outputs_original": out_o[r],
         "outputs_counterfactual": out_c[r]}
        for r in range(m)
    )
    unchanged = [i for i in range(len(texts)) if not pert.changed[i]]
    counts = {
        "n_texts": len(texts), "n_changed": m, "n_unchanged": len(unchanged),
        "unchanged_index": unchanged[:MAX_LISTED_UNCHANGED],
        "n_outputs": 2 * m * settings.n_samples,
        "n_generated": int(run.get("n_generated", 2 * m)),
        "n_cached": int(run.get("n_cached", 0)),
        "n_cut": n_cut if cut is not None else None,
    }
    n_generated = int(run.get("n_generated", 2 * m))
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass") + b"\x1f")
    fingerprint = generator.fingerprint() if callable(getattr(generator, "fingerprint", None)) else None
    decoding = {**settings.to_dict(), "template": template,
                "chat": getattr(generator, "chat", None), "system": getattr(generator, "system", None)}
    return GenerationAuditResult(
        schema_version=GENERATION_SCHEMA_VERSION,
        attribute=perturber.attribute,
        groups=groups,
        reference_group=reference,
        decoding=decoding,
        counts=counts,
        measures=measure_block,
        similarity=similarity,
        examples=examples,
        pairs=pairs,
        # The rate counts prompts the model ran on; outputs from the cache cost nothing.
        timing={"seconds": seconds, "prompts": 2 * m, "n_generated": n_generated,
                "prompts_per_second": (n_generated / seconds
                                       if seconds > 0 and n_generated else None)},
        provenance={
            "fairslm_version": __version__,
            "generator": repr(generator),
            "model_fingerprint": fingerprint,
            "encoder_fingerprint": (enc.fingerprint() if enc is not None
                                    and callable(getattr(enc, "fingerprint", None)) else None),
            "texts_sha256": h.hexdigest(),
            "dataset_sha256": dataset_hash,
            "seed": int(seed),
            "perturber": repr(perturber),
            "term_sources": [Path(s).name for s in perturber.lexicon.sources],
        },
        options={"alpha": float(alpha), "n_bootstrap": int(n_bootstrap),
                 "confidence": float(confidence), "n_examples": int(n_examples),
                 "target": target,
                 "decision": None if decision is None else decision.describe(),
                 "refusal_patterns": list(refusal_patterns) if refusal_patterns else None,
                 "count_terms": {k: list(v) for k, v in (count_terms or {}).items()},
                 "sentiment": bool(sentiment)},
    )


def generation_audit_file(
    model: Any,
    data: Any,
    *,
    text: str = "text",
    split: str | None = None,
    attribute: str = "gender",
    terms: Any = None,
    names: bool = True,
    seed: int = 0,
    load_options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> GenerationAuditResult:
    """Read a data file, then run :func:`counterfactual_generation_test` on its texts.

    ``split`` picks one split of a folder of split files; ``terms`` and ``names`` configure the
    perturber; the remaining keyword arguments go to :func:`counterfactual_generation_test`.
    """
    ds = load_dataset(data, text=text, label=None, sensitive=(),
                      splits=None if split is None else [split])
    perturber = CounterfactualPerturber(attribute, seed=seed, terms=terms, names=names)
    return counterfactual_generation_test(model, ds, perturber=perturber, seed=seed,
                                          load_options=load_options, **kwargs)
