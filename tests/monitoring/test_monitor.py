"""``steward monitor`` in process: a registered housing forest, captures written straight to a SQLite
sink at chosen times, labels from files: healthy, worse (exit 4, interval and test value printed),
cron-safe reruns, late labels, the run layout the app reads, the HTML report, bad input."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mlflow_steward import names
from mlflow_steward.cli import main
from mlflow_steward.serving import ModelIdentity, open_sink
from mlflow_steward.serving._capture import capture_rows, utc_timestamp

DAY = datetime(2026, 3, 2, tzinfo=timezone.utc)
REQUEST_ROWS = 10


@pytest.fixture(scope="module")
def house(registered_house, housing_path):
    """The registered forest with test metrics on its run (RMSE/MAE/R2 on 2,000 held-out rows), and the
    held-out rows with their targets (the 'world' the labels come from)."""
    frame = pd.read_csv(housing_path).sample(frac=1.0, random_state=1).reset_index(drop=True)
    target = frame.pop("median_house_value")
    held = frame.iloc[9000:11000].reset_index(drop=True)
    y_held = target.iloc[9000:11000].to_numpy()
    predicted = registered_house.model.predict(held)
    client = mlflow.MlflowClient()
    run_id = client.get_model_version("house", "1").run_id
    rmse = float(np.sqrt(np.mean((predicted - y_held) ** 2)))
    client.log_batch(run_id, metrics=[
        mlflow.entities.Metric("rmse", rmse, 0, 0), mlflow.entities.Metric("rmse_ci_low", rmse * 0.95, 0, 0),
        mlflow.entities.Metric("rmse_ci_high", rmse * 1.05, 0, 0),
        mlflow.entities.Metric("mae", float(np.mean(np.abs(predicted - y_held))), 0, 0),
    ])  # fmt: skip
    live = frame.iloc[11000:13000].reset_index(drop=True)
    return registered_house, live, target.iloc[11000:13000].to_numpy(), rmse


def write_captures(uri: str, model, frame: pd.DataFrame, start: datetime, *, prefix: str, version: str = "1") -> list[str]:
    """Requests of REQUEST_ROWS rows, one per minute from ``start``; returns the request ids."""
    sink = open_sink(uri)
    identity = ModelIdentity(name="house", version=version, model_id="m-1", run_id="r-1")
    ids, requests = [], []
    try:
        for i, first in enumerate(range(0, len(frame), REQUEST_ROWS)):
            part = frame.iloc[first : first + REQUEST_ROWS]
            request_id = f"{prefix}-{i}"
            ids.append(request_id)
            stamp = utc_timestamp(start + timedelta(minutes=i))
            requests.append(capture_rows(part, model.predict(part), request_id=request_id, identity=identity, timestamp=stamp))
        sink.write(requests)
    finally:
        sink.close()
    return ids


def labels_file(path, ids: list[str], targets: np.ndarray) -> str:
    rows = [{"request_id": ids[k // REQUEST_ROWS], "row": k % REQUEST_ROWS, "label": float(v)} for k, v in enumerate(targets)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def _monitor(*args: str):
    return CliRunner().invoke(main, ["monitor", "house", *args], catch_exceptions=False)


def _runs():
    experiment = mlflow.MlflowClient().get_experiment_by_name("steward-monitoring/house")
    if experiment is None:
        return []
    return mlflow.MlflowClient().search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])


def test_healthy_then_worse_then_cron_rerun(house, tmp_path):
    registered, live, y, test_rmse = house
    capture = str(tmp_path / "cap.db")
    ids = write_captures(capture, registered.model, live, DAY + timedelta(hours=1), prefix="a")
    window = ["--capture", capture, "--window", "1d", "--since", DAY.isoformat(), "--until", (DAY + timedelta(days=1)).isoformat()]
    before = len(_runs())

    good = _monitor(*window, "--labels", labels_file(tmp_path / "good.csv", ids, y))
    assert good.exit_code == 0, good.output
    assert "HEALTHY" in good.output and "rmse" in good.output and "state: healthy" in good.output
    runs = _runs()
    assert len(runs) == before + 1
    run = runs[0]
    assert run.data.tags[names.TAG_MONITOR_STATE] == "healthy" and run.data.tags[names.TAG_STEP] == "monitor"
    assert run.data.tags[names.TAG_MODEL_VERSION] == "1"
    assert run.data.metrics[names.LIVE_LABELS_METRIC] == 2000
    assert run.data.metrics["live/rmse_alarm"] == 0.0
    low, high = run.data.metrics["live/rmse_ci_low"], run.data.metrics["live/rmse_ci_high"]
    assert low < run.data.metrics["live/rmse"] < high
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "live/rmse")
    assert history[0].timestamp == int((DAY + timedelta(days=1)).timestamp() * 1000)  # stamped with the window end

    # degraded world: targets shifted by +30% -> worse than the test RMSE by more than the margin
    bad = _monitor(*window, "--labels", labels_file(tmp_path / "bad.csv", ids, y * 1.3))
    assert bad.exit_code == 4, bad.output
    line = next(line for line in bad.output.splitlines() if line.strip().startswith("rmse"))
    assert "vs test" in line and "[" in line and "worse" in line
    assert f"{test_rmse:,.0f}"[:3] in line.replace(",", "")[:200] or "vs test" in line
    newest = _runs()[0]
    assert newest.data.tags[names.TAG_MONITOR_STATE] == "performance"
    assert newest.data.metrics["live/rmse_alarm"] == 1.0
    assert newest.data.metrics["live/rmse_ci_low"] > test_rmse * 1.05

    # cron: the same window with the same labels is not checked again (and keeps its verdict)
    again = _monitor(*window, "--labels", str(tmp_path / "bad.csv"))
    assert again.exit_code == 4 and "already checked" in again.output
    assert len(_runs()) == before + 2


def test_run_layout_is_what_the_app_reads(house, tmp_path):
    from mlflow_steward.app._monitor_source import newest_per_window, window_from_run

    registered, live, y, _ = house
    capture = str(tmp_path / "cap.db")
    ids = write_captures(capture, registered.model, live.iloc[:600], DAY + timedelta(hours=2), prefix="b")
    args = ["--capture", capture, "--window", "1d", "--since", DAY.isoformat(), "--until", (DAY + timedelta(days=1)).isoformat()]
    assert _monitor(*args).exit_code == 0  # no labels yet: drift only
    late = _monitor(*args, "--labels", labels_file(tmp_path / "late.csv", ids, y[:600]))  # late labels: checked again
    assert late.exit_code == 0, late.output
    first, second = _runs()[1], _runs()[0]
    assert first.data.tags[names.TAG_WINDOW_START] == second.data.tags[names.TAG_WINDOW_START]
    early, later = window_from_run(first), window_from_run(second)
    assert early.live == {} and early.labels == 0
    assert set(later.live) == {"rmse", "mae"} and later.labels == 600  # the metrics the version recorded
    assert later.live["rmse"].low < later.live["rmse"].value < later.live["rmse"].high
    assert any(column == "median_income" for column, _ in later.drift)
    assert newest_per_window([early, later]) == [later]  # the page shows the newest check of a window
    assert not any(key.startswith("live/slice") for key in second.data.metrics)  # slices live apart
    assert any(key.startswith(names.LIVE_SLICE_PREFIX + "ocean_proximity/") for key in second.data.metrics)


def test_report_html_is_self_contained_and_report_json_complete(house, tmp_path):
    registered, live, y, _ = house
    capture = str(tmp_path / "cap.db")
    ids = write_captures(capture, registered.model, live.iloc[:500], DAY + timedelta(hours=3), prefix="c")
    labels = labels_file(tmp_path / "l.csv", ids, y[:500])
    result = _monitor("--capture", capture, "--window", "1d", "--since", DAY.isoformat(),
                      "--until", (DAY + timedelta(days=1)).isoformat(), "--labels", labels)  # fmt: skip
    assert result.exit_code == 0, result.output
    run_id = _runs()[0].info.run_id
    page = mlflow.artifacts.load_text(f"runs:/{run_id}/{names.ARTIFACT_MONITORING_HTML}")
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
    assert "<script" not in page and "http://" not in page and "https://" not in page and "<link" not in page
    assert "Live performance" in page and "By slice" in page and "Drift" in page
    report = json.loads(mlflow.artifacts.load_text(f"runs:/{run_id}/{names.ARTIFACT_MONITORING_REPORT}"))
    assert report["state"] == "healthy" and report["performance"]["n_labels"] == 500
    assert report["test_values"]["rmse"]["value"] > 0 and report["drift"]["rows_current"] == 500
    files = {f.path for f in mlflow.MlflowClient().list_artifacts(run_id, "monitoring")}
    assert {names.ARTIFACT_MONITORING_DASHBOARD, names.ARTIFACT_LIVE_TABLE, names.ARTIFACT_DRIFT_TABLE} <= files


def test_not_enough_labels_is_a_verdict_not_a_guess(house, tmp_path):
    registered, live, y, _ = house
    capture = str(tmp_path / "cap.db")
    ids = write_captures(capture, registered.model, live.iloc[:300], DAY + timedelta(hours=4), prefix="d")
    few = labels_file(tmp_path / "few.csv", ids[:3], y[:30] * 2.0)  # 30 labels, far off: still no alarm
    result = _monitor("--capture", capture, "--window", "1d", "--since", DAY.isoformat(),
                      "--until", (DAY + timedelta(days=1)).isoformat(), "--labels", few, "--no-log")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "not enough labels (30 labelled of 300 rows; at least 100 needed)" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--labels", "{dup}"], "request id 'e-0' (row 1) is labelled 2 times"),
        (["--labels", "{unknown}"], "none of its 2 request id(s) was captured"),
        (["--since", "2026-03-05", "--until", "2026-03-06"], "no captured rows of model 'house'"),
        (["--window", "fortnight"], "--window: expected a duration"),
        (["--config", '{"performance": {"margn": 0.1}}'], "did you mean 'margin'"),
        (["--webhook", "ftp://x"], "is not an http(s) URL"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_logs_nothing(house, tmp_path, args, expected):
    registered, live, y, _ = house
    capture = str(tmp_path / "cap.db")
    write_captures(capture, registered.model, live.iloc[:40], DAY + timedelta(hours=5), prefix="e")
    pd.DataFrame({"request_id": ["e-0", "e-0"], "row": [1, 1], "label": [1.0, 2.0]}).to_csv(tmp_path / "dup.csv", index=False)
    pd.DataFrame({"request_id": ["zz-1", "zz-2"], "label": [1.0, 2.0]}).to_csv(tmp_path / "unknown.csv", index=False)
    args = [a.replace("{dup}", str(tmp_path / "dup.csv")).replace("{unknown}", str(tmp_path / "unknown.csv")) for a in args]
    base = ["--capture", capture, "--window", "1d"]
    if "--since" not in args:
        base += ["--since", DAY.isoformat(), "--until", (DAY + timedelta(days=1)).isoformat()]
    before = len(_runs())
    result = CliRunner().invoke(main, ["monitor", "house", *base, *args])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("steward")]) == 1
    assert len(_runs()) == before


@pytest.mark.e2e
@pytest.mark.prometheus
def test_newest_results_pushed_to_a_real_pushgateway(house, tmp_path, start_pushgateway):
    import requests

    registered, live, y, test_rmse = house
    capture = str(tmp_path / "cap.db")
    ids = write_captures(capture, registered.model, live.iloc[:400], DAY + timedelta(hours=6), prefix="p")
    labels = labels_file(tmp_path / "bad.csv", ids, y[:400] * 1.5)
    with start_pushgateway(tmp_path / "pushgateway") as gateway:
        result = _monitor("--capture", capture, "--window", "1d", "--since", DAY.isoformat(),
                          "--until", (DAY + timedelta(days=1)).isoformat(), "--labels", labels, "--pushgateway", gateway)  # fmt: skip
        assert result.exit_code == 4, result.output
        assert f"pushgateway {gateway}: pushed window" in result.output
        text = requests.get(f"{gateway}/metrics", timeout=10).text
    run = _runs()[0]
    samples = {}
    for line in text.splitlines():
        if line.startswith("steward_monitor_"):
            key, value = line.rsplit(" ", 1)
            samples[key] = float(value)

    def sample(name: str, **labels: str) -> float:
        wanted = {"job": "steward_monitor", "model": "house", "version": "1", **labels}
        for key, value in samples.items():
            if key.split("{")[0] == name and all(f'{k}="{v}"' in key for k, v in wanted.items()):
                return value
        raise KeyError(name)

    assert sample("steward_monitor_state") == 2 and sample("steward_monitor_alerting") == 1
    assert sample("steward_monitor_live_metric", metric="rmse") == pytest.approx(run.data.metrics["live/rmse"])
    assert sample("steward_monitor_live_metric_ci_low", metric="rmse") == pytest.approx(run.data.metrics["live/rmse_ci_low"])
    assert sample("steward_monitor_test_metric", metric="rmse") == pytest.approx(test_rmse)
    assert sample("steward_monitor_live_alarm", metric="rmse") == 1
    assert sample("steward_monitor_labels") == 400 and sample("steward_monitor_rows") == 400
    assert sample("steward_monitor_drift_score", column="median_income", check="mean_shift") == pytest.approx(
        run.data.metrics["drift/median_income/mean_shift"])  # fmt: skip
    unreachable = _monitor("--capture", capture, "--window", "1d", "--since", DAY.isoformat(), "--no-log",
                           "--until", (DAY + timedelta(days=1)).isoformat(), "--pushgateway", "http://127.0.0.1:9/")  # fmt: skip
    assert unreachable.exit_code == 0 and "push FAILED" in unreachable.output  # reported, the verdict stands
