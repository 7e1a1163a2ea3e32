"""Small inline SVG charts for the HTML report: no JavaScript, no fonts, no network.

Every label that reaches a chart is escaped here; callers pass raw strings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

__all__ = ["confusion_bars", "line_chart", "ratio_plot", "scatter_plot", "value_bars"]

_PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d")
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _e(x: object) -> str:
    return escape(str(x), quote=True)


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(float(x))


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_e(title)}" {_FONT}>'
        f"<title>{_e(title)}</title>" + "".join(body) + "</svg>"
    )


def ratio_plot(
    rows: Sequence[tuple[str, float | None, float | None, float | None, str]],
    *,
    band: tuple[float, float] = (0.8, 1.25),
    title: str = "ratio to the reference group",
) -> str:
    """Dot plot of ratios on a log scale with interval bars and the shaded acceptable band.

    ``rows`` holds ``(label, ratio, low, high, status)``; status is ``"ok"``, ``"fail"``,
    ``"reference"`` or ``"insufficient"`` and sets the dot's colour.
    """
    label_w, plot_w, row_h, top = 190, 420, 22, 28
    vals: list[float] = [float(v) for r in rows for v in r[1:4]
                         if _finite(v) and float(v) > 0]
    lo = min([band[0] * 0.8, *vals]) if vals else band[0] * 0.8
    hi = max([band[1] * 1.25, *vals]) if vals else band[1] * 1.25
    lo, hi = max(lo, 0.05), min(hi, 20.0)
    llo, lhi = math.log(lo), math.log(hi)

    def x(v: float) -> float:
        v = min(max(v, lo), hi)
        return label_w + (math.log(v) - llo) / (lhi - llo) * plot_w

    height = top + row_h * max(len(rows), 1) + 30
    body = [
        f'<rect x="{x(band[0]):.1f}" y="{top - 6}" width="{x(band[1]) - x(band[0]):.1f}" '
        f'height="{row_h * max(len(rows), 1) + 6}" fill="#dcfce7"/>',
        f'<line x1="{x(1.0):.1f}" y1="{top - 6}" x2="{x(1.0):.1f}" '
        f'y2="{top + row_h * max(len(rows), 1)}" stroke="#166534" stroke-dasharray="3,3"/>',
        f'<text x="{label_w}" y="14" fill="#374151">{_e(title)} (log scale; green band '
        f"{band[0]:g}\u2013{band[1]:g} passes)</text>",
    ]
    colours = {"ok": "#2563eb", "fail": "#dc2626", "reference": "#6b7280",
               "insufficient": "#d1d5db"}
    for i, (label, ratio, low, high, status) in enumerate(rows):
        y = top + i * row_h + row_h / 2
        text = label if len(label) <= 28 else label[:27] + "\u2026"
        body.append(f'<text x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end">{_e(text)}</text>')
        if _finite(low) and _finite(high):
            body.append(
                f'<line x1="{x(float(low)):.1f}" y1="{y:.1f}" x2="{x(float(high)):.1f}" '
                f'y2="{y:.1f}" stroke="#111827" stroke-width="1.5"/>'
            )
        if _finite(ratio) and float(ratio) > 0:
            fill = colours.get(status, "#2563eb")
            body.append(
                f'<circle cx="{x(float(ratio)):.1f}" cy="{y:.1f}" r="5" fill="{fill}">'
                f"<title>{_e(label)}: {float(ratio):.3f}</title></circle>"
            )
        else:
            body.append(f'<text x="{label_w + 4}" y="{y + 4:.1f}" fill="#6b7280">undefined</text>')
    axis_y = top + row_h * max(len(rows), 1) + 14
    for tick in (0.25, 0.4, 0.5, 0.6, 0.8, 1.0, 1.25, 1.6, 2.0, 2.5, 4.0):
        if lo <= tick <= hi:
            body.append(f'<text x="{x(tick):.1f}" y="{axis_y}" text-anchor="middle" '
                        f'fill="#374151">{tick:g}</text>')
    return _svg(label_w + plot_w + 20, height, body, title)


def value_bars(
    categories: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    title: str,
    vmax: float | None = None,
    reference_line: float | None = None,
) -> str:
    """Grouped horizontal bars: one block per category, one bar per series."""
    label_w, plot_w, bar_h = 190, 360, 14
    names = list(series)
    vals = [float(v) for s in series.values() for v in s if _finite(v)]
    top_v = vmax if vmax is not None else max(vals + [1e-9])
    block = bar_h * len(names) + 10
    height = 40 + block * max(len(categories), 1) + 18 * len(names)
    body = [f'<text x="{label_w}" y="14" fill="#374151">{_e(title)}</text>']
    for ci, cat in enumerate(categories):
        y0 = 28 + ci * block
        body.append(f'<text x="{label_w - 8}" y="{y0 + block / 2:.1f}" text-anchor="end">'
                    f"{_e(cat)}</text>")
        for si, name in enumerate(names):
            v = series[name][ci] if ci < len(series[name]) else None
            y = y0 + si * bar_h
            colour = _PALETTE[si % len(_PALETTE)]
            if _finite(v):
                w = max(float(v), 0.0) / top_v * plot_w
                body.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 3}" '
                            f'fill="{colour}"><title>{_e(name)}: {float(v):.3f}</title></rect>')
                body.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 4}">'
                            f"{float(v):.3f}</text>")
            else:
                body.append(f'<text x="{label_w + 4}" y="{y + bar_h - 4}" fill="#6b7280">n/a</text>')
    if reference_line is not None and top_v > 0:
        xr = label_w + reference_line / top_v * plot_w
        body.append(f'<line x1="{xr:.1f}" y1="24" x2="{xr:.1f}" y2="{28 + block * len(categories)}" '
                    'stroke="#166534" stroke-dasharray="3,3"/>')
    ly = 40 + block * max(len(categories), 1)
    for si, name in enumerate(names):
        body.append(f'<rect x="{label_w}" y="{ly + si * 18 - 10}" width="10" height="10" '
                    f'fill="{_PALETTE[si % len(_PALETTE)]}"/>'
                    f'<text x="{label_w + 16}" y="{ly + si * 18}">{_e(name)}</text>')
    return _svg(label_w + plot_w + 70, height, body, title)


def confusion_bars(rows: Sequence[tuple[str, dict[str, float]]], *, title: str) -> str:
    """Stacked bars of each group's true/false positives/negatives as shares of the group."""
    label_w, plot_w, row_h = 190, 360, 20
    parts = (("tp", "true positive", "#059669"), ("fn", "false negative", "#f59e0b"),
             ("fp", "false positive", "#dc2626"), ("tn", "true negative", "#93c5fd"))
    body = [f'<text x="{label_w}" y="14" fill="#374151">{_e(title)}</text>']
    for i, (label, conf) in enumerate(rows):
        y = 26 + i * row_h
        total = sum(float(conf.get(k, 0.0) or 0.0) for k, _, _ in parts)
        body.append(f'<text x="{label_w - 8}" y="{y + 12}" text-anchor="end">{_e(label)}</text>')
        x = float(label_w)
        for key, name, colour in parts:
            v = float(conf.get(key, 0.0) or 0.0)
            w = v / total * plot_w if total > 0 else 0.0
            if w > 0:
                body.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 4}" '
                            f'fill="{colour}"><title>{_e(label)}: {name} {v:g}</title></rect>')
            x += w
    ly = 26 + len(rows) * row_h + 14
    for j, (_, name, colour) in enumerate(parts):
        lx = label_w + j * 95
        body.append(f'<rect x="{lx}" y="{ly - 10}" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{lx + 14}" y="{ly}">{name}</text>')
    return _svg(label_w + plot_w + 20, ly + 10, body, title)


def scatter_plot(
    points: Sequence[tuple[str, float, float, bool]],
    *,
    x_label: str,
    y_label: str,
    title: str,
    x_line: float | None = None,
) -> str:
    """Scatter of ``(label, x, y, highlighted)``; highlighted points are joined (a front)."""
    w, h, pad = 520, 320, 50
    pts = [(lab, float(x), float(y), hl) for lab, x, y, hl in points if _finite(x) and _finite(y)]
    xs = [p[1] for p in pts] + ([x_line] if x_line is not None else [])
    ys = [p[2] for p in pts]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    y0, y1 = (min(ys), max(ys)) if ys else (0.0, 1.0)
    if x1 - x0 < 1e-9:
        x0, x1 = x0 - 0.05, x1 + 0.05
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 0.05, y1 + 0.05
    x0, x1 = x0 - 0.05 * (x1 - x0), x1 + 0.05 * (x1 - x0)
    y0, y1 = y0 - 0.05 * (y1 - y0), y1 + 0.05 * (y1 - y0)

    def sx(v: float) -> float:
        return pad + (v - x0) / (x1 - x0) * (w - 2 * pad)

    def sy(v: float) -> float:
        return h - pad - (v - y0) / (y1 - y0) * (h - 2 * pad)

    body = [
        f'<text x="{pad}" y="16" fill="#374151">{_e(title)}</text>',
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#9ca3af"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="#9ca3af"/>',
        f'<text x="{w / 2}" y="{h - 12}" text-anchor="middle">{_e(x_label)}</text>',
        f'<text x="14" y="{h / 2}" transform="rotate(-90 14 {h / 2})" text-anchor="middle">'
        f"{_e(y_label)}</text>",
        f'<text x="{pad}" y="{h - pad + 14}" text-anchor="middle">{x0:.2f}</text>',
        f'<text x="{w - pad}" y="{h - pad + 14}" text-anchor="middle">{x1:.2f}</text>',
        f'<text x="{pad - 4}" y="{h - pad}" text-anchor="end">{y0:.2f}</text>',
        f'<text x="{pad - 4}" y="{pad + 4}" text-anchor="end">{y1:.2f}</text>',
    ]
    if x_line is not None:
        body.append(f'<line x1="{sx(x_line):.1f}" y1="{pad}" x2="{sx(x_line):.1f}" '
                    f'y2="{h - pad}" stroke="#166534" stroke-dasharray="3,3"/>')
    front = sorted((p for p in pts if p[3]), key=lambda p: p[1])
    if len(front) > 1:
        path = " ".join(f"{sx(p[1]):.1f},{sy(p[2]):.1f}" for p in front)
        body.append(f'<polyline points="{path}" fill="none" stroke="#2563eb"/>')
    for lab, x, y, hl in pts:
        fill = "#2563eb" if hl else "#9ca3af"
        body.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="5" fill="{fill}">'
                    f"<title>{_e(lab)}: ({x:.3f}, {y:.3f})</title></circle>")
        body.append(f'<text x="{sx(x) + 7:.1f}" y="{sy(y) - 6:.1f}" fill="#374151">'
                    f"{_e(lab[:24])}</text>")
    return _svg(w, h, body, title)


def line_chart(
    xs: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    title: str,
    band: tuple[float, float] | None = None,
) -> str:
    """Lines over ordered points (audit dates), optional shaded band."""
    w, h, pad = 620, 280, 50
    vals = [float(v) for s in series.values() for v in s if _finite(v)]
    if band:
        vals += list(band)
    y0, y1 = (min(vals), max(vals)) if vals else (0.0, 1.0)
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 0.1, y1 + 0.1
    n = max(len(xs), 1)

    def sx(i: int) -> float:
        return pad + (i / (n - 1) if n > 1 else 0.5) * (w - 2 * pad)

    def sy(v: float) -> float:
        return h - pad - (v - y0) / (y1 - y0) * (h - 2 * pad)

    body = [f'<text x="{pad}" y="16" fill="#374151">{_e(title)}</text>']
    if band:
        body.append(f'<rect x="{pad}" y="{sy(band[1]):.1f}" width="{w - 2 * pad}" '
                    f'height="{sy(band[0]) - sy(band[1]):.1f}" fill="#dcfce7"/>')
    body.append(f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#9ca3af"/>')
    body.append(f'<text x="{pad - 4}" y="{h - pad}" text-anchor="end">{y0:.2f}</text>'
                f'<text x="{pad - 4}" y="{pad + 4}" text-anchor="end">{y1:.2f}</text>')
    for i, lab in enumerate(xs):
        body.append(f'<text x="{sx(i):.1f}" y="{h - pad + 16}" text-anchor="middle">'
                    f"{_e(str(lab)[:12])}</text>")
    for si, (name, ys) in enumerate(series.items()):
        colour = _PALETTE[si % len(_PALETTE)]
        pts = [(sx(i), sy(float(v))) for i, v in enumerate(ys) if _finite(v)]
        if len(pts) > 1:
            body.append('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
                colour, " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)))
        for a, b in pts:
            body.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{colour}"/>')
        body.append(f'<rect x="{w - pad - 150}" y="{24 + si * 16}" width="10" height="10" '
                    f'fill="{colour}"/><text x="{w - pad - 136}" y="{33 + si * 16}">'
                    f"{_e(name)}</text>")
    return _svg(w, h, body, title)
