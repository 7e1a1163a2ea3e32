"""Report sections beyond the model audits: mitigation and comparison, audit history,
provenance and the model card. Each returns "" when its data is absent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fairslm.audit import AuditResult
from fairslm.mitigation.comparison import ComparisonResult
from fairslm.reporting._guide import criterion_guide
from fairslm.reporting._markup import CRITERIA_ORDER, badge, e, fmt, generic, table
from fairslm.reporting._policy import number, policy_views
from fairslm.reporting._svg import line_chart, scatter_plot, value_bars

__all__ = [
    "comparison_section",
    "history_section",
    "model_card_section",
    "provenance_section",
]

def comparison_section(report: Mapping[str, Any], audits: Mapping[str, AuditResult],
                       comparison: ComparisonResult | None) -> str:
    """What was done, the criteria of every model side by side, and the comparison's Pareto
    front ("" for one model without a comparison or mitigation)."""
    models = report["models"]
    if len(models) < 2 and comparison is None and not report.get("mitigation"):
        return ""
    out = []
    mit = report.get("mitigation")
    if mit:
        out.append("<h3>What was done</h3>" + generic(mit))
    pol = report["summary"]["policy"]
    if len(models) >= 2:
        names = [m["name"] for m in models]
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
    if comparison is not None:
        out.append(_comparison(comparison))
    return "".join(out)


def _comparison(comp: ComparisonResult) -> str:
    """The comparison table and its Pareto plot."""
    out = ["<h3>Model comparison</h3>"]
    if not comp.rows:
        return "".join(out) + generic(comp.to_dict())
    title = criterion_guide(comp.criterion)["title"]
    front = set(comp.pareto)
    pts = [(r.name, number(r.ratio), number(r.accuracy), r.name in front) for r in comp.rows]
    out.append(scatter_plot(pts, x_label=f"{title} ratio (1.0 = parity)", y_label="accuracy",
                            title="Pareto front: accuracy against fairness (blue: not dominated)",
                            x_line=comp.threshold))
    extra_keys: list[str] = []
    for r in comp.rows:
        extra_keys += [k for k in r.extra if k not in extra_keys]
    body = []
    for r in comp.rows:
        body.append([
            e(r.name) + (" <span class='badge pass'>Pareto</span>" if r.name in front else ""),
            f"<span class='num'>{fmt(number(r.accuracy))}</span>",
            f"<span class='num'>{fmt(number(r.ratio))}</span>",
            f"<span class='num'>{fmt(number(r.difference))}</span>",
            badge(r.verdict), e(r.worst_group),
            *[f"<span class='num'>{fmt(r.extra.get(k))}</span>" for k in extra_keys],
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


def provenance_section(report: Mapping[str, Any], audits: Mapping[str, AuditResult]) -> str:
    prov = dict(report.get("provenance") or {})
    rows = [["fairslm", e(report.get("fairslm_version"))], ["report created", e(report["created"])],
            ["report schema", e(report["schema_version"])]]
    out = [table(["", ""], rows), generic(prov) if prov else ""]
    per_model = []
    for m in report["models"]:
        p = audits[m["name"]].provenance
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
