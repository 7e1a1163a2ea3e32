"""Terminal summary of a generation audit (rich tables, 80 columns)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["print_generation_summary"]

# How many of the most differing pairs the terminal shows (the JSON and HTML keep more).
TERMINAL_EXAMPLES = 3


def _num(x: Any, spec: str = ".3g") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return format(x, spec)


def _ci(iv: Any) -> str:
    return "" if not iv else f" [{_num(iv[0])}, {_num(iv[1])}]"


def _p(c: Mapping[str, Any]) -> str:
    if c.get("p_value") is None:
        return "n/a" if c.get("n") else "-"
    star = " *" if c.get("significant") else ""
    return f"{_num(c['p_value'], '.2g')} ({_num(c.get('p_holm'), '.2g')}){star}"


def _short(text: str, width: int = 150) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def print_generation_summary(result: Any, console: Any = None) -> None:
    """Print what was generated, each measure by group with the paired difference, the
    similarity of the pairs' outputs, the significant differences and the most differing pairs.
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    c, d, t = result.counts, result.decoding, result.timing
    skipped = ""
    if c["n_unchanged"]:
        rows = ", ".join(str(i) for i in c["unchanged_index"][:8])
        more = ", ..." if c["n_unchanged"] > 8 else ""
        skipped = f" ({'row' if c['n_unchanged'] == 1 else 'rows'} {rows}{more})"
    console.print(
        f"{c['n_changed']} of {c['n_texts']} texts rewritten for {result.attribute}; "
        f"{c['n_unchanged']} had nothing to swap{skipped}."
    )
    method = ("greedy" if d["method"] == "greedy" else
              f"{d['n_samples']} samples at temperature {d['temperature']:g}"
              f" (top_p {d['top_p']:g}, top_k {d['top_k']}, seed {d['seed']})")
    console.print(
        f"Decoding: {method}, at most {d['max_new_tokens']} new tokens"
        f"{', chat template' if d.get('chat') else ''}. {t['prompts']} prompts, "
        f"{c['n_cached']} from the cache; {t['seconds']:.1f} s"
        + (f" ({_num(t['prompts_per_second'])} generated prompts/s)."
           if t.get("prompts_per_second") else ".")
    )
    if c.get("n_cut") and any(c["n_cut"].values()):
        cut = ", ".join(f"{g} {n}" for g, n in c["n_cut"].items())
        console.print(f"Outputs stopped by the token limit: {escape(cut)}.")
    groups = list(result.groups)
    others = [g for g in groups if g != result.reference_group]
    for other in others:
        label = f"{other} - {result.reference_group}"
        table = Table(title=f"by group, and paired difference {label}")
        table.add_column("measure", no_wrap=True)
        for g in groups:
            table.add_column(g, justify="right")
        table.add_column("difference [95% CI]", justify="right")
        table.add_column("p (Holm)", justify="right")
        for m in result.measures.values():
            con = m["contrasts"].get(label, {})
            cells = [_num(m["by_group"].get(g, {}).get("mean")) for g in groups]
            table.add_row(escape(m["label"]), *cells,
                          _num(con.get("mean_difference"), "+.3g") + _ci(con.get("interval")),
                          _p(con))
        console.print(table)
    s = result.similarity
    parts = [f"{name} {_num(s[key]['mean'])}{_ci(s[key]['interval'])}"
             for key, name in (("embedding_cosine", "MiniLM cosine"), ("rouge_l", "ROUGE-L"),
                               ("decision_consistency", "same decision"))
             if key in s]
    console.print(f"Pairs' outputs: {'; '.join(parts)}; identical text "
                  f"{_num(100 * s['identical_share'], '.0f')}%.")
    found = result.significant()
    alpha = result.options.get("alpha", 0.05)
    if found:
        console.print(f"[bold red]Differences significant at {alpha:g} (Holm):[/]")
        for f in found:
            console.print(f"  {escape(f['label'])}: {escape(f['contrast'])} = "
                          f"{_num(f['mean_difference'], '+.3g')}{_ci(f['interval'])}, "
                          f"p {_num(f['p_value'], '.2g')}")
    else:
        console.print(f"No difference significant at {alpha:g} (Holm-adjusted).")
    for e in result.examples[:TERMINAL_EXAMPLES]:
        sim = e.get("embedding_cosine")
        sim_text = f"cosine {sim:.2f}" if sim is not None else f"ROUGE-L {e['rouge_l']:.2f}"
        console.print(f"[bold]row {e['index']}[/] {e['direction']} ({sim_text}): "
                      f"{escape(_short(e['marked']))}")
        console.print(f"    original:       {escape(_short(e['output_original']))}")
        console.print(f"    counterfactual: {escape(_short(e['output_counterfactual']))}")
