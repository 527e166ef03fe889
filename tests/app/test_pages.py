"""The page data functions on a real SQLite store (v1 promoted, v2 staging), and the routes through
Flask's test client. The views on hand-made records are in ``test_views.py``."""

from __future__ import annotations

import datetime

import pytest

from mlflow_steward import names
from mlflow_steward.app import (
    Access,
    AppConfig,
    PageNotFound,
    dataset_page,
    gate_page,
    model_page,
    models_page,
    render_model,
)
from mlflow_steward.app._html import Links

MODEL = "housing"  # the registry tests' model name


@pytest.fixture
def client(with_production):
    import mlflow

    return mlflow.MlflowClient()


def test_models_page_lists_production_staging_last_gate_and_monitor_state(client, monitor_runs):
    page = models_page(client)
    assert [m.name for m in page.models] == [MODEL] and page.hidden == 0
    summary = page.models[0]
    tags = client.get_model_version(MODEL, "1").tags
    assert summary.production.version == "1" and summary.production.metric == "rmse"
    assert summary.production.metric_text == tags[names.metric_tag("rmse")] != ""
    assert summary.production.gate == names.GATE_PASSED
    assert summary.staging.version == "2" and summary.staging.gate == ""
    assert summary.last_gate.version == "1" and summary.last_gate.verdict == names.GATE_PASSED
    assert summary.last_gate.champion_version is None and summary.last_gate.challenger_metric == "r2"  # thresholds
    assert summary.monitor is None and page.datasets == ()

    monitor_runs(client, MODEL, "1", windows=4, drift_at=3)
    assert models_page(client).models[0].monitor.state == "drift"  # the newest window


def test_model_page_reads_versions_history_gates_and_renders_empty_views(client):
    page = model_page(client, MODEL)
    assert [v.version for v in page.versions] == ["2", "1"]
    assert page.production == "1" and page.staging == "2" and page.task == "regression"
    assert [(m.seq, m.action, m.from_version, m.to_version) for m in page.moves] == [(1, "promote", None, "1")]
    assert [(g.version, g.verdict) for g in page.gates] == [("1", names.GATE_PASSED)]
    detail = page.gate_details[0]
    assert detail.rows[0].column == "overall" and detail.forest is None  # a first candidate: nothing compared
    assert {r.verdict for r in detail.rows[1:]} <= {"not compared", "too small"} and detail.notable_rows == detail.rows[:1]
    assert page.windows == () and page.datasets == () and page.notes == ()
    assert page.test_values["rmse"].low is not None
    html = render_model(page, Links())
    assert "no monitor runs yet" in html and "no dataset versions yet" in html
    assert 'href="/#/models/housing/versions/2"' in html


def test_model_page_after_a_champion_challenger_decision(client, fast_gate_config, monitor_runs):
    from mlflow_steward.registry import promote

    decision = promote(MODEL, 2, config=fast_gate_config)
    monitor_runs(client, MODEL, "2", windows=5, drift_at=4)
    page = model_page(client, MODEL, config=AppConfig(gate_details=1))
    assert page.production == "2" and [m.to_version for m in page.moves] == ["1", "2"]
    assert [g.version for g in page.gates] == ["2", "1"] and len(page.gate_details) == 1
    latest = page.gate_details[0]
    assert latest.summary.champion_version == "1" and latest.summary.verdict == decision.verdict
    overall = decision.overall
    assert latest.summary.difference.value == pytest.approx(overall.difference.estimate)
    assert latest.forest is not None and latest.forest.labels[0] == "overall"
    assert [r.column for r in latest.rows] == [r.column for r in decision.rows]
    assert [w.state for w in page.windows] == ["healthy"] * 4 + ["drift"]
    assert page.windows[-1].drift[("median_income", "psi")].alarm
    html = render_model(page, Links())
    assert html.count('class="chart forest"') == 1 and "live rmse" in html

    gate = gate_page(client, MODEL, page.gates[1].run_id)  # the older decision, on its own page
    assert gate.detail.summary.version == "1"
    with pytest.raises(PageNotFound):
        gate_page(client, MODEL, page.windows[0].run_id)  # a monitor run is not a gate run


def test_a_user_sees_only_models_they_may_read(client):
    hidden = Access(user="bob", can_read=lambda model: model.name != MODEL)
    page = models_page(client, hidden)
    assert page.models == () and page.hidden == 1
    with pytest.raises(PageNotFound, match="no registered model 'housing' that you may read"):
        model_page(client, MODEL, hidden)
    with pytest.raises(PageNotFound):
        model_page(client, "no-such-model")


def test_dataset_page_has_no_versions_yet(client):
    page = dataset_page(client, "housing")
    assert page.versions == () and page.moves == () and page.current is None


def test_routes_through_flask_test_client(client):
    from flask import Flask

    from mlflow_steward.app._routes import register_routes

    app = Flask("steward-test")
    register_routes(app, AppConfig())
    web = app.test_client()
    assert web.get("/steward").status_code == 302
    home = web.get("/steward/")
    assert home.status_code == 200 and home.content_type.startswith("text/html")
    assert '<a href="/steward/models/housing">housing</a>' in home.get_data(as_text=True)
    assert web.get("/steward/models/housing").status_code == 200
    missing = web.get("/steward/models/nope")
    assert missing.status_code == 404 and "no registered model" in missing.get_data(as_text=True)
    assert "no dataset versions yet" in web.get("/steward/datasets/housing").get_data(as_text=True)
    assert web.post("/steward/").status_code == 405  # read-only


def test_cache_reads_each_finished_run_once(client, monitor_runs, monkeypatch):
    from mlflow_steward.app import _monitor_source as source
    from mlflow_steward.app._cache import ServerCache

    cache = ServerCache()
    monitor_runs(client, MODEL, "1", windows=3)
    looks = []
    real = source._runs
    monkeypatch.setattr(source, "_runs", lambda *a, **k: looks.append(a[3:]) or real(*a, **k))
    assert len(source.read_windows(client, MODEL, max_windows=100, cache=cache.windows)) == 3
    later = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    monitor_runs(client, MODEL, "1", windows=2, drift_at=1, start=later)
    windows = source.read_windows(client, MODEL, max_windows=100, cache=cache.windows)
    assert [w.state for w in windows] == ["healthy"] * 4 + ["drift"]  # oldest first, the new ones added
    assert looks[0] == (None,) and looks[1][0] > 0  # one full search, then one for runs ended since
    assert windows == source.read_windows(client, MODEL, max_windows=100)
    assert source.latest_window(client, MODEL, cache.windows) == windows[-1]
    assert len(source.read_windows(client, MODEL, max_windows=2, cache=cache.windows)) == 2

    page = model_page(client, MODEL, cache=cache)  # gate runs cached too: the same page either way
    assert page == model_page(client, MODEL)
    assert cache.gates.seen(MODEL) and models_page(client, cache=cache) == models_page(client)
