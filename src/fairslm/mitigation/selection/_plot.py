"""The model-comparison plot (accuracy against disparity) as an inline SVG string."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fairslm.mitigation.selection._compare import ComparisonResult

__all__ = ["comparison_svg"]


def comparison_svg(result: ComparisonResult, *, disparity: str = "difference") -> str:
    """Scatter of accuracy (y) against the criterion's disparity (x), Pareto front joined.

    The layout follows Fairlearn's ``plot_model_comparison``: one point per model, fairer to
    the left, more accurate to the top.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    if disparity not in ("difference", "ratio"):
        raise ValueError("disparity must be 'difference' or 'ratio'")
    xs = [r.difference if disparity == "difference" else 1.0 - r.ratio for r in result.rows]
    ys = [r.accuracy for r in result.rows]
    fig = Figure(figsize=(6.0, 4.2))
    ax = fig.add_subplot()
    on_front = set(result.pareto)
    for r, x, y in zip(result.rows, xs, ys, strict=True):
        ax.scatter([x], [y], color="#1f6fb4" if r.name in on_front else "#8a8a8a", zorder=3)
        ax.annotate(r.name, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    front = [(xs[i], ys[i]) for i, r in enumerate(result.rows) if r.name in on_front]
    if len(front) > 1:
        front.sort()
        ax.plot([p[0] for p in front], [p[1] for p in front], color="#1f6fb4", lw=1, zorder=2)
    crit = result.criterion.replace("_", " ")
    ax.set_xlabel(f"{crit} {'difference' if disparity == 'difference' else '1 - ratio'} (lower is fairer)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Model comparison on {result.n_rows} test rows")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    buf = io.StringIO()
    # Text stays text (searchable, small) and ids are salted so the output is reproducible.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "fairslm"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
