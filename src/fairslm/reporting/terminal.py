"""Terminal rendering of results with rich tables."""

from __future__ import annotations

from typing import Any

from fairslm.audit import AuditResult
from fairslm.reporting._format import format_interval, format_number

__all__ = ["print_audit_summary"]

_VERDICT_STYLE = {"pass": "green", "fail": "bold red", "insufficient": "yellow", "undefined": "yellow"}


def print_audit_summary(result: AuditResult, console: Any = None) -> None:
    """Print per-group rates and the criteria verdicts of each view.

    Intervals are shown when the audit ran a bootstrap, ROC AUC when it had scores.
    """
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    with_ci = bool(result.options.get("n_bootstrap"))
    for view in result.views:
        title = f"groups by {view.name}" + (f" (class {view.label})" if view.label else "")
        with_auc = any("roc_auc" in g.metrics for g in view.groups)
        cols = ["group", "n", "selection", "TPR", "FPR", "precision", "accuracy"]
        cols += ["AUC", "ECE"] if with_auc else []
        t = Table(title=title)
        for col in cols:
            t.add_column(col, justify="right" if col != "group" else "left")
        for g in view.groups:
            m = g.metrics
            name = g.label if g.sufficient else f"{g.label} (n<{result.options['min_group_size']})"
            row = [
                name, str(g.count), format_number(m["selection_rate"]), format_number(m["true_positive_rate"]),
                format_number(m["false_positive_rate"]), format_number(m["precision"]), format_number(m["accuracy"]),
            ]
            if with_auc:
                row += [format_number(m.get("roc_auc")), format_number(m.get("calibration_error"))]
            t.add_row(*row)
        console.print(t)
        c = Table(title=f"criteria by {view.name}" + (f" (class {view.label})" if view.label else ""))
        ccols = ["criterion", "ratio"] + (["ratio CI"] if with_ci else [])
        ccols += ["difference", "verdict", "worst group", "reference"]
        for col in ccols:
            c.add_column(col)
        for cr in view.criteria:
            style = _VERDICT_STYLE.get(cr.verdict, "")
            row = [cr.name, format_number(cr.ratio)] + ([format_interval(cr.ratio_interval)] if with_ci else [])
            row += [
                format_number(cr.difference), f"[{style}]{cr.verdict}[/{style}]", str(cr.worst_group),
                str(cr.reference),
            ]
            c.add_row(*row)
        console.print(c)
        for cr in view.criteria:
            if cr.verdict == "fail":
                console.print(f"  - {cr.reading}")
    if with_ci:
        conf = result.options.get("confidence", 0.95)
        boot = (f"{result.options['n_bootstrap']} bootstrap replicates, "
                f"seed {result.options.get('seed')}")
        if result.options.get("interval_method", "bootstrap") == "score":
            console.print(f"intervals: {conf:.0%} score intervals from the counts (Wilson, Newcombe, "
                          f"MOVER-R); {boot} for the rest")
        else:
            console.print(f"intervals: {conf:.0%} percentile bootstrap, {boot}")
    status = "PASS" if result.passed else "FAIL"
    console.print(f"overall: {status} (threshold {result.options['threshold']:g})")
