"""Self-contained HTML reports: inline CSS, tables, figures as PNG data URIs, nothing fetched.

The MLflow UI shows HTML artifacts in a sandboxed frame from a blob URL: anything relative or
remote would not load, so everything is inlined.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2328;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
p.sub{color:#59636e;margin:0 0 16px}table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#1a7f37;font-weight:600}
.bad{color:#cf222e;font-weight:600}.warn{color:#9a6700;font-weight:600}.verdict{font-size:18px;margin:8px 0}
img{max-width:100%;border:1px solid #d0d7de;margin:6px 0}code{background:#f6f8fa;padding:1px 4px;border-radius:4px}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            cls = ' class="num"' if index in numeric else ""
            text = cell if isinstance(cell, Raw) else esc(cell)
            cells.append(f"<td{cls}>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class Raw(str):
    """Markup that :func:`table` inserts as is (already escaped)."""


def mark(ok: bool | None, text: str) -> Raw:
    cls = "warn" if ok is None else ("ok" if ok else "bad")
    return Raw(f'<span class="{cls}">{esc(text)}</span>')


def figure_data_uri(figure: Any) -> str:
    """A matplotlib figure as a PNG data URI (the figure is closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def image(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{esc(alt)}">'


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str]]) -> str:
    """The whole document: title, subtitle, then ``(heading, html)`` sections."""
    parts = [f"<h1>{esc(title)}</h1>", f'<p class="sub">{esc(subtitle)}</p>']
    for heading, body in sections:
        parts.append(f"<h2>{esc(heading)}</h2>{body}" if heading else body)
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>{''.join(parts)}</body></html>"
    )
