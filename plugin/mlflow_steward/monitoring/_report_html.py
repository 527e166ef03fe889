"""``monitoring/report.html``: one self-contained page per checked window.

The MLflow UI shows HTML artifacts in a sandboxed frame from a blob URL: everything is inline (CSS
in a ``<style>`` element, the dashboard as a PNG data URI), nothing is fetched, no script.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from mlflow_steward.monitoring._context import ModelContext
    from mlflow_steward.monitoring._live import WindowCheck

MAX_SLICE_ROWS = 60
MAX_DRIFT_ROWS = 60

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.2em;color:#222;font-size:14px}
h1{font-size:1.3em;margin:0 0 .3em}h2{font-size:1.05em;margin:1.4em 0 .4em}
table{border-collapse:collapse;margin:.3em 0}td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child,td.text{text-align:left}
.badge{display:inline-block;padding:2px 9px;border-radius:10px;color:#fff;font-weight:600}
.healthy,.ok{background:#27ae60}.drift{background:#e67e22}.performance,.worse{background:#c0392b}
.muted{color:#777}.alarm{color:#c0392b;font-weight:600}img{max-width:100%;border:1px solid #eee}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _n(value: Any) -> str:
    if value is None:
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _e(value)
    if not math.isfinite(number):
        return "–"
    from mlflow_steward._format import fmt

    return _e(fmt(number))


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _td(value: str, *, text: bool = False, alarm: bool = False) -> str:
    classes = " ".join(c for c in ("text" if text else "", "alarm" if alarm else "") if c)
    return f'<td class="{classes}">{value}</td>' if classes else f"<td>{value}</td>"


def figure_data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _live_section(check: WindowCheck) -> str:
    performance = check.performance
    if performance is None:
        return ""
    parts = [f"<h2>Live performance</h2><p>{_e(performance.summary())}</p>"]
    if performance.overall:
        rows = [[_td(_e(m.metric), text=True), _td(_n(m.value)), _td(f"{_n(m.low)} – {_n(m.high)}"),
                 _td(_n(None if m.test is None else m.test.value)), _td(_n(m.threshold)),
                 _td(_e(m.verdict), text=True, alarm=m.alarm)] for m in performance.overall]  # fmt: skip
        parts.append(_table(["metric", "window", "interval", "test value", "alarm beyond", "verdict"], rows))
    if check.estimate is not None:
        parts.append(f"<p>{_e(check.estimate.describe())}</p>")
        if check.estimate.calibration is not None:
            parts.append(f'<p class="muted">calibration check: {_e(check.estimate.calibration.describe())}</p>')
    for note in performance.notes:
        parts.append(f'<p class="muted">{_e(note)}</p>')
    table = performance.by_slice
    if len(table):
        ordered = table.assign(_worse=~table["worse_than_test"].astype(bool)).sort_values(["_worse", "metric", "slice_column"])
        rows = [[_td(_e(r["slice_column"]), text=True), _td(_e(r["slice_value"]), text=True), _td(_n(r["size"])),
                 _td(_e(r["metric"]), text=True), _td(_n(r["value"])), _td(f"{_n(r['ci_low'])} – {_n(r['ci_high'])}"),
                 _td(_n(r["test_value"])), _td("worse" if r["worse_than_test"] else _e(r["note"]), text=True,
                                               alarm=bool(r["worse_than_test"]))]
                for r in ordered.head(MAX_SLICE_ROWS).to_dict("records")]  # fmt: skip
        parts.append("<h2>By slice</h2>")
        parts.append(_table(["column", "value", "rows", "metric", "window", "interval", "test value", "note"], rows))
    return "".join(parts)


def _drift_section(check: WindowCheck) -> str:
    drift = check.drift
    if drift is None:
        return ""
    outcomes = sorted(drift.checks, key=lambda o: (not o.alarm, -(abs(o.score / o.threshold) if o.score is not None and o.threshold else 0)))
    rows = [[_td(_e(o.column), text=True), _td(_e(o.check), text=True), _td(_n(o.score)),
             _td(f"{_n(o.low)} – {_n(o.high)}"), _td(_n(o.threshold)), _td(_n(o.p_adjusted)),
             _td(_e(o.status), text=True, alarm=o.alarm)] for o in outcomes[:MAX_DRIFT_ROWS]]  # fmt: skip
    return (f"<h2>Drift</h2><p>{_e(drift.summary())}</p>"
            + _table(["column", "check", "score", "interval", "min. effect", "p adj.", "verdict"], rows))  # fmt: skip


def report_html(check: WindowCheck, context: ModelContext, *, figure: Figure | None = None, unmatched: int = 0) -> str:
    """The self-contained page of one window."""
    ref = context.ref
    image = f'<h2>Dashboard</h2><img alt="dashboard" src="{figure_data_uri(figure)}">' if figure is not None else ""
    labels = ""
    if unmatched:
        labels = f'<p class="muted">{unmatched:,} labelled request id(s) were not captured in the checked windows.</p>'
    other = f" ({check.other_versions:,} rows of other versions left out)" if check.other_versions else ""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{_e(ref.name)} monitor {_e(check.window.describe())}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(ref.describe())}: <span class='badge {_e(check.state)}'>{_e(check.state)}</span></h1>"
        f"<p>window {_e(check.window.start.isoformat())} to {_e(check.window.end.isoformat())}: "
        f"{check.rows:,} captured rows in {check.requests:,} requests{_e(other)}; task {_e(context.task)}</p>"
        f"{labels}{_live_section(check)}{image}{_drift_section(check)}</body></html>"
    )
