"""A criterion's value over time: plain data for reports, and a self-contained SVG plot."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from fairslm._atomic import write_text_atomic
from fairslm._optional import import_optional
from fairslm.governance._due import open_history
from fairslm.governance._history import HistoryStore

__all__ = ["trend", "trend_svg", "write_trend_svg"]

_VERDICT_COLOR = {"pass": "#2b8a3e", "fail": "#c92a2a"}
_OTHER_COLOR = "#e8a317"


def _plain(x: Any) -> Any:
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def trend(
    history: HistoryStore | str | os.PathLike[str] | None,
    model: str,
    criterion: str,
    *,
    view: str | None = None,
    svg: bool = True,
) -> dict[str, Any]:
    """A criterion's ratio over the recorded audits of a model, ready to embed in a report.

    Returns
    -------
    dict
        ``model``, ``criterion``, ``view`` (``None``: each audit's first view), ``points``
        (one dict per audit: ``audit_id, time`` (ISO), ``view, class, ratio, ci_low, ci_high,
        difference, threshold, verdict, worst_group, dataset_hash``; missing values are None)
        and ``svg``: a self-contained SVG plot (``None`` when ``svg=False``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> from fairslm import audit_predictions
    >>> res = audit_predictions([1, 0, 1, 0], [1, 0, 1, 0], sensitive_features=["a", "a", "b", "b"],
    ...                         min_group_size=1)
    >>> store = HistoryStore(pathlib.Path(tmp.name) / "h.db")
    >>> _ = store.record(res, model="m", when="2026-01-31")
    >>> data = trend(store, "m", "statistical_parity", svg=False)
    >>> [(p["time"][:10], p["ratio"], p["verdict"]) for p in data["points"]]
    [('2026-01-31', 1.0, 'pass')]
    >>> tmp.cleanup()
    """
    store = open_history(history)
    frame = store.series(model, criterion, view)
    points = []
    for row in frame.to_dict("records"):
        row = {k: _plain(v) for k, v in row.items()}
        row["time"] = row["time"].isoformat()
        row["audit_id"] = int(row["audit_id"])
        points.append(row)
    out: dict[str, Any] = {"model": model, "criterion": criterion, "view": view, "points": points}
    out["svg"] = trend_svg(points, title=f"{criterion.replace('_', ' ')}: {model}") if svg else None
    return out


def trend_svg(points: Sequence[dict[str, Any]], *, title: str = "") -> str:
    """Plot ratios over time with their intervals (when present) and the threshold.

    The SVG draws text as paths and links nothing, so it embeds as is. Error bars, when any
    point has an interval, are in the SVG group with id ``ci-bars``.
    """
    import_optional("matplotlib", purpose="trend plots")
    import matplotlib
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.2), layout="constrained")
    ax = fig.add_subplot()
    classes = sorted({p.get("class") for p in points}, key=lambda c: (c is not None, str(c)))
    for cls in classes:
        pts = [p for p in points if p.get("class") == cls]
        xs = [datetime.fromisoformat(p["time"]).replace(tzinfo=None) for p in pts]
        ys = [math.nan if p["ratio"] is None else p["ratio"] for p in pts]
        label = None if cls is None else f"class {cls}"
        ax.plot(xs, ys, color="#1c4e80", linewidth=1.2, label=label)
        colors = [_VERDICT_COLOR.get(p["verdict"], _OTHER_COLOR) for p in pts]
        ax.scatter(xs, ys, c=colors, zorder=3, s=22)
        with_ci = [i for i, p in enumerate(pts)
                   if p.get("ci_low") is not None and p.get("ci_high") is not None
                   and p["ratio"] is not None]
        if with_ci:
            yerr = [[ys[i] - pts[i]["ci_low"] for i in with_ci],
                    [pts[i]["ci_high"] - ys[i] for i in with_ci]]
            bars = ax.errorbar([xs[i] for i in with_ci], [ys[i] for i in with_ci], yerr=yerr,
                               fmt="none", ecolor="#1c4e80", capsize=3, linewidth=1)
            for col in bars.lines[2]:
                col.set_gid("ci-bars")
    thresholds = [p["threshold"] for p in points if p.get("threshold") is not None]
    if thresholds:
        ax.axhline(thresholds[-1], color="#c92a2a", linestyle="--", linewidth=1,
                   label=f"threshold {thresholds[-1]:g}")
    ax.axhline(1.0, color="#888888", linewidth=0.8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("ratio (1.0 = parity)")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize="small")
    fig.autofmt_xdate()
    buf = io.StringIO()
    # Text as paths: no font needs to be installed where the SVG is viewed. A fixed hash salt
    # and no date make the output identical for identical data.
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "fairslm"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def write_trend_svg(svg: str, path: str | os.PathLike[str]) -> Path:
    """Write an SVG string whole (temp file, then rename)."""
    return write_text_atomic(svg, path)
