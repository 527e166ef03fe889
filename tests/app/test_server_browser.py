"""End to end: ``mlflow server --app-name steward`` over a store built through that same server (v1
promoted, v2 promoted, v3 rejected, rollback to v1, six monitor windows), each page opened in headless
Chromium. Asserts what is visible, that the browser logged no errors, and keeps screenshots under
``test-output/app/``."""

from __future__ import annotations

import re
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-output" / "app"
NAME = "housing-app"
ROLLBACK_REASON = "latency regression after the v2 launch"


@pytest.fixture(scope="module")
def steward(tmp_path_factory, start_tracking_server, housing_split, housing_models, register_housing,
            fast_gate_config, monitor_runs):
    import mlflow

    from mlflow_steward.registry import promote, rollback

    root = tmp_path_factory.mktemp("steward-server")
    previous = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    patch = pytest.MonkeyPatch()
    with start_tracking_server(f"sqlite:///{root / 'db.sqlite'}", root, extra_args=("--app-name", "steward")) as url:
        try:
            for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
                patch.setenv(key, url)
            patch.chdir(root)
            mlflow.set_tracking_uri(url)
            mlflow.set_registry_uri(url)
            mlflow.set_experiment("steward-app-e2e")
            decisions = []
            for key in ("linear", "forest", "shuffled"):
                version = register_housing(housing_split, housing_models[key], name=NAME).version
                decisions.append(promote(NAME, version, config=fast_gate_config))
            moved_back = rollback(NAME, reason=ROLLBACK_REASON)
            monitor_runs(mlflow.MlflowClient(), NAME, "1", windows=6, drift_at=5)
            yield SimpleNamespace(url=url, decisions=decisions, rollback=moved_back)
        finally:
            mlflow.set_tracking_uri(previous[0])
            mlflow.set_registry_uri(previous[1])
            patch.undo()


def _shot(browser, name: str) -> Path:
    path = browser.screenshot(SHOTS / name)
    assert path.stat().st_size > 10_000
    return path


def test_the_store_holds_the_story(steward):
    first, second, third = steward.decisions
    assert (first.verdict, second.verdict, third.verdict) == ("passed", "passed", "rejected")
    assert steward.rollback.to_version == "1" and steward.rollback.from_version == "2"


def test_models_page(steward, browser):
    result = browser.open(f"{steward.url}/steward/")
    assert result.errors == []
    row = browser.evaluate(
        "Array.from(document.querySelectorAll('table.models tbody tr')).map(r => r.innerText)"
    )
    assert len(row) == 1 and row[0].startswith(NAME)
    cells = browser.evaluate("Array.from(document.querySelectorAll('table.models tbody td')).map(c => c.innerText.trim())")
    assert cells[1].startswith("v1") and cells[2].startswith("v3")  # production after the rollback; staging
    assert cells[3].startswith("rmse: ")  # the key metric with its interval
    assert cells[4].startswith("rejected") and "v3 vs v2" in cells[4]  # the last gate
    assert cells[5].startswith("drift")  # the last monitor window
    assert "no dataset versions yet" in browser.evaluate("document.body.innerText")
    _shot(browser, "models.png")


def test_model_page(steward, browser):
    result = browser.open(f"{steward.url}/steward/models/{NAME}")
    assert result.errors == []
    moves = browser.evaluate(
        "Array.from(document.querySelectorAll('li.move')).map(li => [li.dataset.seq, li.dataset.action, li.innerText])"
    )
    assert [(seq, action) for seq, action, _ in moves] == [("1", "promote"), ("2", "promote"), ("3", "rollback")]
    assert "none → v1" in moves[0][2] and "v1 → v2" in moves[1][2] and "v2 → v1" in moves[2][2]
    assert ROLLBACK_REASON in moves[2][2]
    verdicts = browser.evaluate(
        "Array.from(document.querySelectorAll('table.gates tbody tr')).map(r => r.cells[1].innerText + ' ' + r.cells[3].innerText)"
    )
    assert verdicts == ["v3 rejected", "v2 passed", "v1 passed"]  # newest first
    details = browser.evaluate("Array.from(document.querySelectorAll('article.gate h3')).map(h => h.innerText)")
    assert details[0] == "rejected v3 vs production v2" and details[1] == "passed v2 vs production v1"
    charts = browser.evaluate("""Array.from(document.querySelectorAll('svg.chart')).map(s => {
        const box = s.getBoundingClientRect(); return [s.getAttribute('aria-label'), box.width, box.height]; })""")
    labels = [label for label, _, _ in charts]
    assert all(width > 100 and height > 100 for _, width, height in charts)  # drawn, visible
    assert sum(label.startswith("rmse: challenger - champion") for label in labels) == 2  # the two forest plots
    assert "production version over time (rollbacks in red)" in labels
    assert "live rmse with interval (test value dashed)" in labels
    assert "median_income: psi (alarms in red)" in labels
    versions = browser.evaluate("Array.from(document.querySelectorAll('table.versions tbody tr')).map(r => r.cells[0].innerText)")
    assert versions == ["v3", "v2", "v1"]
    text = browser.evaluate("document.body.innerText")
    assert "no dataset versions yet" in text and "Last window" in text
    _shot(browser, "model-page.png")
    browser.screenshot(SHOTS / "model-page-top.png", full_page=False, height=1450)  # the README's docs/server-page.png


def test_gate_and_dataset_pages(steward, browser):
    rejected = steward.decisions[2]
    result = browser.open(f"{steward.url}/steward/models/{NAME}/gates/{rejected.gate_run_id}")
    assert result.errors == []
    text = browser.evaluate("document.body.innerText")
    assert "rejected v3 vs production v2" in text and "overall" in text
    rows = browser.evaluate("document.querySelectorAll('article.gate table.slices tbody tr').length")
    assert rows == len(rejected.rows)  # the whole table on the decision's own page
    assert browser.evaluate("document.querySelectorAll('svg.forest').length") == 1
    _shot(browser, "gate-page.png")

    result = browser.open(f"{steward.url}/steward/datasets/housing")
    assert result.errors == [] and "no dataset versions yet" in browser.evaluate("document.body.innerText")

    result = browser.open(f"{steward.url}/steward/models/no-such-model")
    assert "no registered model 'no-such-model'" in browser.evaluate("document.body.innerText")


def test_mlflow_ui_is_still_served_and_shows_the_short_description(steward, browser):
    with urllib.request.urlopen(f"{steward.url}/", timeout=30) as response:
        assert response.status == 200 and b"<html" in response.read().lower()
    browser.open(f"{steward.url}/#/models/{NAME}/versions/1")  # the first candidate: no slice was compared
    deadline = time.monotonic() + 60
    text = ""
    while time.monotonic() < deadline and "steward gate" not in text:
        time.sleep(1)
        text = browser.evaluate("document.body.innerText") or ""
    assert "steward gate" in text and "PASSED" in text
    assert re.search(r"Other slices: \d+ not compared", text)  # counted, not listed row by row
    assert "ocean_proximity = " not in text and "median_income = " not in text
    links = browser.evaluate("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href')).filter(h => h && h.startsWith('/steward/'))")
    assert links == [f"/steward/models/{NAME}"]
    _shot(browser, "version-description.png")


