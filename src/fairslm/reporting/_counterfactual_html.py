"""The report's counterfactual-test section, rendered from
:class:`~fairslm.audit.CounterfactualResult`, and the word-level marking of two texts."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from fairslm.audit import CounterfactualResult
from fairslm.reporting._markup import e, fmt, table

__all__ = ["counterfactual_section", "highlight_swaps"]


def _tokens(text: str) -> list[str]:
    return re.findall(r"\s+|[\w'/-]+|[^\w\s]", text)


def highlight_swaps(original: str, counterfactual: str) -> tuple[str, str]:
    """Both texts as escaped HTML with the words that differ wrapped in ``<mark>``.

    Examples
    --------
    >>> highlight_swaps("She led <b>", "He led <b>")
    ("<mark class='old'>She</mark> led &lt;b&gt;", '<mark>He</mark> led &lt;b&gt;')
    """
    a, b = _tokens(str(original)), _tokens(str(counterfactual))
    out_a: list[str] = []
    out_b: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        sa, sb = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            out_a.append(e(sa))
            out_b.append(e(sb))
        else:
            if sa:
                out_a.append(f"<mark class='old'>{e(sa)}</mark>")
            if sb:
                out_b.append(f"<mark>{e(sb)}</mark>")
    return "".join(out_a), "".join(out_b)


def _summary_row(name: str, x: Mapping[str, Any]) -> list[str]:
    return [e(name), f"<span class='num'>{fmt(x.get('n'))}</span>",
            f"<span class='num'>{fmt(x.get('n_flips'))}</span>",
            f"<span class='num'>{fmt(x.get('flip_rate'))}</span>",
            f"<span class='num'>{fmt(x.get('mean_score_change'))}</span>",
            f"<span class='num'>{fmt(x.get('mean_abs_score_change'))}</span>",
            f"<span class='num'>{fmt((x.get('mcnemar') or {}).get('p_exact'), 4)}</span>"]


def _one(model: str, cf: CounterfactualResult) -> str:
    out = [f"<h3>{e(model)}</h3>",
           f"<p class='small'>Attribute <b>{e(cf.attribute)}</b>: "
           f"{e(cf.counts.get('n_changed', '?'))} of {e(cf.counts.get('n_texts', '?'))} "
           "texts had words to swap.</p>"]
    summaries = {"all changed texts": cf.overall, **cf.by_direction,
                 **{f"group {k}": v for k, v in cf.by_group.items()}}
    out.append(table(["", "texts changed", "decisions flipped", "flip rate", "mean score change",
                      "mean |score change|", "McNemar p"],
                     [_summary_row(name, x) for name, x in summaries.items()]))
    rows = []
    for x in cf.examples[:10]:
        a, b = highlight_swaps(x["original"], x["counterfactual"])
        flipped = " <span class='badge fail'>flipped</span>" if x.get("flipped") else ""
        rows.append([a, b, f"<span class='num'>{fmt(x['score_original'])} \u2192 "
                           f"{fmt(x['score_counterfactual'])}</span>{flipped}",
                     f"<span class='num'>{fmt(x['score_change'])}</span>",
                     e(x.get("direction", ""))])
    if rows:
        out.append("<h4>Most changed examples</h4>")
        out.append(table(["original", "with group words swapped", "score", "change", "swap"],
                         rows))
    return "".join(out)


def counterfactual_section(results: Mapping[str, CounterfactualResult | None]) -> str:
    """Flip rates, score changes and the most changed examples of each model ("" without)."""
    if not results:
        return ""
    intro = ("<p>Each text is rewritten with the group's words swapped (names, pronouns, "
             "affinity groups) and scored again. A fair model barely changes its score; the "
             "flip rate is the share of decisions that change. McNemar's exact test asks whether "
             "decisions move one way more than the other.</p>")
    return intro + "".join(_one(model, cf) for model, cf in results.items() if cf is not None)
