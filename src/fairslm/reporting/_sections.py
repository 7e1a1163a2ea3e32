"""Report sections beyond the model audits: data audit, counterfactual tests, mitigation and
comparison, audit history, provenance and the model card. Each returns "" when its data is absent.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fairslm.reporting._guide import criterion_guide
from fairslm.reporting._markup import CRITERIA_ORDER, badge, e, fmt, table
from fairslm.reporting._policy import as_audit, number, policy_views
from fairslm.reporting._svg import line_chart, scatter_plot, value_bars

__all__ = [
    "comparison_section",
    "counterfactual_section",
    "data_audit_section",
    "generic",
    "highlight_swaps",
    "history_section",
    "model_card_section",
    "provenance_section",
]

_SKIP_KEYS = {"kind", "schema_version", "svg"}


def generic(obj: Any, depth: int = 0) -> str:
    """Render any JSON value readably: dicts as key/value tables, lists of dicts as tables."""
    if isinstance(obj, Mapping):
        if not obj:
            return "<span class='muted'>none</span>"
        rows = [[f"<b>{e(k)}</b>", generic(v, depth + 1)] for k, v in obj.items()
                if k not in _SKIP_KEYS]
        return table(["", ""], rows) if depth < 4 else e(obj)
    if isinstance(obj, (list, tuple)):
        if obj and all(isinstance(x, Mapping) for x in obj):
            cols: list[str] = []
            for x in obj:
                cols += [k for k in x if k not in cols and k not in _SKIP_KEYS]
            rows = [[generic(x.get(c), depth + 1) for c in cols] for x in obj[:200]]
            more = f"<p class='small muted'>{len(obj) - 200} more rows</p>" if len(obj) > 200 else ""
            return table(cols, rows) + more
        return e(", ".join(fmt(x) if isinstance(x, (int, float)) else str(x) for x in obj))
    if isinstance(obj, (int, float)) or obj is None:
        return f"<span class='num'>{fmt(obj)}</span>"
    return e(obj)


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


def _ordered_views(views: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Single-feature views first, intersections last."""
    return sorted(views.items(), key=lambda kv: (" & " in kv[0], kv[0]))


def _representation(rep: Mapping[str, Any]) -> str:
    out: list[str] = []
    inter: list[str] = []
    for view, data in _ordered_views(rep):
        groups = data.get("groups") if isinstance(data, Mapping) else None
        if not isinstance(groups, Mapping):
            continue
        tiny = set(data.get("tiny") or [])
        rows = []
        for g, info in groups.items():
            flags = [k for k in ("underrepresented", "under_represented", "flag")
                     if isinstance(info, Mapping) and info.get(k)]
            mark = " <span class='badge insufficient'>few rows</span>" if g in tiny else ""
            mark += "".join(f" <span class='badge fail'>{e(f.replace('_', ' '))}</span>"
                            for f in flags)
            ref = info.get("reference_share") if isinstance(info, Mapping) else None
            rows.append([e(g) + mark, f"<span class='num'>{fmt(info.get('count'))}</span>",
                         f"<span class='num'>{fmt(info.get('share'))}</span>",
                         f"<span class='num'>{fmt(ref)}</span>" if ref is not None else ""])
        body = table(["group", "rows", "share", "reference share"], rows)
        if " & " in view:
            inter.append(f"<details><summary>{e(view)}</summary>{body}</details>")
        else:
            out.append(f"<div><h4>{e(view)}</h4>{body}</div>")
    return "<div class='row'>" + "".join(out) + "</div>" + "".join(inter)


def _label_rates(lab: Mapping[str, Any]) -> str:
    out = []
    for label, views in lab.items():
        if not isinstance(views, Mapping):
            continue
        for view, data in _ordered_views(views):
            if not isinstance(data, Mapping) or not isinstance(data.get("groups"), Mapping):
                continue
            rows = []
            for g, info in data["groups"].items():
                ci = info.get("ci")
                rows.append([
                    e(g) + ("" if info.get("sufficient", True) else
                            " <span class='badge insufficient'>few rows</span>"),
                    f"<span class='num'>{fmt(info.get('count'))}</span>",
                    f"<span class='num'>{fmt(info.get('rate'))}</span>"
                    + (f" <span class='muted small'>[{fmt(ci[0])}, {fmt(ci[1])}]</span>"
                       if isinstance(ci, list) and len(ci) == 2 else ""),
                ])
            head = (f"<h4>{e(view)}: share labelled <code>{e(label)}</code>, ratio "
                    f"{fmt(data.get('ratio'))} {badge(data.get('verdict'))} (worst "
                    f"{e(data.get('worst_group'))}, reference {e(data.get('reference'))})</h4>")
            body = table(["group", "rows", "label rate [interval]"], rows)
            out.append(head + body if " & " not in view else
                       f"<details><summary>{head}</summary>{body}</details>")
    return "".join(out)


def _proxies(prox: Mapping[str, Any]) -> str:
    rows = []
    for feature, info in prox.items():
        if not isinstance(info, Mapping):
            continue
        ci = info.get("ci")
        terms = []
        for g, lst in (info.get("top_terms") or {}).items():
            words = ", ".join(str(t.get("term")) for t in (lst or [])[:8] if isinstance(t, Mapping))
            terms.append(f"<b>{e(g)}</b>: {e(words)}")
        rows.append([e(feature), e(info.get("probe")),
                     f"<span class='num'>{fmt(info.get('auc'))}</span>"
                     + (f" <span class='muted small'>[{fmt(ci[0])}, {fmt(ci[1])}]</span>"
                        if isinstance(ci, list) and len(ci) == 2 else ""),
                     "<br>".join(terms)])
    if not rows:
        return generic(prox)
    return ("<p class='small'>How well a simple probe recovers each group from the text alone "
            "(AUC 0.5 = not at all, 1.0 = perfectly), and the words that give each group away. "
            "Dropping the sensitive column does not hide it when these words remain.</p>"
            + table(["feature", "probe", "AUC [interval]", "telling words"], rows))


def data_audit_section(report: Mapping[str, Any]) -> str:
    da = report.get("data_audit")
    if not da:
        return ""
    out = ["<p>What the training data looks like before any model is trained: who is in it "
           "(representation), how often each group carries the favourable label (label rates) "
           "and which words give a group away (proxy terms).</p>"]
    findings = da.get("findings")
    if isinstance(findings, list) and findings:
        out.append("<h3>Findings</h3><ul>" + "".join(f"<li>{e(f)}</li>" for f in findings)
                   + "</ul>")
    rep = da.get("representation")
    if isinstance(rep, Mapping) and rep:
        out.append("<h3>Representation</h3>" + _representation(rep))
    lab = da.get("labeling", da.get("label_rates"))
    if isinstance(lab, Mapping) and lab:
        out.append("<h3>Label rates</h3>" + _label_rates(lab))
    prox = da.get("proxies", da.get("proxy_terms"))
    if isinstance(prox, Mapping) and prox:
        out.append("<h3>Proxy terms</h3>" + _proxies(prox))
    shown = {"representation", "labeling", "label_rates", "proxies", "proxy_terms", "findings",
             "dataset", "provenance", "options"}
    rest = {k: v for k, v in da.items() if k not in shown | _SKIP_KEYS}
    if rest:
        out.append(f"<details><summary>Other findings</summary>{generic(rest)}</details>")
    return "".join(out)


def _examples(cf: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    for key in ("most_changed", "examples", "top_examples"):
        ex = cf.get(key)
        if isinstance(ex, list):
            return [x for x in ex if isinstance(x, Mapping)]
    return []


def _cf_summary_rows(summaries: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for name, x in summaries.items():
        if not isinstance(x, Mapping):
            continue
        mc_raw = x.get("mcnemar")
        mc: Mapping[str, Any] = mc_raw if isinstance(mc_raw, Mapping) else {}
        rows.append([e(name), f"<span class='num'>{fmt(x.get('n'))}</span>",
                     f"<span class='num'>{fmt(x.get('n_flips'))}</span>",
                     f"<span class='num'>{fmt(x.get('flip_rate'))}</span>",
                     f"<span class='num'>{fmt(x.get('mean_score_change'))}</span>",
                     f"<span class='num'>{fmt(x.get('mean_abs_score_change'))}</span>",
                     f"<span class='num'>{fmt(mc.get('p_exact'), 4)}</span>"])
    return rows


def counterfactual_section(report: Mapping[str, Any]) -> str:
    cfs = report.get("counterfactual")
    if not cfs:
        return ""
    out = ["<p>Each text is rewritten with the group's words swapped (names, pronouns, "
           "affinity groups) and scored again. A fair model barely changes its score; the "
           "flip rate is the share of decisions that change. McNemar's exact test asks whether "
           "decisions move one way more than the other.</p>"]
    head = ["", "texts changed", "decisions flipped", "flip rate", "mean score change",
            "mean |score change|", "McNemar p"]
    for model, cf in cfs.items():
        if not cf:
            continue
        counts = cf.get("counts") if isinstance(cf.get("counts"), Mapping) else {}
        out.append(f"<h3>{e(model)}</h3>")
        if cf.get("attribute") or counts:
            out.append(f"<p class='small'>Attribute <b>{e(cf.get('attribute'))}</b>: "
                       f"{e(counts.get('n_changed', '?'))} of {e(counts.get('n_texts', '?'))} "
                       "texts had words to swap.</p>")
        summaries: dict[str, Any] = {}
        if isinstance(cf.get("overall"), Mapping):
            summaries["all changed texts"] = cf["overall"]
        for key, prefix in (("by_direction", ""), ("by_group", "group ")):
            if isinstance(cf.get(key), Mapping):
                summaries.update({f"{prefix}{k}": v for k, v in cf[key].items()})
        rows = _cf_summary_rows(summaries)
        if rows:
            out.append(table(head, rows))
        else:
            plain = {k: v for k, v in cf.items()
                     if isinstance(v, (int, float, str)) and k not in _SKIP_KEYS}
            if plain:
                out.append(generic(plain))
        rows = []
        for x in _examples(cf)[:10]:
            orig = x.get("original") or x.get("text") or ""
            new = x.get("counterfactual") or x.get("counterfactual_text") or ""
            a, b = highlight_swaps(str(orig), str(new))
            s0 = x.get("score_original", x.get("score"))
            s1 = x.get("score_counterfactual", x.get("counterfactual_score"))
            change = x.get("score_change")
            if change is None and isinstance(s0, (int, float)) and isinstance(s1, (int, float)):
                change = s1 - s0
            flipped = " <span class='badge fail'>flipped</span>" if x.get("flipped") else ""
            rows.append([a, b, f"<span class='num'>{fmt(s0)} \u2192 {fmt(s1)}</span>{flipped}",
                         f"<span class='num'>{fmt(change)}</span>", e(x.get("direction", ""))])
        if rows:
            out.append("<h4>Most changed examples</h4>")
            out.append(table(["original", "with group words swapped", "score", "change",
                              "swap"], rows))
    return "".join(out)


def comparison_section(report: Mapping[str, Any]) -> str:
    models = report["models"]
    if len(models) < 2 and not report.get("comparison") and not report.get("mitigation"):
        return ""
    out = []
    mit = report.get("mitigation")
    if mit:
        out.append("<h3>What was done</h3>" + generic(mit))
    pol = report["summary"]["policy"]
    if len(models) >= 2:
        names = [m["name"] for m in models]
        audits = {m["name"]: as_audit(m["audit"]) for m in models}
        marg = [v.name for v in policy_views(audits[names[0]], "marginal")]
        rows: list[list[str]] = []
        cats: list[str] = []
        series: dict[str, list[float | None]] = {n: [] for n in names}
        for view in marg:
            for crit in CRITERIA_ORDER:
                cells, found = [], False
                for n in names:
                    v = next((v for v in audits[n].views if v.name == view), None)
                    c = next((c for c in v.criteria if c.name == crit), None) if v else None
                    found = found or c is not None
                    cells.append("n/a" if c is None else f"{fmt(number(c.ratio))} {badge(c.verdict)}")
                    series[n].append(None if c is None else number(c.ratio))
                if found:
                    cats.append(f"{view}: {criterion_guide(crit)['title'].lower()}")
                    rows.append([e(view), e(criterion_guide(crit)["title"]), *cells])
                else:
                    for n in names:
                        series[n].pop()
        out.append("<h3>Criteria before and after</h3>")
        out.append(table(["view", "criterion", *names], rows))
        out.append(value_bars(cats, series, title="ratio to the reference group (1.0 = parity; "
                              f"dashed line: {pol['threshold']:g})", vmax=1.25,
                              reference_line=float(pol["threshold"])))
        keys: list[str] = []
        for m in models:
            keys += [k for k in m.get("scores", {}) if k not in keys]
        if keys:
            out.append("<h3>Accuracy and other scores</h3>")
            out.append(table(["model", *keys], [[e(m["name"]), *[
                f"<span class='num'>{fmt(m['scores'].get(k))}</span>" for k in keys]]
                for m in models]))
    comp = report.get("comparison")
    if comp:
        out.append(_comparison(comp, pol))
    return "".join(out)


def _comparison(comp: Mapping[str, Any], pol: Mapping[str, Any]) -> str:
    """The comparison table and its Pareto plot (``fairslm.comparison`` data)."""
    out = ["<h3>Model comparison</h3>"]
    rows = [r for r in comp.get("rows") or [] if isinstance(r, Mapping)]
    if not rows:
        return "".join(out) + generic(comp)
    crit = str(comp.get("criterion", "ratio"))
    front = set(comp.get("pareto") or [])
    title = criterion_guide(crit)["title"]
    pts = [(str(r.get("name")), r.get("ratio"), r.get("accuracy"), r.get("name") in front)
           for r in rows]
    out.append(scatter_plot(pts, x_label=f"{title} ratio (1.0 = parity)", y_label="accuracy",
                            title="Pareto front: accuracy against fairness (blue: not dominated)",
                            x_line=float(comp.get("threshold", pol["threshold"]))))
    extra_keys: list[str] = []
    for r in rows:
        extra_keys += [k for k in (r.get("extra") or {}) if k not in extra_keys]
    body = []
    for r in rows:
        ex = r.get("extra") or {}
        body.append([
            e(r.get("name")) + (" <span class='badge pass'>Pareto</span>" if r.get("name") in front
                                else ""),
            f"<span class='num'>{fmt(r.get('accuracy'))}</span>",
            f"<span class='num'>{fmt(r.get('ratio'))}</span>",
            f"<span class='num'>{fmt(r.get('difference'))}</span>",
            badge(r.get("verdict")), e(r.get("worst_group")),
            *[f"<span class='num'>{fmt(ex.get(k))}</span>" for k in extra_keys],
        ])
    out.append(table(["model", "accuracy", f"{title} ratio", "difference", "verdict",
                      "worst group", *extra_keys], body))
    return "".join(out)


def history_section(report: Mapping[str, Any]) -> str:
    """Earlier audits: one chart per trend (``fairslm.governance.trend`` data) and a table."""
    hist = report.get("history")
    if not hist:
        return ""
    trends = hist.get("trends") if isinstance(hist.get("trends"), list) else [hist]
    out = ["<p>Recorded audits of this model, oldest first. The dashed band is the policy's "
           "acceptable range.</p>"]
    threshold = float(report["summary"]["policy"]["threshold"])
    for tr in trends:
        points = [p for p in (tr.get("points") or []) if isinstance(p, Mapping)]
        if not points:
            continue
        name = str(tr.get("criterion") or "ratio")
        title = f"{criterion_guide(name)['title']} over time"
        if tr.get("model"):
            title += f" ({tr['model']})"
        xs = [str(p.get("time", p.get("date", i)))[:10] for i, p in enumerate(points)]
        out.append(f"<h3>{e(title)}</h3>")
        out.append(line_chart(xs, {"ratio": [p.get("ratio") for p in points]}, title=title,
                              band=(threshold, 1.0)))
        cols = [c for c in ("time", "view", "ratio", "ci_low", "ci_high", "verdict",
                            "worst_group", "dataset_hash") if any(c in p for p in points)]
        rows = [[badge(p.get(c)) if c == "verdict" else
                 (fmt(p.get(c)) if isinstance(p.get(c), (int, float)) else e(p.get(c)))
                 for c in cols] for p in points]
        out.append(table(cols, rows))
    return "".join(out) if len(out) > 1 else ""


def provenance_section(report: Mapping[str, Any]) -> str:
    prov = dict(report.get("provenance") or {})
    rows = [["fairslm", e(report.get("fairslm_version"))], ["report created", e(report["created"])],
            ["report schema", e(report["schema_version"])]]
    out = [table(["", ""], rows), generic(prov) if prov else ""]
    per_model = []
    for m in report["models"]:
        p = m["audit"].get("provenance", {})
        if p:
            per_model.append({"model": m["name"], **{k: v for k, v in p.items()
                                                      if not isinstance(v, (Mapping, list))}})
    if per_model:
        out.append("<h3>Per audit</h3>" + generic(per_model))
    return "".join(out)


def model_card_section(report: Mapping[str, Any]) -> str:
    card = report.get("model_card")
    if not card:
        return ""
    out = []
    for key, value in card.items():
        title = key.replace("_", " ").capitalize()
        if isinstance(value, str):
            out.append(f"<h3>{e(title)}</h3><p>{e(value)}</p>")
        elif isinstance(value, Sequence) and all(isinstance(x, str) for x in value):
            out.append(f"<h3>{e(title)}</h3><ul>" + "".join(f"<li>{e(x)}</li>" for x in value)
                       + "</ul>")
        else:
            out.append(f"<h3>{e(title)}</h3>{generic(value)}")
    return "".join(out)
