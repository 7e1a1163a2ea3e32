"""HTML sections for regime audits, audits of scores and EU AI Act evidence bundles, and the
files ``fairslm compliance`` writes (JSON, CSV tables, one self-contained HTML page).

The sections render the artefacts' JSON; every string from them is escaped.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fairslm._atomic import write_text_atomic
from fairslm.reporting._markup import e, fmt, page, table
from fairslm.reporting._svg import line_chart

__all__ = [
    "artefact_section",
    "compliance_section",
    "evidence_section",
    "render_compliance_html",
    "score_audit_section",
    "write_compliance",
]

_TITLES = {"nyc-ll144": "NYC Local Law 144 bias audit (6 RCNY §§5-300–5-303)",
           "eeoc": "Adverse impact under the EEOC Uniform Guidelines (29 CFR 1607.4)"}
# An indicator is a rule's test met (red); something to supply (amber); measurements stay plain.
_KIND_CSS = {"indicator": "fail", "to supply": "insufficient", "note": "n-a", "measurement": ""}


def _pct(x: Any) -> str:
    return "n/a" if not isinstance(x, (int, float)) or not math.isfinite(float(x)) else (
        f"{100 * float(x):.1f}%")


def _ratio_cell(r: Mapping[str, Any]) -> str:
    if r["status"] == "no applicants":
        return "no applicants"
    if r["status"] == "excluded":
        return "<span class='muted'>excluded (under 2%)</span>"
    v = r.get("impact_ratio")
    return "undefined" if v is None else f"<span class='num'>{float(v):.2f}</span>"


def _category_table(t: Mapping[str, Any], regime: str) -> str:
    rate_word = "Selection rate" if t["rate_kind"] == "selection" else "Scoring rate"
    head = ["Category", "# of applicants", *(["# selected"] if t["rate_kind"] == "selection" else []),
            rate_word, "Impact ratio"]
    if regime == "eeoc":
        head += ["below 4/5", "Z", "p (Z)", "p (Fisher)", "shortfall", "one person changes it"]
    rows = []
    for r in t["rows"]:
        cells = [e(r["category"]) + (" <span class='badge n-a'>highest</span>"
                                     if r["status"] == "reference" else ""),
                 f"<span class='num'>{r['applicants']}</span>"]
        if t["rate_kind"] == "selection":
            cells.append(f"<span class='num'>{r['selected']}</span>")
        cells.append("no applicants" if r["status"] == "no applicants" else _pct(r.get("rate")))
        cells.append(_ratio_cell(r))
        if regime == "eeoc":
            flag = r.get("below_four_fifths")
            cells += [
                "" if flag is None else f"<span class='badge {'fail' if flag else 'pass'}'>"
                f"{'yes' if flag else 'no'}</span>",
                fmt(r.get("z"), 2) if r.get("z") is not None else "",
                fmt(r.get("z_p_value"), 4) if r.get("z_p_value") is not None else "",
                fmt(r.get("fisher_p_value"), 4) if r.get("fisher_p_value") is not None else "",
                fmt(r.get("shortfall"), 0) if r.get("shortfall") is not None else "",
                "" if r.get("one_person_changes_finding") is None
                else ("yes" if r["one_person_changes_finding"] else "no"),
            ]
        rows.append(cells)
    rows.append(["<i>unknown (not in the calculations)</i>", f"<span class='num'>{t['unknown']}</span>",
                 *[""] * (len(head) - 2)])
    title = t["dimension"] + (f" — classification {t['classification']}" if t.get("classification")
                              else "") + (f" — {t['step']}" if t.get("step") else "")
    return (f"<h4>{e(title)}</h4>" + table(head, rows)
            + f"<p class='small muted'>{e(t['denominator'])} ({e(t.get('rule', ''))})</p>")


def _findings(findings: Sequence[Mapping[str, Any]]) -> str:
    rows = [[f"<span class='badge {_KIND_CSS.get(f['kind'], 'n-a')}'>{e(f['kind'])}</span>",
             e(f.get("subject", "")), e(f["text"]), f"<code>{e(f['rule'])}</code>"]
            for f in findings]
    return table(["", "where", "finding", "rule"], rows)


def compliance_section(doc: Mapping[str, Any]) -> str:
    """A regime's bias audit (kind ``fairslm.compliance``): record, tables, findings."""
    rec = doc.get("record", {})
    regime = doc.get("regime", "")
    items = [(k, rec.get(k)) for k in ("tool", "auditor", "audit_date", "distribution_date",
                                       "use_not_after", "data_type", "data_explanation",
                                       "individuals", "median_score", "ties_at_median")
             if rec.get(k) is not None]
    exc = rec.get("exclusion") or {}
    if exc.get("excluded"):
        items += [("excluded (under 2%)", "; ".join(exc["excluded"])),
                  ("justification", exc.get("justification"))]
    inp = doc.get("inputs", {})
    if inp.get("file"):
        items.append(("data", f"{inp['file']} (SHA-256 {inp.get('sha256')})"))
    out = [f"<h3>{e(_TITLES.get(regime, regime))}</h3>",
           table(["item", "value"], [[e(k.replace("_", " ")),
                                      e(f"{v:.6g}" if isinstance(v, float) else v)]
                                     for k, v in items])]
    for t in doc.get("tables", []):
        out.append(_category_table(t, regime))
    out.append("<h4>Findings</h4>" + _findings(doc.get("findings", [])))
    if doc.get("score_audit"):
        out.append(score_audit_section(doc["score_audit"]))
    return "".join(out)


def score_audit_section(doc: Mapping[str, Any]) -> str:
    """An audit of scores (kind ``fairslm.score_audit``): groups, distributions, thresholds."""
    thr = [f"{t:.3g}" for t in doc.get("thresholds", [])]
    edges = list(doc.get("histogram_edges", []))
    # Label every fourth bin: twenty labels would overlap.
    mids = [f"{(a + b) / 2:.3g}" if i % 4 == 0 else ""
            for i, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=False))]
    out = [f"<h3>Audit of scores</h3><p class='small'>median of all {e(doc.get('n_rows'))} scores: "
           f"{fmt(doc.get('median'))} ({e(doc.get('ties_at_median'))} at the median, not above "
           f"it); outcome labels {'given' if doc.get('labelled') else 'absent'}.</p>"]
    views = sorted(doc.get("views", []), key=lambda v: len(v.get("features", [])))
    for v in views:
        ref = v.get("reference")
        smd_head = f"SMD vs {ref}" if ref else "SMD (no reference: no group large enough)"
        rows = [[e(g["label"]), f"<span class='num'>{g['count']}</span>", fmt(g.get("mean")),
                 fmt(g.get("sd")), _pct(g.get("scoring_rate")), fmt(g.get("impact_ratio"), 2),
                 fmt(g.get("smd")) + (f" <span class='muted small'>[{fmt(g['smd_interval'][0])}, "
                                      f"{fmt(g['smd_interval'][1])}]</span>"
                                      if g.get("smd_interval") else ""),
                 fmt(g.get("roc_auc"))] for g in v.get("groups", [])]
        out.append(f"<h4>{e(v['name'])}</h4>")
        top = v.get("highest_scoring")
        out.append(table(["group", "n", "mean score", "sd", "scoring rate",
                          f"impact ratio vs {top}" if top else "impact ratio", smd_head, "AUC"],
                         rows))
        out.append(line_chart(mids, {g["label"]: g.get("histogram", []) for g in v["groups"]},
                              title=f"score distribution by {v['name']} (share of each group)"))
        out.append(line_chart(thr, dict(v.get("criteria", {})), band=(0.8, 1.0),
                              title=f"criteria across decision thresholds, {v['name']} "
                                    "(ratio, 1 = parity)"))
        sel = (v.get("curves") or {}).get("selection_rate", {})
        if sel:
            out.append(line_chart(thr, dict(sel),
                                  title=f"selection rate at each threshold, {v['name']}"))
    return "".join(out)


def evidence_section(doc: Mapping[str, Any]) -> str:
    """An EU AI Act evidence bundle (kind ``fairslm.eu_ai_act_evidence``)."""
    sysinfo = doc.get("system", {})
    head = [("regulation", doc.get("regulation")), ("created", doc.get("created")),
            *[(k, v) for k, v in sysinfo.items()], ("bundle SHA-256", doc.get("bundle_sha256"))]
    out = ["<h3>EU AI Act evidence bundle</h3>",
           table(["item", "value"], [[e(k), e(v)] for k, v in head if v is not None])]
    for it in doc.get("items", []):
        css = {"evidence held": "pass", "partial evidence": "insufficient"}.get(it["status"], "fail")
        ev = "".join(f"<li>{e(x)}</li>" for x in it.get("evidence", []))
        sup = "".join(f"<li>{e(x)}</li>" for x in it.get("provider_must_supply", []))
        out.append(
            f"<details open><summary>{e(it['provision'])} "
            f"<span class='badge {css}'>{e(it['status'])}</span></summary>"
            f"<p class='small'><b>Asks:</b> {e(it['asks'])}</p>"
            + (f"<p class='small'><b>fairslm holds</b> (from {e(', '.join(it['sources']))}):</p>"
               f"<ul class='small'>{ev}</ul>" if it.get("sources") and it.get("evidence")
               else "<p class='small'><b>fairslm holds</b> nothing for this provision.</p>")
            + f"<p class='small'><b>The provider must supply:</b></p><ul class='small'>{sup}</ul>"
            "</details>"
        )
    out.append("<h4>Inputs</h4>" + table(
        ["input", "kind", "SHA-256", "source"],
        [[e(i.get("name")), e(i.get("kind")), f"<code>{e(i.get('sha256'))}</code>", e(i.get("source"))]
         for i in doc.get("inputs", [])]))
    sign = doc.get("signer", {})
    out.append("<h4>Signature</h4>" + table(
        ["name", "role", "signed at", "signature"],
        [[e(sign.get(k) or "—") for k in ("name", "role", "signed_at", "signature")]]))
    out += [f"<p class='small muted'>{e(n)}</p>" for n in doc.get("notes", [])]
    return "".join(out)


def artefact_section(doc: Mapping[str, Any]) -> str:
    """The section for any of the three artefact kinds."""
    kind = doc.get("kind")
    if kind == "fairslm.compliance":
        return compliance_section(doc)
    if kind == "fairslm.score_audit":
        return score_audit_section(doc)
    if kind == "fairslm.eu_ai_act_evidence":
        return evidence_section(doc)
    return f"<p>unknown artefact kind {e(kind)}</p>"


def render_compliance_html(doc: Mapping[str, Any]) -> str:
    """One self-contained page for a regime audit, a score audit or an evidence bundle.

    Examples
    --------
    >>> from fairslm.audit import audit_scores
    >>> res = audit_scores([0.9, 0.2, 0.7, 0.4], sensitive_features={"g": ["<a>", "<a>", "b", "b"]},
    ...                    min_group_size=1)
    >>> html = render_compliance_html(res.to_dict())
    >>> "&lt;a&gt;" in html and "<a>" not in html
    True
    """
    kind = doc.get("kind")
    title = {"fairslm.compliance": "Regulatory bias audit",
             "fairslm.score_audit": "Score audit",
             "fairslm.eu_ai_act_evidence": "Regulatory evidence"}.get(str(kind), "fairslm")
    created = doc.get("created") or (doc.get("record") or {}).get("audit_date") or ""
    version = (doc.get("provenance") or {}).get("fairslm_version", "")
    return page(title, f"{created} · fairslm {version}", [("compliance", "", artefact_section(doc))])


def write_compliance(result: Any, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write a result's JSON, its HTML page and (regime audits) its CSV tables into ``out_dir``.

    File names: ``compliance.json`` / ``.html`` for regime audits (with ``summary.csv`` and one
    CSV per table), ``eu-ai-act-bundle.json`` / ``.html``, ``score-audit.json`` / ``.html``.
    """
    from fairslm._artifact import write_json_atomic

    doc = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    stem = {"fairslm.compliance": "compliance", "fairslm.eu_ai_act_evidence": "eu-ai-act-bundle",
            "fairslm.score_audit": "score-audit"}.get(str(doc.get("kind")), "compliance")
    out = Path(out_dir)
    paths = {"json": write_json_atomic(doc, out / f"{stem}.json")}
    if doc.get("kind") == "fairslm.compliance":
        from fairslm.compliance import ComplianceResult, write_tables

        res = result if isinstance(result, ComplianceResult) else ComplianceResult.from_dict(doc)
        for p in write_tables(res, out):
            paths[p.stem] = p
    paths["html"] = write_text_atomic(render_compliance_html(doc), out / f"{stem}.html")
    return paths
