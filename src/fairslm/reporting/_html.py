"""Render a report document as one self-contained HTML page (no scripts, no network).

Every string that comes from the report is escaped with :func:`html.escape`; the only markup is
the renderer's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairslm.audit import AuditResult, CriterionResult, GroupView
from fairslm.metrics import FOUR_FIFTHS
from fairslm.reporting._counterfactual_html import counterfactual_section
from fairslm.reporting._data_audit_html import data_audit_section
from fairslm.reporting._generation_html import generation_section
from fairslm.reporting._guide import criterion_guide, ratio_meaning
from fairslm.reporting._markup import CRITERIA_ORDER, badge, e, fmt, interval, page, table
from fairslm.reporting._policy import as_audit, number, worst_criterion
from fairslm.reporting._results import ReportResults
from fairslm.reporting._schema import validate_report
from fairslm.reporting._sections import (
    comparison_section,
    history_section,
    model_card_section,
    provenance_section,
)
from fairslm.reporting._svg import confusion_bars, ratio_plot

__all__ = ["render_html"]

_GROUP_COLUMNS = (
    ("selection_rate", "selection rate"),
    ("true_positive_rate", "TPR"),
    ("false_positive_rate", "FPR"),
    ("precision", "precision"),
    ("accuracy", "accuracy"),
)

# Groups a view's tables and plots show: a page of 10,000 groups takes minutes to open and
# nobody reads it; the JSON files keep every group.
MAX_GROUPS_SHOWN = 50


def _furthest_from_parity(view: GroupView, label: str) -> float:
    """The group's smallest folded ratio (min(r, 1/r)) over the view's metrics; 1.0 if none."""
    folded = [0.0 if r == 0 else min(r, 1 / r)
              for d in view.disparities.values()
              if (r := number(d.by_group.get(label, {}).get("ratio"))) is not None and r >= 0]
    return min(folded, default=1.0)


def groups_shown(view: GroupView, limit: int = MAX_GROUPS_SHOWN) -> list[Any]:
    """The groups a view's tables and plots show, in the view's order.

    All of them up to ``limit``; beyond, first the reference and the groups that decide a
    criterion (worst or failing), then the groups large enough to judge, furthest from parity
    first, then the small ones.
    """
    groups = list(view.groups)
    if len(groups) <= limit:
        return groups
    named = {c.reference for c in view.criteria} | {c.worst_group for c in view.criteria}
    named |= {g for c in view.criteria for g in c.failing_groups}
    ranked = sorted(groups, key=lambda g: (g.label not in named, not g.sufficient,
                                           _furthest_from_parity(view, g.label)))
    keep = {id(g) for g in ranked[:limit]}
    return [g for g in groups if id(g) in keep]



def _iv(iv: Any) -> tuple[float, float] | None:
    """An interval, or None where it is missing or has a NaN end (written ``[null, null]``)."""
    if iv is None or any(number(x) is None for x in iv):
        return None
    return (iv[0], iv[1])


def _criteria_cards(report: Mapping[str, Any], final: Mapping[str, Any] | None,
                    audits: Mapping[str, AuditResult]) -> str:
    guide = report.get("guide") or {}
    views = report["summary"]["policy"]["views"]
    best: dict[str, tuple[GroupView, CriterionResult]] = {}
    if final:
        for name in CRITERIA_ORDER:
            worst = worst_criterion(audits[final["name"]], name, views)
            if worst is not None:
                best[name] = worst
    cards = []
    for name in CRITERIA_ORDER:
        g = guide.get(name) or criterion_guide(name)
        now = ""
        if name in best:
            v, c = best[name]
            now = (
                f"<p><b>{e(final['name'] if final else '')}</b>: worst ratio "
                f"{fmt(number(c.ratio))}{interval(_iv(c.ratio_interval))} on "
                f"<i>{e(v.name)}</i> {badge(c.verdict)}<br>"
                f"{e(ratio_meaning(name, number(c.ratio)))}</p>"
            )
        cards.append(
            f"<div class='card'><h4>{e(g['title'])}</h4>{now}"
            f"<p><b>Definition.</b> {e(g['definition'])}</p>"
            f"<p><b>Ideal value.</b> {e(g['ideal'])}</p>"
            f"<p><b>Use it when.</b> {e(g['use_case'])}</p>"
            f"<p><b>Primary risk.</b> {e(g['risk'])}</p>"
            f"<p><b>Reading the number.</b> {e(g['meaning'])}</p></div>"
        )
    return "<div class='cards'>" + "".join(cards) + "</div>"


def _summary(report: Mapping[str, Any], audits: Mapping[str, AuditResult]) -> str:
    s = report["summary"]
    models = report["models"]
    final = next((m for m in models if m["name"] == s["final"]), models[-1])
    pol = s["policy"]
    crits = ", ".join(criterion_guide(c)["title"].lower() for c in pol["criteria"]) or "every criterion"
    band = f"{pol['threshold']:g}\u2013{1 / pol['threshold']:.4g}"
    verdict = s["verdict"]
    views = pol["views"] if isinstance(pol["views"], str) else ", ".join(pol["views"])
    if verdict == "insufficient":
        # No evidence is not a pass: say so, and why, instead of "meets the policy".
        lines = [
            f"<div class='banner {e(verdict)}'>{badge(verdict)} Model <b>{e(final['name'])}</b> "
            f"cannot be judged against the policy: no {e(crits)} ratio could be measured on "
            f"{e(views)} views (fewer than two groups of at least "
            f"{e(audits[final['name']].options.get('min_group_size'))} rows, or undefined "
            "rates). This is not a pass.</div>"
        ]
    else:
        lines = [
            f"<div class='banner {e(verdict)}'>{badge(verdict)} Model <b>{e(final['name'])}</b> "
            f"{'meets' if verdict == 'pass' else 'does not meet'} the policy: {e(crits)} ratios "
            f"within {e(band)} on {e(views)} views.</div>"
        ]
    for f in final["policy"]["failing"]:
        lines.append(f"<p>Failing: <b>{e(f['criterion'])}</b> on <i>{e(f['view'])}</i>, "
                     f"ratio {fmt(f['ratio'])}, worst group <b>{e(f['worst_group'])}</b>. "
                     f"{e(ratio_meaning(f['criterion'], f['ratio']))}</p>")
    head = ["model", "policy", *[criterion_guide(c)["title"] for c in CRITERIA_ORDER]]
    score_keys: list[str] = []
    for m in models:
        score_keys += [k for k in m.get("scores", {}) if k not in score_keys]
    rows = []
    for m in models:
        cells = [e(m["name"]), badge(m["policy"]["verdict"])]
        for name in CRITERIA_ORDER:
            worst = worst_criterion(audits[m["name"]], name, pol["views"])
            cells.append("n/a" if worst is None else
                         f"{fmt(number(worst[1].ratio))} {badge(worst[1].verdict)}")
        cells += [f"<span class='num'>{fmt(m.get('scores', {}).get(k))}</span>" for k in score_keys]
        rows.append(cells)
    lines.append("<p class='small muted'>Worst ratio of each criterion across the policy's "
                 "views; 1.0 is parity.</p>")
    lines.append(table([*head, *score_keys], rows))
    return "".join(lines)


def _view_section(view: GroupView, options: Mapping[str, Any]) -> str:
    min_n = options.get("min_group_size", "?")
    band = options.get("band") or [options.get("threshold", FOUR_FIFTHS), 1 / options.get("threshold", FOUR_FIFTHS)]
    out = []
    rows = []
    for c in sorted(view.criteria, key=lambda c: CRITERIA_ORDER.index(c.name)
                    if c.name in CRITERIA_ORDER else 99):
        rows.append([
            e(criterion_guide(c.name)["title"]),
            f"<span class='num'>{fmt(number(c.ratio))}</span>{interval(_iv(c.ratio_interval))}",
            badge(c.verdict), e(c.worst_group), e(c.reference), e(c.reading),
        ])
    out.append(table(["criterion", "ratio [interval]", "verdict", "worst group", "reference",
                      "reading"], rows))
    # Per-group table with intervals; insufficient groups marked.
    shown_groups = groups_shown(view)
    rows = []
    for g in shown_groups:
        cells = [e(g.label) + ("" if g.sufficient else
                               f" <span class='badge insufficient'>n &lt; {e(min_n)}</span>"),
                 f"<span class='num'>{g.count}</span>", fmt(number(g.share))]
        for key, _ in _GROUP_COLUMNS:
            val = number(g.metrics.get(key))
            if val is None and key in g.undefined:
                cells.append(f"<span class='muted' title='{e(g.undefined[key])}'>undefined: "
                             f"{e(g.undefined[key])}</span>")
            else:
                cells.append(f"<span class='num'>{fmt(val)}</span>"
                             + interval(_iv(g.intervals.get(key))))
        rows.append(cells)
    out.append("<h4>Groups</h4>")
    if len(shown_groups) < len(view.groups):
        rest_ids = set(map(id, shown_groups))
        rest = [g for g in view.groups if id(g) not in rest_ids]
        small = sum(not g.sufficient for g in rest)
        out.append(
            f"<p class='muted'>Showing {len(shown_groups):,} of {len(view.groups):,} groups "
            "(here and in the plots below): the reference, the groups that decide a criterion "
            f"and those furthest from parity. {len(rest):,} more are not shown ({small:,} of "
            f"them with fewer than {e(min_n)} rows); the audit's JSON file holds every group."
            "</p>"
        )
    out.append(table(["group", "n", "share", *[h for _, h in _GROUP_COLUMNS]], rows))
    # Disparity plots: one per metric behind the criteria.
    shown = []
    for c in view.criteria:
        for metric in c.metrics:
            if metric in shown or metric not in view.disparities:
                continue
            shown.append(metric)
            d = view.disparities[metric]
            plot_rows = []
            for g in shown_groups:
                info = d.by_group.get(g.label, {})
                lo, hi = info.get("ratio_interval") or [None, None]
                r = number(info.get("ratio"))
                if g.label == d.reference:
                    status = "reference"
                elif not g.sufficient:
                    status = "insufficient"
                else:
                    folded = None if r is None or r <= 0 else min(r, 1 / r)
                    status = "fail" if folded is not None and folded < band[0] else "ok"
                plot_rows.append((str(g.label), r, number(lo), number(hi), status))
            out.append(ratio_plot(
                plot_rows, band=(float(band[0]), float(band[1])),
                title=f"{metric.replace('_', ' ')} ratio vs {d.reference}",
            ))
    conf = [(str(g.label), {k: number(x) for k, x in g.confusion.items()})
            for g in shown_groups if g.confusion]
    if conf:
        out.append("<h4>Confusion breakdown</h4>")
        out.append(confusion_bars(conf, title="share of each group's rows by outcome"))
        out.append(table(["group", "true pos.", "false pos.", "false neg.", "true neg."], [
            [e(lab), *[f"<span class='num'>{fmt(c.get(k), 0 if float(c.get(k) or 0).is_integer() else 2)}</span>"
                       for k in ("tp", "fp", "fn", "tn")]] for lab, c in conf
        ]))
    return "".join(out)


def _model_section(m: Mapping[str, Any], audit: AuditResult, truth: AuditResult | None, *,
                   open_: bool) -> str:
    task, opts = audit.task, audit.options
    out = [f"<h2 id='model-{e(m['name'])}'>Model: {e(m['name'])} {badge(m['policy']['verdict'])}</h2>"]
    out.append(
        f"<p class='small'>{e(task.get('n_rows', '?'))} rows; favourable decision "
        f"<code>{e(task.get('pos_label'))}</code>; reference: <code>{e(opts.get('reference_group'))}"
        f"</code>; groups with fewer than {e(opts.get('min_group_size'))} rows are shown but "
        "never drive a verdict.</p>"
    )
    overall = audit.overall
    if overall:
        keys = [k for k in ("accuracy", "selection_rate", "true_positive_rate", "precision")
                if k in overall]
        sc = dict(m.get("scores") or {})
        out.append(table([*keys, *sc], [[fmt(number(overall[k])) for k in keys]
                                         + [fmt(v) for v in sc.values()]]))
    for v in sorted(audit.views, key=lambda v: (len(v.features) > 1, v.name)):
        kind = "intersectional groups" if len(v.features) > 1 else "groups"
        label = f" (class {v.label})" if v.label else ""
        verdicts = " ".join(badge(c.verdict) for c in v.criteria)
        out.append(
            f"<details{' open' if open_ and len(v.features) == 1 else ''}><summary>"
            f"{e(kind)} by {e(v.name)}{e(label)} {verdicts}</summary>"
            f"{_view_section(v, opts)}</details>"
        )
    if truth is not None:
        rows = []
        for v in truth.views:
            for c in v.criteria:
                rows.append([e(v.name), e(criterion_guide(c.name)["title"]),
                             fmt(number(c.ratio)), badge(c.verdict), e(c.worst_group)])
        out.append("<h3>Against the true label</h3><p class='small'>The same decisions audited "
                   "against the unbiased ground truth (known for the synthetic corpus).</p>")
        out.append(table(["view", "criterion", "ratio", "verdict", "worst group"], rows))
    return "".join(out)


def render_html(report: Mapping[str, Any]) -> str:
    """Render a report document (from :func:`build_report` or ``report.json``) as HTML.

    Raises :class:`~fairslm.exceptions.InvalidDataError` for a document of another schema
    version. The page holds no script and loads nothing.

    Examples
    --------
    >>> from fairslm import audit_predictions
    >>> from fairslm.reporting import build_report
    >>> a = audit_predictions([1, 0, 1, 0], [1, 0, 0, 0],
    ...                       sensitive_features={"g": ["<b>x</b>", "<b>x</b>", "y", "y"]},
    ...                       min_group_size=1)
    >>> html = render_html(build_report(a))
    >>> "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    True
    """
    report = validate_report(report)
    models = report["models"]
    final = next((m for m in models if m["name"] == report["summary"]["final"]), None)
    # Every result is rendered from its typed object, read back from the document once.
    audits = {m["name"]: as_audit(m["audit"]) for m in models}
    results = ReportResults.of(report)
    parts = [
        ("summary", "Summary", _summary(report, audits)),
        ("criteria", "How to read the criteria", _criteria_cards(report, final, audits)),
    ]
    for sid, title, html in (
        ("data", "Data audit", data_audit_section(results.data_audit)),
        ("counterfactual", "Counterfactual tests", counterfactual_section(results.counterfactual)),
        ("generation", "Generated texts", generation_section(results.generation)),
        ("mitigation", "Mitigation: before and after",
         comparison_section(report, audits, results.comparison)),
        ("history", "Audit history", history_section(report)),
    ):
        if html:
            parts.append((sid, title, html))
    if report.get("compliance"):
        from fairslm.reporting._compliance import artefact_section

        parts.append(("compliance", "Regulatory audits",
                      "".join(artefact_section(doc) for doc in report["compliance"])))
    model_html = "".join(
        _model_section(m, audits[m["name"]],
                       as_audit(m["truth_audit"]) if m.get("truth_audit") else None,
                       open_=(m["name"] == report["summary"]["final"]))
        for m in models
    )
    tail = [("provenance", "Provenance", provenance_section(report, audits))]
    card = model_card_section(report)
    if card:
        tail.append(("model-card", "Model card", card))
    body = "".join(
        (f"<section id='{sid}'>" + (f"<h2>{e(t)}</h2>" if sid != "summary" else "") + h + "</section>")
        for sid, t, h in parts
    )
    body += f"<section id='models'>{model_html}</section>"
    body += "".join(f"<section id='{sid}'><h2>{e(t)}</h2>{h}</section>" for sid, t, h in tail)
    return page(
        report["title"], f"Created {report['created']} by fairslm {report['fairslm_version']}.",
        [], nav=[(sid, t) for sid, t, _ in parts + tail], body=body,
    )
