"""Page records -> HTML. No data access here: everything comes from the records of ``_pages``."""

from __future__ import annotations

from typing import Sequence

from mlflow_steward.app import _svg as svg
from mlflow_steward.app._monitor_view import NO_MONITOR_RUNS, monitoring_section
from mlflow_steward.app._html import (
    Links,
    a,
    badge,
    empty,
    esc,
    interval,
    layout,
    number,
    p_value,
    section,
    table,
    when,
    when_iso,
)
from mlflow_steward.app._records import (
    DatasetPage,
    DatasetVersion,
    GateDetail,
    GatePage,
    GateRowView,
    GateSummary,
    ModelPage,
    ModelsPage,
    MonitorWindow,
    Move,
    epoch,
)

NO_DATASET_VERSIONS = "no dataset versions yet"
NO_MOVES = "production has never moved (no promotion recorded)"
NO_GATES = "no gate decisions yet"
_ACTION_WORD = {"promote": "promote", "force": "forced", "rollback": "rollback"}
_MOVES_SHOWN = 15


# --- the models list -------------------------------------------------------------------------------
def render_models(page: ModelsPage, links: Links, *, user: str | None = None) -> str:
    rows = []
    for m in page.models:
        rows.append([
            a(links.model(m.name), m.name),
            _version_cell(m.name, m.production, links),
            _version_cell(m.name, m.staging, links),
            esc(f"{m.production.metric}: {m.production.metric_text}") if m.production and m.production.metric_text else "–",
            _gate_cell(m.name, m.last_gate, links),
            _monitor_cell(m.monitor, links),
            esc(when(m.updated)),
        ])
    body = ['<h1>Models</h1><p class="sub">Production and staging of every registered model, '
            "the last gate verdict and the last monitor state.</p>"]
    if rows:
        listing = table(["model", "production", "staging", "key metric (production)", "last gate", "monitor", "updated"],
                        rows, css="models")
    else:
        listing = empty("no registered models yet" if not page.hidden else "no registered model you may read")
    if page.hidden:
        listing += f'<p class="sub">{page.hidden} model(s) you may not read are not listed.</p>'
    body.append(section("Registered models", listing, anchor="models"))
    body.append(section("Datasets", _datasets_list(page, links), anchor="datasets"))
    return layout("Models", "".join(body), links, user=user)


def _version_cell(name: str, brief, links: Links) -> str:
    if brief is None:
        return "–"
    return a(links.mlflow_version(name, brief.version), f"v{brief.version}") + " " + (badge(brief.gate) if brief.gate else "")


def _gate_cell(name: str, gate: GateSummary | None, links: Links) -> str:
    if gate is None:
        return "–"
    against = f" vs v{gate.champion_version}" if gate.champion_version else " (first)"
    verdict = gate.verdict or gate.status.lower()
    return (badge(verdict) + " " + a(links.gate(name, gate.run_id), f"v{gate.version}{against}")
            + f' <span class="sub">{esc(when(gate.started))}</span>')


def _monitor_cell(window: MonitorWindow | None, links: Links) -> str:
    if window is None:
        return '<span class="empty">no monitor runs yet</span>'
    return badge(window.state or "unknown") + " " + a(links.mlflow_run(window.run_id, window.experiment_id), when(window.end))


def _datasets_list(page: ModelsPage, links: Links) -> str:
    if not page.datasets:
        return empty(NO_DATASET_VERSIONS)
    return table(
        ["dataset", "current version", "versions", "rows"],
        [[a(links.dataset(d.name), d.name), esc(d.current or "–"), esc(d.versions), esc(number(d.rows))]
         for d in page.datasets],
        numeric=(2, 3),
    )


# --- one model -------------------------------------------------------------------------------------
def render_model(page: ModelPage, links: Links, *, user: str | None = None) -> str:
    head = (
        f"<h1>{esc(page.name)}</h1>"
        f'<p class="sub">{esc(page.task or "task unknown")} · key metric {esc(page.key_metric or "–")} · '
        f'{a(links.mlflow_model(page.name), "open in MLflow")}</p>'
        + _cards(page, links)
    )
    notes = ""
    if page.notes:
        notes = '<div class="notes"><strong>Registry notes</strong><ul>' + "".join(
            f"<li>{esc(n)}</li>" for n in page.notes) + "</ul></div>"
    body = [
        head, notes,
        section("Production history", _history(page, links), anchor="history"),
        section("Gate decisions", _gates(page, links), anchor="gates"),
        section("Monitoring", monitoring_section(page, links), anchor="monitoring"),
        section("Dataset versions", _model_datasets(page.datasets, links), anchor="datasets"),
        section("Versions", _versions(page, links), anchor="versions"),
    ]
    return layout(page.name, "".join(body), links, user=user)


def _card(label: str, value: str) -> str:
    return f'<div class="card"><div class="label">{esc(label)}</div><div class="value">{value}</div></div>'


def _cards(page: ModelPage, links: Links) -> str:
    def version(v: str | None) -> str:
        if v is None:
            return "–"
        metric = next((r.metrics.get(page.key_metric, "") for r in page.versions if r.version == v), "")
        text = a(links.mlflow_version(page.name, v), f"v{v}")
        return text + (f' <span class="sub">{esc(page.key_metric)} {esc(metric)}</span>' if metric else "")

    last_gate = page.gates[0] if page.gates else None
    gate = "–" if last_gate is None else badge(last_gate.verdict or last_gate.status.lower()) + f" v{esc(last_gate.version)}"
    window = page.last_window
    state = empty(NO_MONITOR_RUNS) if window is None else badge(window.state or "unknown") + f" {esc(when(window.end))}"
    return '<div class="cards">' + "".join([
        _card("production", version(page.production)),
        _card("staging", version(page.staging)),
        _card("last gate", gate),
        _card("monitor", state),
    ]) + "</div>"


def _history(page: ModelPage, links: Links) -> str:
    if not page.moves:
        return empty(NO_MOVES)
    chart = _production_chart(page.moves)
    older, recent = page.moves[:-_MOVES_SHOWN], page.moves[-_MOVES_SHOWN:]
    folded = ""
    if older:
        items = "".join(_move_item(m, page.name, links) for m in older)
        folded = f'<details><summary>{len(older)} earlier moves</summary><ol class="timeline">{items}</ol></details>'
    items = "".join(_move_item(m, page.name, links) for m in recent)
    return f'<div class="charts">{chart}</div>{folded}<ol class="timeline">{items}</ol>'


def _production_chart(moves: Sequence[Move]) -> str:
    points = [(epoch(m.at), m) for m in moves]
    points = [(t, m) for t, m in points if t is not None]
    if not points:
        return ""
    versions = sorted({int(m.to_version) for _, m in points if m.to_version.isdigit()})
    if not versions:
        return ""
    series = svg.Series(
        name="production",
        xs=tuple(t for t, _ in points),
        ys=tuple(float(m.to_version) if m.to_version.isdigit() else float("nan") for _, m in points),
        alarms=tuple(m.action == "rollback" for _, m in points),
        step=True,
        labels=tuple(f"#{m.seq} {_ACTION_WORD.get(m.action, m.action)} to v{m.to_version}" for _, m in points),
    )
    ticks = [float(v) for v in range(versions[0], versions[-1] + 1)]
    if len(ticks) > 8:
        ticks = svg.nice_ticks(ticks[0], ticks[-1])
    return svg.time_chart([series], title="production version over time (rollbacks in red)", height=180,
                          y_ticks=ticks, y_labels=[f"v{t:g}" for t in ticks])


def _move_item(move: Move, name: str, links: Links) -> str:
    start = "none" if move.from_version is None else a(links.mlflow_version(name, move.from_version), f"v{move.from_version}")
    run = f" · {a(links.mlflow_run(move.run_id), 'run')}" if move.run_id else ""
    action = _ACTION_WORD.get(move.action, move.action)
    return (
        f'<li class="move" data-seq="{move.seq}" data-action="{esc(action)}">{badge(action)} <strong>#{move.seq}</strong> '
        f'{start} → {a(links.mlflow_version(name, move.to_version), f"v{move.to_version}")} '
        f'<span class="reason">{esc(move.reason)}</span>'
        f'<span class="meta"> · {esc(when_iso(move.at))} · by {esc(move.by or "–")}{run}</span></li>'
    )


def _gates(page: ModelPage, links: Links) -> str:
    if not page.gates:
        return empty(NO_GATES)
    rows = []
    for g in page.gates:
        rows.append([
            esc(when(g.started)),
            a(links.mlflow_version(page.name, g.version), f"v{g.version}") if g.version else "–",
            esc(f"v{g.champion_version}") if g.champion_version else "thresholds (first)",
            badge(g.verdict or g.status.lower()),
            esc(_overall_text(g)),
            a(links.gate(page.name, g.run_id), "decision") + " · " + a(links.mlflow_run(g.run_id, g.experiment_id), "run"),
        ])
    listing = table(["decided", "challenger", "against", "verdict", "overall difference", ""], rows, css="gates")
    details = "".join(render_gate_detail(d, page.name, links) for d in page.gate_details)
    more = (f'<p class="sub">The newest {len(page.gate_details)} decisions in full; the others open from '
            "the table.</p>") if len(page.gates) > len(page.gate_details) else ""
    return listing + more + details


def _overall_text(g: GateSummary) -> str:
    if g.difference is not None:
        return f"{g.metric} {interval(g.difference, signed=True)}"
    if g.challenger is not None:
        return f"first candidate: {g.challenger_metric} {interval(g.challenger)}"
    return "–"


def render_gate_detail(detail: GateDetail, name: str, links: Links, *, full: bool = False) -> str:
    """One decision: headline, checks, forest plot, the notable rows, the whole table folded."""
    s = detail.summary
    against = f"production v{s.champion_version}" if s.champion_version else "absolute thresholds (first candidate)"
    head = (f'<article class="gate" id="gate-{esc(s.run_id)}"><h3>{badge(s.verdict or s.status.lower())} '
            f'v{esc(s.version)} vs {esc(against)}</h3>')
    if detail.error:
        return head + empty(f"{detail.error} (run {s.status.lower()})") + "</article>"
    meta = (f'<p class="sub">Decided {esc(when_iso(detail.decided_at))} on {detail.n_rows:,} test rows '
            f"(<code>{esc(detail.test_source)}</code>) · "
            + a(links.mlflow_artifact(s.run_id, s.experiment_id, "gate/decision.json"), "decision.json") + "</p>")
    checks = "<ul class=checks>" + "".join(
        f'<li class="{"ok" if passed else "fail"}">{"✓" if passed else "✗"} <strong>{esc(n)}</strong>: {esc(d)}</li>'
        for n, passed, d in detail.checks) + "</ul>"
    forest = ""
    if detail.forest is not None:
        f = detail.forest
        forest = '<div class="charts">' + svg.forest_chart(
            f.labels, f.estimates, f.lows, f.highs, f.worse, margin=f.margin, metric=f.metric) + "</div>"
    shown = detail.rows if full else detail.notable_rows
    quiet = len(detail.rows) - len(shown)
    table_html = _gate_table(shown)
    if quiet > 0:
        table_html += (f"<details><summary>all {len(detail.rows)} rows ({quiet} ok, too small or not compared)"
                       f"</summary>{_gate_table(detail.rows)}</details>")
    return head + meta + checks + forest + table_html + "</article>"


def _gate_table(rows: Sequence[GateRowView]) -> str:
    return table(
        ["slice", "n", "champion", "challenger", "difference [interval]", "p adj.", "verdict"],
        [[
            "<strong>overall</strong>" if r.column == "overall" else esc(f"{r.column} = {r.value}"),
            esc(f"{r.n:,}"), esc(number(r.champion)), esc(number(r.challenger)),
            esc(interval(r.difference, signed=True)), esc(p_value(r.p_adjusted)),
            badge(r.verdict) if r.verdict not in ("ok",) else esc(r.verdict),
        ] for r in rows],
        css="slices", numeric=(1, 2, 3, 4, 5),
    )


def _model_datasets(versions: Sequence[DatasetVersion], links: Links) -> str:
    if not versions:
        return empty(NO_DATASET_VERSIONS)
    return _dataset_table(versions, links)


def _dataset_table(versions: Sequence[DatasetVersion], links: Links) -> str:
    return table(
        ["dataset", "version", "rows", "ingest", "created", "digest", ""],
        [[
            a(links.dataset(v.dataset), v.dataset), esc(v.version) + (" " + badge("current", "production") if v.current else ""),
            esc(number(v.rows)), badge(v.ingest_verdict), esc(when_iso(v.created)), f"<code>{esc(v.digest[:16])}</code>",
            a(links.mlflow_run(v.run_id, v.experiment_id), "run") if v.run_id else "",
        ] for v in versions],
        css="dataset-versions", numeric=(2,),
    )


def _versions(page: ModelPage, links: Links) -> str:
    if not page.versions:
        return empty("no versions")
    rows = []
    for v in page.versions:
        rows.append([
            a(links.mlflow_version(page.name, v.version), f"v{v.version}"),
            " ".join(badge(alias, alias) for alias in v.aliases) or "–",
            badge(v.gate) if v.gate else "–",
            esc(v.metrics.get(page.key_metric, "–")),
            f"<code>{esc(v.dataset_version or '–')}</code>",
            esc(when_iso(v.created)),
            a(links.mlflow_run(v.run_id), "run") if v.run_id else "–",
        ])
    return table(["version", "aliases", "gate", page.key_metric or "key metric", "dataset", "created", ""], rows,
                 css="versions")


# --- one gate decision, one dataset, errors -------------------------------------------------------
def render_gate(page: GatePage, links: Links, *, user: str | None = None) -> str:
    s = page.detail.summary
    body = (f'<p class="sub">{a(links.model(page.name), page.name)} · gate decision</p>'
            f"<h1>{esc(page.name)} v{esc(s.version)}</h1>" + render_gate_detail(page.detail, page.name, links, full=True))
    return layout(f"{page.name} v{s.version} gate", f"<section>{body}</section>", links, user=user)


def render_dataset(page: DatasetPage, links: Links, *, user: str | None = None) -> str:
    parts = [f"<h1>{esc(page.name)}</h1><p class=sub>dataset</p>"]
    if not page.versions:
        parts.append(section("Versions", empty(NO_DATASET_VERSIONS), anchor="versions"))
    else:
        parts.append(section("Versions", _dataset_table(page.versions, links), anchor="versions"))
    if page.moves:
        items = "".join(
            f'<li class="move" data-seq="{m.seq}">{badge(m.action)} <strong>#{m.seq}</strong> '
            f'{esc(m.from_version or "none")} → {esc(m.to_version)}<div class="meta">{esc(when_iso(m.at))} · '
            f'by {esc(m.by or "–")}</div><div class="reason">{esc(m.reason)}</div></li>' for m in page.moves)
        parts.append(section("Current pointer history", f'<ol class="timeline">{items}</ol>', anchor="pointer"))
    else:
        parts.append(section("Current pointer history", empty("the pointer has never moved"), anchor="pointer"))
    return layout(page.name, "".join(parts), links, user=user)


def render_error(status: int, message: str, links: Links, *, user: str | None = None) -> str:
    title = {404: "Not found", 400: "Bad request"}.get(status, "Error")
    body = f"<h1>{esc(title)}</h1><p>{esc(message)}</p><p>{a(links.home(), 'All models')}</p>"
    return layout(title, body, links, user=user)
