"""Terminal rendering of results with rich tables."""

from __future__ import annotations

import math
from typing import Any

from fairslm.audit import AuditResult

__all__ = ["print_audit_summary"]

_VERDICT_STYLE = {"pass": "green", "fail": "bold red", "insufficient": "yellow", "undefined": "yellow"}


def _fmt(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def print_audit_summary(result: AuditResult, console: Any = None) -> None:
    """Print per-group rates and the criteria verdicts of each view."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    for view in result.views:
        title = f"groups by {view.name}" + (f" (class {view.label})" if view.label else "")
        t = Table(title=title)
        for col in ("group", "n", "selection", "TPR", "FPR", "precision", "accuracy"):
            t.add_column(col, justify="right" if col != "group" else "left")
        for g in view.groups:
            m = g.metrics
            name = g.label if g.sufficient else f"{g.label} (n<{result.options['min_group_size']})"
            t.add_row(
                name, str(g.count), _fmt(m["selection_rate"]), _fmt(m["true_positive_rate"]),
                _fmt(m["false_positive_rate"]), _fmt(m["precision"]), _fmt(m["accuracy"]),
            )
        console.print(t)
        c = Table(title=f"criteria by {view.name}")
        for col in ("criterion", "ratio", "difference", "verdict", "worst group", "reference"):
            c.add_column(col)
        for cr in view.criteria:
            style = _VERDICT_STYLE.get(cr.verdict, "")
            c.add_row(
                cr.name, _fmt(cr.ratio), _fmt(cr.difference),
                f"[{style}]{cr.verdict}[/{style}]", str(cr.worst_group), str(cr.reference),
            )
        console.print(c)
        for cr in view.criteria:
            if cr.verdict == "fail":
                console.print(f"  - {cr.reading}")
    status = "PASS" if result.passed else "FAIL"
    console.print(f"overall: {status} (threshold {result.options['threshold']:g})")
