"""The report's data-audit section, rendered from a :class:`~fairslm.audit.DataAuditResult`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairslm.audit import DataAuditResult
from fairslm.reporting._markup import badge, e, fmt, generic, table

__all__ = ["data_audit_section"]


def _ordered_views(views: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Single-feature views first, intersections last."""
    return sorted(views.items(), key=lambda kv: (" & " in kv[0], kv[0]))


def _representation(rep: Mapping[str, Any]) -> str:
    out: list[str] = []
    inter: list[str] = []
    for view, data in _ordered_views(rep):
        tiny = set(data.get("tiny") or [])
        rows = []
        for g, info in data["groups"].items():
            mark = " <span class='badge insufficient'>few rows</span>" if g in tiny else ""
            if info.get("under_represented"):
                mark += " <span class='badge fail'>under represented</span>"
            ref = info.get("reference_share")
            rows.append([e(g) + mark, f"<span class='num'>{fmt(info['count'])}</span>",
                         f"<span class='num'>{fmt(info['share'])}</span>",
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


def data_audit_section(da: DataAuditResult | None) -> str:
    """Representation, label rates and proxy terms of the training data ("" without an audit)."""
    if da is None:
        return ""
    out = ["<p>What the training data looks like before any model is trained: who is in it "
           "(representation), how often each group carries the favourable label (label rates) "
           "and which words give a group away (proxy terms).</p>"]
    if da.findings:
        out.append("<h3>Findings</h3><ul>" + "".join(f"<li>{e(f)}</li>" for f in da.findings)
                   + "</ul>")
    if da.representation:
        out.append("<h3>Representation</h3>" + _representation(da.representation))
    if da.labeling:
        out.append("<h3>Label rates</h3>" + _label_rates(da.labeling))
    if da.proxies:
        out.append("<h3>Proxy terms</h3>" + _proxies(da.proxies))
    out.append("<details><summary>Other findings</summary>"
               f"{generic({'aggregation': da.aggregation})}</details>")
    return "".join(out)
