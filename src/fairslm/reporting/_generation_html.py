"""The generation audit in HTML: a report section, and a page of its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairslm.audit import GenerationAuditResult
from fairslm.reporting._counterfactual_html import highlight_swaps
from fairslm.reporting._markup import e, fmt, page, table
from fairslm.reporting._results import typed_result

__all__ = ["generation_page", "generation_section"]


def _num(x: Any) -> str:
    return f"<span class='num'>{fmt(x)}</span>"


def _ci(iv: Any) -> str:
    if not iv:
        return ""
    return f" <span class='muted small'>[{fmt(iv[0])}, {fmt(iv[1])}]</span>"


def _p(c: Mapping[str, Any]) -> str:
    test = {"mcnemar": "McNemar", "wilcoxon": "Wilcoxon"}.get(str(c.get("test")), "")
    if c.get("p_value") is None:
        return f"<span class='muted'>{e(c.get('reason') or 'n/a')}</span>"
    badge = " <span class='badge fail'>significant</span>" if c.get("significant") else ""
    holm = f", Holm {fmt(c['p_holm'])}" if c.get("p_holm") is not None else ""
    return f"{_num(c['p_value'])} <span class='muted small'>({e(test)}{holm})</span>{badge}"


def _decoding(gen: GenerationAuditResult) -> str:
    d, c, t = gen.decoding, gen.counts, gen.timing
    method = ("greedy decoding" if d.get("method") == "greedy" else
              f"{d.get('n_samples')} samples per prompt at temperature {fmt(d.get('temperature'))} "
              f"(top-p {fmt(d.get('top_p'))}, top-k {e(d.get('top_k'))}, seed {e(d.get('seed'))}); "
              "each prompt and its counterfactual share their random numbers")
    unchanged = ""
    if c.get("n_unchanged"):
        rows = ", ".join(str(i) for i in c.get("unchanged_index", [])[:20])
        unchanged = (f" {e(c['n_unchanged'])} had nothing to swap and are not compared "
                     f"(rows {e(rows)}{', ...' if c['n_unchanged'] > 20 else ''}).")
    cut = c.get("n_cut") or {}
    cut_text = ""
    if any(cut.values()):
        cut_text = (" Outputs stopped by the token limit: "
                    + ", ".join(f"{e(g)} {e(n)}" for g, n in cut.items()) + ".")
    return (
        f"<p class='small'>Attribute <b>{e(gen.attribute)}</b>: "
        f"{e(c.get('n_changed'))} of {e(c.get('n_texts'))} texts were rewritten for the other "
        f"group.{unchanged} Each version went into the prompt <code>{e(d.get('template'))}</code>"
        f"{' (inside the chat template)' if d.get('chat') else ''}; {e(method)}, at most "
        f"{e(d.get('max_new_tokens'))} new tokens. {e(t.get('prompts'))} prompts in "
        f"{fmt(t.get('seconds'), 1)} s, {e(c.get('n_cached'))} from the cache.{cut_text}</p>"
    )


def _measures(gen: GenerationAuditResult) -> str:
    groups = list(gen.groups)
    ref = gen.reference_group
    out = []
    for other in [g for g in groups if g != ref]:
        label = f"{other} - {ref}"
        rows = []
        for m in gen.measures.values():
            con = m.get("contrasts", {}).get(label, {})
            cells = [_num(m["by_group"].get(g, {}).get("mean"))
                     + _ci(m["by_group"].get(g, {}).get("interval")) for g in groups]
            rows.append([e(m.get("label")), e(m.get("unit")), *cells,
                         _num(con.get("mean_difference")) + _ci(con.get("interval")), _p(con)])
        out.append(f"<h4>By group, and the paired difference {e(label)}</h4>")
        out.append(table(["measure", "unit", *groups, f"{label} [95% CI]", "p"], rows))
    return "".join(out)


def _similarity(gen: GenerationAuditResult) -> str:
    s = gen.similarity
    rows = []
    for key, name in (("embedding_cosine", "MiniLM cosine of the two outputs"),
                      ("rouge_l", "ROUGE-L F1 of the two outputs"),
                      ("decision_consistency", "same decision in both outputs")):
        if key not in s:
            continue
        x = s[key]
        res = x.get("resampling")
        base = ("" if not res else
                f"{_num(res.get('mean'))}{_ci(res.get('interval'))}, difference "
                f"{_num(res['difference'].get('mean'))}{_ci(res['difference'].get('interval'))}, "
                f"p {_p(res)}")
        dirs = "; ".join(f"{e(d)} {fmt(v.get('mean'))}" for d, v in x.get("by_direction", {}).items())
        rows.append([e(name), _num(x.get("mean")) + _ci(x.get("interval")), dirs, base])
    return (
        "<h4>How alike the two outputs of a pair are</h4>"
        f"<p class='small'>{fmt(100 * s.get('identical_share', 0.0), 0)}% of the pairs got "
        "identical texts. With several samples per prompt, the same measure between two samples "
        "of one prompt shows how much outputs differ by chance alone.</p>"
        + table(["measure", "mean [95% CI]", "by direction", "between samples of one prompt"], rows)
    )


def _examples(gen: GenerationAuditResult) -> str:
    rows = []
    for x in gen.examples:
        a, b = highlight_swaps(str(x.get("original", "")), str(x.get("counterfactual", "")))
        oa, ob = highlight_swaps(str(x.get("output_original", "")),
                                 str(x.get("output_counterfactual", "")))
        sim = x.get("embedding_cosine")
        score = (f"cosine {fmt(sim)}<br>" if sim is not None else "") + f"ROUGE-L {fmt(x.get('rouge_l'))}"
        rows.append([f"{e(x.get('index'))}<br><span class='small muted'>{e(x.get('direction'))}"
                     "</span>", f"{a}<hr>{b}", f"{oa}<hr>{ob}", score])
    if not rows:
        return ""
    return ("<h4>Pairs whose outputs differ most</h4><p class='small'>Swapped words are marked in "
            "the texts; the spans where the two outputs differ are marked in the outputs "
            "(original above, counterfactual below).</p>"
            + table(["row", "text / with group words swapped", "output / output for the swap",
                     "similarity"], rows))


def _one(gen: GenerationAuditResult) -> str:
    return _decoding(gen) + _measures(gen) + _similarity(gen) + _examples(gen)


def generation_section(results: Mapping[str, GenerationAuditResult | None]) -> str:
    """The report's section on generated texts ("" when the report has none)."""
    if not results:
        return ""
    intro = ("<p>Each text is rewritten with its group words swapped and the model writes for "
             "both versions with the same decoding settings. Every measure of the outputs is "
             "compared pair by pair: the difference, its bootstrap interval over pairs, and "
             "McNemar's (rates) or Wilcoxon's signed-rank (other measures) test, Holm-adjusted "
             "across the measures.</p>")
    return intro + "".join((f"<h3>{e(name)}</h3>" if name else "") + _one(g)
                           for name, g in results.items() if g is not None)


def generation_page(result: Any, *, title: str = "Generation audit") -> str:
    """A self-contained HTML page of one generation audit (no script, loads nothing).

    ``result`` is a :class:`~fairslm.audit.GenerationAuditResult`, its ``to_dict()`` form or
    its JSON file.
    """
    gen = typed_result(GenerationAuditResult, result, "generation audit")
    prov = gen.provenance
    subtitle = (f"fairslm {prov.get('fairslm_version')}; model fingerprint "
                f"{str(prov.get('model_fingerprint'))[:16]}")
    return page(title, subtitle, [("generation", "", generation_section({"": gen}))])
