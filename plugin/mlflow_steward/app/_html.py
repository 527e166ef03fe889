"""HTML building blocks: escaping, links into MLflow's own UI and ours, tables, badges, the layout."""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from html import escape
from typing import Iterable, Sequence
from urllib.parse import quote

from mlflow_steward.app._records import Point

STEWARD_ROOT = "/steward"


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


@dataclass(frozen=True)
class Links:
    """Addresses of our pages and of MLflow's (its UI routes by ``#/...``), under the static prefix."""

    prefix: str = ""

    def home(self) -> str:
        return f"{self.prefix}{STEWARD_ROOT}/"

    def model(self, name: str) -> str:
        return f"{self.prefix}{STEWARD_ROOT}/models/{quote(name, safe='')}"

    def gate(self, name: str, run_id: str) -> str:
        return f"{self.model(name)}/gates/{quote(run_id, safe='')}"

    def dataset(self, name: str) -> str:
        return f"{self.prefix}{STEWARD_ROOT}/datasets/{quote(name, safe='')}"

    def mlflow(self) -> str:
        return f"{self.prefix}/"

    def mlflow_model(self, name: str) -> str:
        return f"{self.prefix}/#/models/{quote(name, safe='')}"

    def mlflow_version(self, name: str, version: str) -> str:
        return f"{self.prefix}/#/models/{quote(name, safe='')}/versions/{quote(str(version), safe='')}"

    def mlflow_run(self, run_id: str, experiment_id: str | None = None) -> str:
        if experiment_id:
            return f"{self.prefix}/#/experiments/{quote(experiment_id, safe='')}/runs/{quote(run_id, safe='')}"
        return f"{self.prefix}/#/runs/{quote(run_id, safe='')}"

    def mlflow_artifact(self, run_id: str, experiment_id: str, path: str) -> str:
        return f"{self.mlflow_run(run_id, experiment_id)}/artifactPath/{quote(path)}"


def a(href: str, text: object, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f'<a href="{esc(href)}"{cls}>{esc(text)}</a>'


def badge(word: str, css: str | None = None) -> str:
    """A coloured word: verdicts, actions and monitor states share one palette."""
    if not word:
        return '<span class="badge none">–</span>'
    kind = (css or word).lower().replace(" ", "-")
    return f'<span class="badge {esc(kind)}">{esc(word)}</span>'


def number(value: float | None) -> str:
    """``49123.4`` -> ``49,123``; ``0.81234`` -> ``0.8123``; None/NaN -> ``–``."""
    if value is None or not math.isfinite(float(value)):
        return "–"
    value = float(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == 0:
        return "0"
    return f"{value:.4g}"


def interval(point: Point | None, *, signed: bool = False) -> str:
    """``-810 [-1,710, 90]``: the value and its interval with one precision (set by the largest)."""
    if point is None:
        return "–"
    values = [v for v in (point.value, point.low, point.high) if v is not None and math.isfinite(v)]
    if not values or not math.isfinite(point.value):
        return number(point.value)
    scale = max(abs(v) for v in values) or 1.0
    digits = min(6, max(0, 3 - math.floor(math.log10(scale))))

    def fmt(v: float, sign: bool = False) -> str:
        text = f"{v:,.{digits}f}"
        return "+" + text if sign and v > 0 else text

    head = fmt(point.value, signed)
    if point.low is None or point.high is None:
        return head
    return f"{head} [{fmt(point.low)}, {fmt(point.high)}]"


def p_value(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def when(seconds: float | None) -> str:
    if not seconds:
        return "–"
    return _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def when_iso(text: str) -> str:
    """``2026-05-01T12:00:00+00:00`` -> ``2026-05-01 12:00 UTC`` (unparsable text as is)."""
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return text or "–"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, css: str = "", numeric: Sequence[int] = ()) -> str:
    """A table of already-escaped cells; ``numeric`` column indexes are right-aligned."""
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{esc(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{c}</td>' for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def empty(text: str) -> str:
    return f'<p class="empty">{esc(text)}</p>'


def section(title: str, body: str, *, anchor: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:#1f2328;background:#f6f8fa}
header{display:flex;align-items:center;gap:18px;padding:10px 24px;background:#0b3d5c;color:#fff}
header a{color:#fff;text-decoration:none}header .brand{font-weight:700;font-size:17px}
header nav{display:flex;gap:14px}header .user{margin-left:auto;opacity:.8}
main{max-width:1180px;margin:0 auto;padding:18px 24px 40px}
h1{font-size:22px;margin:6px 0 2px}h2{font-size:17px;margin:0 0 10px}h3{font-size:15px;margin:14px 0 6px}
.sub{color:#57606a;margin:0 0 14px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:14px 16px;margin:14px 0}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{border-bottom:1px solid #e6e9ec;padding:5px 9px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600;white-space:nowrap}table.models td:first-child{white-space:nowrap}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
a{color:#0969da}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#eaeef2;color:#24292f}
.badge.passed,.badge.healthy,.badge.promote,.badge.accepted,.badge.production{background:#dafbe1;color:#116329}
.badge.rejected,.badge.performance,.badge.worse,.badge.failed{background:#ffebe9;color:#a40e26}
.badge.forced,.badge.force,.badge.drift,.badge.quarantined,.badge.allowed{background:#fff8c5;color:#7d4e00}
.badge.rollback,.badge.staging{background:#ddf4ff;color:#0a3069}.badge.better{background:#dafbe1;color:#116329}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;min-width:200px}
.card .label{color:#57606a;font-size:12px;text-transform:uppercase;letter-spacing:.04em}.card .value{font-size:16px;margin-top:2px}
.empty{color:#57606a;font-style:italic;margin:4px 0}
.notes{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 14px}
ol.timeline{list-style:none;padding:0;margin:8px 0}
ol.timeline li{border-left:3px solid #d0d7de;padding:3px 0 3px 14px;margin-left:6px;position:relative}
ol.timeline li:before{content:"";position:absolute;left:-7px;top:8px;width:11px;height:11px;border-radius:50%;background:#0b3d5c}
ol.timeline .meta{color:#57606a;font-size:12px}ol.timeline .reason{color:#24292f}
.gate{border-top:1px solid #e6e9ec;padding-top:10px;margin-top:12px}
ul.checks{margin:4px 0 8px;padding-left:18px}ul.checks .ok{color:#116329}ul.checks .fail{color:#a40e26}
.charts{display:flex;flex-wrap:wrap;gap:10px}
svg.chart{background:#fff;border:1px solid #e6e9ec;border-radius:4px;max-width:100%;height:auto}
svg .chart-title{font-size:12px;font-weight:600;fill:#24292f}svg .tick,svg .legend{font-size:10px;fill:#57606a}
svg .axis{stroke:#8c959f}svg .grid{stroke:#eaeef2}svg .zero{stroke:#24292f}
svg .reference{stroke:#bf8700;stroke-dasharray:5 3}svg .reference-label{font-size:10px;fill:#7d4e00}
svg .band{opacity:.18}svg .line{stroke-width:1.8}svg .interval{stroke-width:2.4}svg .whisker{stroke-width:1.4}
svg .chart-empty{fill:#57606a;font-style:italic}
details summary{cursor:pointer;color:#0969da;margin:4px 0}
footer{color:#57606a;text-align:center;font-size:12px;padding:12px}
"""


def layout(title: str, body: str, links: Links, *, user: str | None = None) -> str:
    """A whole page: header with navigation, the body, the read-only footer. CSS inline, no scripts."""
    who = f'<span class="user">signed in as {esc(user)}</span>' if user else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        f"<title>{esc(title)} · steward</title><style>{CSS}</style></head><body>"
        f'<header>{a(links.home(), "steward", "brand")}<nav>{a(links.home(), "Models")}'
        f'{a(links.mlflow(), "MLflow")}</nav>{who}</header>'
        f"<main>{body}</main>"
        "<footer>Read-only. Every change goes through the steward CLI and the registry code that checks it."
        "</footer></body></html>"
    )
