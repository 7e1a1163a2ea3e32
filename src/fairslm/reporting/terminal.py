"""Terminal rendering of every result the CLI prints, with rich; the CLI only calls these."""

from __future__ import annotations

from typing import Any

from fairslm.audit import AuditResult
from fairslm.reporting._format import format_interval, format_number

__all__ = [
    "print_audit_list",
    "print_audit_summary",
    "print_comparison",
    "print_compliance",
    "print_counterfactual",
    "print_data_audit",
    "print_debias_summary",
    "print_due",
    "print_gate",
    "print_policy",
    "print_trend",
]

_VERDICT_STYLE = {"pass": "green", "fail": "bold red", "insufficient": "yellow", "undefined": "yellow"}


# The group table's headers are short so nine columns fit 80 characters; the legend names them.
_GROUP_COLUMNS = (
    ("sel", "selection_rate"), ("TPR", "true_positive_rate"), ("FPR", "false_positive_rate"),
    ("prec", "precision"), ("acc", "accuracy"),
)
_SCORE_COLUMNS = (("AUC", "roc_auc"), ("ECE", "calibration_error"))
_LEGEND = "sel = selection rate, prec = precision, acc = accuracy"


def _console(console: Any) -> Any:
    from rich.console import Console

    return console or Console()


# A terminal shows a screenful of groups; the JSON and the HTML report hold all of them.
_MAX_GROUP_ROWS = 40


def _groups_to_show(groups: Any) -> list[Any]:
    """The groups printed: those large enough to judge first (in order), then the small ones."""
    ordered = [g for g in groups if g.sufficient] + [g for g in groups if not g.sufficient]
    keep = set(map(id, ordered[:_MAX_GROUP_ROWS]))
    return [g for g in groups if id(g) in keep]


def _verdict(verdict: str) -> str:
    style = _VERDICT_STYLE.get(verdict, "")
    return f"[{style}]{verdict}[/{style}]" if style else verdict


def print_audit_summary(result: AuditResult, console: Any = None) -> None:
    """Print per-group rates and the criteria verdicts of each view, laid out for 80 columns.

    Intervals are shown when the audit has them, ROC AUC when it had scores. Each
    criterion takes a line of its own (its worst group on a second line), so long criterion
    and group names never squeeze a table.
    """
    from rich.markup import escape
    from rich.table import Table

    console = _console(console)
    with_ci = "intervals" in result.extras  # closed-form ones come without a bootstrap
    for view in result.views:
        of_class = f" (class {view.label})" if view.label else ""
        with_auc = any("roc_auc" in g.metrics for g in view.groups)
        cols = list(_GROUP_COLUMNS) + (list(_SCORE_COLUMNS) if with_auc else [])
        t = Table(title=f"groups by {view.name}{of_class}", caption=_LEGEND)
        t.add_column("group", overflow="fold")
        t.add_column("n", justify="right", no_wrap=True)
        for head, _ in cols:
            t.add_column(head, justify="right", no_wrap=True)
        shown = _groups_to_show(view.groups)
        for g in shown:
            name = g.label if g.sufficient else f"{g.label} (n<{result.options['min_group_size']})"
            t.add_row(escape(name), str(g.count),
                      *[format_number(g.metrics.get(key)) for _, key in cols])
        console.print(t)
        if len(shown) < len(view.groups):
            on_screen = set(map(id, shown))  # by identity: comparing results field by field is slow
            small = sum(not g.sufficient for g in view.groups if id(g) not in on_screen)
            console.print(f"  ... and {len(view.groups) - len(shown):,} more groups ({small:,} of "
                          f"them below {result.options['min_group_size']} rows); the JSON holds "
                          "every group")
        console.print(f"criteria by {escape(view.name)}{escape(of_class)}")
        for cr in view.criteria:
            ci = f" {format_interval(cr.ratio_interval)}" if with_ci else ""
            console.print(f"  {cr.name:<18}  ratio {format_number(cr.ratio)}{ci}  "
                          f"difference {format_number(cr.difference)}  {_verdict(cr.verdict)}")
            if cr.worst_group is not None:
                console.print(f"  {'':<18}  worst group {escape(str(cr.worst_group))}, "
                              f"reference {escape(str(cr.reference))}")
        for cr in view.criteria:
            if cr.verdict == "fail":
                console.print(f"  - {cr.reading}", markup=False)
    if with_ci:
        conf = result.options.get("confidence", 0.95)
        boot = (f"{result.options['n_bootstrap']} bootstrap replicates, "
                f"seed {result.options.get('seed')}")
        if result.options.get("interval_method", "bootstrap") == "score":
            rest = (f"{boot} for the rest" if result.options.get("n_bootstrap")
                    else "none for balanced accuracy and the RMS TPR gap (--n-bootstrap)")
            console.print(f"intervals: {conf:.0%} score intervals from the counts (Wilson, Newcombe, "
                          f"MOVER-R); {rest}")
        else:
            console.print(f"intervals: {conf:.0%} percentile bootstrap, {boot}")
    verdict = result.verdict
    console.print(f"overall: {verdict.upper()} (threshold {result.options['threshold']:g})")
    if verdict == "insufficient":
        console.print(
            f"  no criterion could be judged: no view has two groups of at least "
            f"{result.options['min_group_size']} rows with defined rates. This is not a pass",
            markup=False,
        )


def _percent(x: Any) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def print_data_audit(result: Any, console: Any = None) -> None:
    """Print a data audit: representation, label rates per group, proxy terms, findings."""
    from rich.markup import escape
    from rich.table import Table

    console = _console(console)
    ds = result.dataset
    console.print(f"data set: {escape(str(ds['source']))} ({ds['n_rows']} rows, "
                  f"sha256 {ds['content_hash'][:12]})")
    for name, view in result.representation.items():
        t = Table(title=f"representation by {escape(name)}")
        for col in ("group", "n", "share", "reference", "flag"):
            t.add_column(col, justify="left" if col == "group" else "right")
        for g, e in view["groups"].items():
            flag = "[bold red]under[/bold red]" if e.get("under_represented") else ""
            t.add_row(escape(g), str(e["count"]), _percent(e["share"]),
                      _percent(e.get("reference_share")), flag)
        console.print(t)
    for cls, views in result.labeling.items():
        if not isinstance(views, dict):
            continue
        for name, v in views.items():
            t = Table(title=f"share of label {cls!r} by {escape(name)}")
            for col in ("group", "n", "rate", "95% CI"):
                t.add_column(col, justify="left" if col == "group" else "right")
            for g, e in v["groups"].items():
                t.add_row(escape(g), str(e["count"]), format_number(e["rate"]),
                          format_interval(e["ci"]) or "n/a")
            console.print(t)
            console.print(f"  statistical parity of the labels: ratio {format_number(v['ratio'])} "
                          f"({_verdict(v['verdict'])}), worst {escape(str(v['worst_group']))} "
                          f"vs {escape(str(v['reference']))}")
    for feat, p in result.proxies.items():
        if feat == "reason" and isinstance(p, str) and result.provenance.get("engine") == "spark":
            console.print(f"proxy probe: {p}", markup=False)
        if isinstance(p, dict) and "auc" in p:
            console.print(f"proxy probe for {escape(feat)}: AUC {format_number(p['auc'])} "
                          f"(95% CI {format_interval(p['ci'])}; chance 0.5)")
            for g, terms in p["top_terms"].items():
                console.print(f"  {g}: {', '.join(t['term'] for t in terms[:10])}", markup=False)
    if result.findings:
        console.print("[bold]findings[/bold]")
        for f in result.findings:
            console.print(f"  - {f}", markup=False)


def print_debias_summary(result: Any, console: Any = None) -> None:
    """Print each group's rows, weighted share and label rate before and after debiasing."""
    from rich.markup import escape
    from rich.table import Table

    console = _console(console)
    before, after = result.before, result.after
    label = after.pos_label if after.pos_label is not None else after.classes[-1]
    t = Table(title=f"training data before -> after (label rate of {label!r})")
    for col in ("group", "rows", "weighted share", "label rate", "weighted label rate",
                "weight range"):
        t.add_column(col, justify="left" if col == "group" else "right")
    for ga in after.groups:
        try:
            gb = before.group(ga.group)
            rows_b, share_b = str(gb.rows), format_number(gb.weighted_share)
            rate_b = format_number(gb.label_rates.get(label, 0.0))
        except KeyError:
            rows_b = share_b = rate_b = "-"
        t.add_row(
            escape(ga.group),
            f"{rows_b} -> {ga.rows}",
            f"{share_b} -> {format_number(ga.weighted_share)}",
            f"{rate_b} -> {format_number(ga.label_rates.get(label, 0.0))}",
            format_number(ga.weighted_label_rates.get(label, 0.0)),
            f"{ga.min_weight:.3g} to {ga.max_weight:.3g}",
        )
    console.print(t)
    for entry in result.report:
        line = f"step {entry['step']} {entry['method']}: {entry['rows_before']} -> {entry['rows_after']} rows"
        if entry["method"] == "resample":
            line += f", {entry['n_duplicated']} duplicated, {entry['n_dropped']} dropped"
        elif entry["method"] == "augment":
            line += f", {entry['n_changed']} texts changed, {entry['n_added']} counterfactual rows"
        console.print(line)
    gap_b = before.label_rate_gap(weighted=True)
    gap_a = after.label_rate_gap(weighted=True)
    console.print("largest gap in weighted label rate across groups: "
                  f"{format_number(gap_b)} -> {format_number(gap_a)}")


def print_comparison(result: Any, console: Any = None, *, n_bootstrap: int | None = None) -> None:
    """Print each compared model's accuracy, ratio, difference, verdict and Pareto membership,
    then each model's paired-bootstrap change against the baseline."""
    from rich.markup import escape
    from rich.table import Table

    console = _console(console)
    t = Table(title=f"{result.criterion} on {result.n_rows} test rows (* = on the Pareto front)")
    t.add_column("model", overflow="fold")
    for col in ("accuracy", "ratio", "difference", "verdict", "front"):
        t.add_column(col, justify="right" if col not in ("verdict", "front") else "left")
    for r in result.rows:
        t.add_row(escape(r.name), format_number(r.accuracy, 4), format_number(r.ratio),
                  format_number(r.difference), _verdict(r.verdict),
                  "*" if r.name in result.pareto else "")
    console.print(t)
    shown = ("accuracy", f"{result.criterion} ratio", f"{result.criterion} difference")
    replicates = f", {n_bootstrap} replicates" if n_bootstrap is not None else ""
    for name, diffs in getattr(result, "paired", {}).items():
        console.print(f"{name} against {result.baseline} (paired bootstrap{replicates}):",
                      markup=False)
        for d in diffs:
            if d.statistic in shown:
                console.print(f"  {d.reading}", markup=False)


def print_gate(result: Any, model: str, console: Any = None) -> None:
    """Print the gate's check of each criterion, what blocks the release, and the verdict."""
    from rich.markup import escape
    from rich.table import Table

    console = _console(console)
    table = Table(title=f"gate: {escape(model)}, audit #{result.audit_id} of "
                        f"{result.recorded_at:%Y-%m-%d %H:%M} UTC")
    for col in ("criterion", "view", "ratio", "threshold", "verdict", "failing groups"):
        table.add_column(col)
    for c in result.checks:
        style = "green" if not c.blocks else "bold red"
        table.add_row(
            c.criterion, escape(c.view), format_number(c.ratio), f"{c.threshold:g}",
            f"[{style}]{c.verdict}[/{style}]", escape(", ".join(c.failing_groups)),
        )
    console.print(table)
    for c in result.blocking:
        console.print(f"  - {c.criterion} ({c.view}): {c.reading}", markup=False)
    for problem in result.problems:
        console.print(f"  - {problem}", markup=False)
    if result.verdict == "insufficient":
        effect = "blocks the release" if not result.passed else "lets the release through"
        console.print(f"gate: INSUFFICIENT (a criterion could not be judged; the policy's "
                      f"on_undecided {effect})")
    else:
        console.print(f"gate: {result.verdict.upper()}")


def print_audit_list(records: Any, db: Any, console: Any = None) -> None:
    """Print the audits recorded in a history file, newest last."""
    from rich.markup import escape
    from rich.table import Table

    console = _console(console)
    table = Table(title=f"audits in {escape(str(db))}")
    for col in ("id", "time (UTC)", "model", "fingerprint", "dataset", "result", "failing"):
        table.add_column(col)
    for r in records:
        result = _verdict(r.verdict)
        table.add_row(str(r.id), f"{r.recorded_at:%Y-%m-%d %H:%M}", escape(r.model),
                      (r.model_fingerprint or "")[:12], (r.dataset_hash or "")[:12], result,
                      escape(", ".join(r.failing)))
    console.print(table)


def print_trend(data: Any, *, model: str, criterion: str, console: Any = None) -> None:
    """Print a criterion's ratio, interval and verdict in each recorded audit of a model."""
    from rich.markup import escape
    from rich.table import Table

    console = _console(console)
    table = Table(title=f"{criterion} of {escape(model)} over time")
    for col in ("audit", "time (UTC)", "view", "ratio", "interval", "verdict", "worst group"):
        table.add_column(col)
    for p in data["points"]:
        ci = format_interval((p["ci_low"], p["ci_high"])) if p["ci_low"] is not None else ""
        view_name = p["view"] if p["class"] is None else f"{p['view']} (class {p['class']})"
        table.add_row(str(p["audit_id"]), p["time"][:16].replace("T", " "), escape(view_name),
                      format_number(p["ratio"]), ci, p["verdict"], escape(p["worst_group"] or ""))
    console.print(table)


def print_counterfactual(result: Any, console: Any = None) -> None:
    """Print how many texts were rewritten, decision flips per slice, and the largest changes."""
    from rich.markup import escape
    from rich.table import Table

    console = _console(console)
    c = result.counts
    console.print(
        f"{c['n_changed']} of {c['n_texts']} texts rewritten for {result.attribute}; "
        f"{c['n_unchanged']} had nothing to swap. Score: {result.task['score_definition']} "
        f"({result.task['score_class']}).", markup=False,
    )
    t = Table(title="decision flips")
    t.add_column("slice", no_wrap=True)
    for col in ("n", "flips", "flip rate", "mean change", "max |change|", "McNemar mid-p"):
        t.add_column(col, justify="right")
    rows = [("overall", result.overall)]
    rows += [(f"direction {d}", s) for d, s in result.by_direction.items()]
    rows += [(f"group {g}", s) for g, s in result.by_group.items()]
    for name, s in rows:
        mcnemar = s.get("mcnemar", {})
        rate = s["flip_rate"]
        change = s["mean_score_change"]
        t.add_row(escape(name), str(s["n"]), str(s["n_flips"]),
                  "n/a" if rate is None else f"{rate:.1%}",
                  "n/a" if change is None else f"{change:+.3f}",
                  format_number(s["max_abs_score_change"]),
                  "n/a" if "p_mid" not in mcnemar else f"{mcnemar['p_mid']:.2g}")
    console.print(t)
    for e in result.examples[:5]:
        console.print(
            f"  {e['score_change']:+.3f} ({e['decision_original']} -> "
            f"{e['decision_counterfactual']}): {escape(e['marked'][:200])}"
        )


def print_due(report: Any, console: Any = None) -> None:
    """Print each (model, criterion, rule) of the policy with whether its audit is due."""
    from rich.markup import escape
    from rich.table import Table

    console = _console(console)
    table = Table(title=f"audits due at {report.now:%Y-%m-%d %H:%M} UTC")
    for col in ("model", "criterion", "rule", "status", "reason"):
        table.add_column(col)
    styles = {"due": "bold red", "ok": "green", "unknown": "yellow"}
    for item in report.items:
        style = styles[item.status]
        table.add_row(escape(item.model), item.criterion, item.rule,
                      f"[{style}]{item.status}[/{style}]", escape(item.reason))
    console.print(table)
    n = len(report.due)
    console.print(f"{n} audit{'s' if n != 1 else ''} due" if n else "nothing due")


def print_policy(policy: Any, path: Any, console: Any = None) -> None:
    """Print a valid policy: each criterion's threshold and schedule, and the shared settings."""
    from rich.markup import escape
    from rich.table import Table

    console = _console(console)
    table = Table(title=f"{escape(str(path))}: valid (policy hash {policy.policy_hash()[:12]})")
    for col in ("criterion", "threshold", "schedule"):
        table.add_column(col)
    for name, spec in policy.criteria.items():
        table.add_row(name, f"{policy.threshold_for(name):g}",
                      ", ".join(r.describe() for r in spec.rules))
    for name, regime in policy.regimes.items():
        table.add_row(f"{name} bias audit", "-", ", ".join(r.describe() for r in regime.rules))
    console.print(table)
    console.print(
        f"reference group: {policy.reference_group}; min group size: {policy.min_group_size}; "
        f"undecided criteria {'block' if policy.on_undecided == 'fail' else 'pass'} the gate",
        markup=False,
    )


def print_compliance(result: Any, console: Any = None) -> None:
    """Print a regime's findings (NYC LL144, EEOC), or the EU AI Act evidence bundle's items."""
    from rich.markup import escape
    from rich.table import Table

    console = _console(console)
    findings = getattr(result, "findings", None)
    if findings is not None:
        table = Table(title=f"{getattr(result, 'regime', '')} findings")
        for col in ("kind", "finding", "rule"):
            table.add_column(col)
        for f in findings:
            where = f"({f.subject}) " if f.subject else ""
            table.add_row(escape(f.kind), escape(where + f.text), escape(f.rule))
        console.print(table)
        return
    table = Table(title="EU AI Act evidence bundle")
    for col in ("provision", "status", "provider must supply"):
        table.add_column(col)
    for item in result.items:
        table.add_row(escape(item.provision), escape(item.status),
                      escape("; ".join(item.provider_must_supply)))
    console.print(table)
