"""HTML building blocks shared by the report page and its sections: escaping, numbers, badges,
tables, the page around them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from fairslm.reporting._format import format_interval, format_number

__all__ = ["CRITERIA_ORDER", "badge", "e", "fmt", "generic", "interval", "page", "table"]

# The stylesheet of every page fairslm writes (report, compliance): inline, nothing loaded.
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#111827;
background:#f9fafb;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:1.7em;margin:.2em 0}h2{margin-top:2em;border-bottom:2px solid #e5e7eb;
padding-bottom:.2em}h3{margin-top:1.4em}
table{border-collapse:collapse;margin:.6em 0 1em;background:#fff;font-size:.92em}
th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
table{max-width:100%}
th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.num{white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:.85em}
.pass{background:#dcfce7;color:#166534}.fail{background:#fee2e2;color:#991b1b}
.insufficient,.undefined,.n-a{background:#fef3c7;color:#92400e}
.banner{padding:14px 18px;border-radius:8px;margin:1em 0;font-size:1.1em}
.banner.pass{border:1px solid #86efac}.banner.fail{border:1px solid #fca5a5}
.banner.insufficient{border:1px solid #fcd34d}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:12px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px}
.card h4{margin:.2em 0 .4em}.card p{margin:.3em 0;font-size:.9em}
.muted{color:#6b7280}.small{font-size:.85em}
tr.insufficient-row td{color:#9ca3af}
mark{background:#fde68a;padding:0 2px;border-radius:2px}
mark.old{background:#fecaca;text-decoration:line-through}
details{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:6px 12px;margin:.8em 0}
summary{cursor:pointer;font-weight:600}
svg{max-width:100%;height:auto;background:#fff}
code{background:#f3f4f6;padding:0 3px;border-radius:3px}
nav a{margin-right:12px}
.row{display:flex;flex-wrap:wrap;gap:0 24px}
"""

# The criteria the report shows as cards and columns, in the guide's order.
CRITERIA_ORDER = ("statistical_parity", "equal_opportunity", "predictive_parity", "equalized_odds")

def e(x: Any) -> str:
    """Escape any value for HTML text or attribute context."""
    return escape("" if x is None else str(x), quote=True)


def fmt(x: Any, digits: int = 3) -> str:
    """A value as escaped HTML text, numbers through :func:`format_number`."""
    return e(format_number(x, digits))


def interval(iv: Any) -> str:
    """An interval after its value, muted; empty without one."""
    if isinstance(iv, Sequence) and len(iv) == 2 and all(isinstance(v, (int, float)) for v in iv):
        return f" <span class='muted small'>{e(format_interval(iv))}</span>"
    return ""


def badge(verdict: Any) -> str:
    v = str(verdict or "n/a")
    cls = v if v in ("pass", "fail", "insufficient", "undefined") else "n-a"
    return f"<span class='badge {cls}'>{e(v)}</span>"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, raw: bool = True) -> str:
    """An HTML table. Cells are already-escaped HTML when ``raw`` (the renderer's own)."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if raw else e(c)}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(
    title: str,
    subtitle: str,
    sections: Sequence[tuple[str, str, str]],
    *,
    nav: Sequence[tuple[str, str]] | None = None,
    body: str = "",
) -> str:
    """A self-contained HTML page: no script, nothing loaded, the report's stylesheet.

    ``sections`` holds ``(id, title, html)``, appended after ``body``; ``nav`` links to ids.
    """
    body += "".join(
        f"<section id='{e(sid)}'>" + (f"<h2>{e(t)}</h2>" if t else "") + h + "</section>"
        for sid, t, h in sections
    )
    links = " ".join(f"<a href='#{e(sid)}'>{e(t)}</a>" for sid, t in (nav or []))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{e(title)}</h1><p class='muted small'>{e(subtitle)}</p>"
        + (f"<nav class='small'>{links}</nav>" if links else "")
        + f"{body}</main></body></html>\n"
    )


_SKIP_KEYS = {"kind", "schema_version", "svg"}


def generic(obj: Any, depth: int = 0) -> str:
    """Render any JSON value readably: dicts as key/value tables, lists of dicts as tables."""
    if isinstance(obj, Mapping):
        if not obj:
            return "<span class='muted'>none</span>"
        rows = [[f"<b>{e(k)}</b>", generic(v, depth + 1)] for k, v in obj.items()
                if k not in _SKIP_KEYS]
        return table(["", ""], rows) if depth < 4 else e(obj)
    if isinstance(obj, (list, tuple)):
        if obj and all(isinstance(x, Mapping) for x in obj):
            cols: list[str] = []
            for x in obj:
                cols += [k for k in x if k not in cols and k not in _SKIP_KEYS]
            rows = [[generic(x.get(c), depth + 1) for c in cols] for x in obj[:200]]
            more = f"<p class='small muted'>{len(obj) - 200} more rows</p>" if len(obj) > 200 else ""
            return table(cols, rows) + more
        return e(", ".join(fmt(x) if isinstance(x, (int, float)) else str(x) for x in obj))
    if isinstance(obj, (int, float)) or obj is None:
        return f"<span class='num'>{fmt(obj)}</span>"
    return e(obj)
