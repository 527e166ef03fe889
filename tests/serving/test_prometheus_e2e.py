"""A real Prometheus scrapes ``/metrics`` of ``mlflow models serve -m models:/NAME@production --workers 2``
(with capture) after a bounded load: its query API returns the request and row counts sent and
answered, rejections by reason, a latency histogram, the capture counts, both workers and the model."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from mlflow_steward import names

pytestmark = [pytest.mark.e2e, pytest.mark.prometheus]

N_GOOD = 40
N_MISSING_COLUMN = 5
N_UNPARSEABLE = 3


def _query(prometheus: str, expression: str) -> list[dict]:
    answer = requests.get(f"{prometheus}/api/v1/query", params={"query": expression}, timeout=10).json()
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def _value(prometheus: str, expression: str) -> float | None:
    result = _query(prometheus, expression)
    return float(result[0]["value"][1]) if result else None


def _until(prometheus: str, expression: str, expected: float, timeout: float = 60.0) -> float | None:
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = _value(prometheus, expression)
        if value == expected:
            return value
        time.sleep(0.5)
    return value


def test_prometheus_sees_every_request_and_row_of_two_workers(
    mlflow_store, housing_xy, housing_model, tmp_path, serve_model, make_server_env, start_prometheus
):
    import mlflow
    from prometheus_client.multiprocess import MultiProcessCollector

    from mlflow_steward.serving import log_pipeline_model

    X, _ = housing_xy
    with mlflow.start_run():
        log_pipeline_model(housing_model, input_example=X.head(5), registered_model_name="house")
    mlflow.MlflowClient().set_registered_model_alias("house", names.ALIAS_PRODUCTION, "1")
    multiproc = tmp_path / "multiproc"
    env = make_server_env(MLFLOW_TRACKING_URI=mlflow_store, PROMETHEUS_MULTIPROC_DIR=str(multiproc),
                          **{names.ENV_CAPTURE_PATH: str(tmp_path / "cap.db")})  # fmt: skip
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 200, N_GOOD)
    with serve_model("models:/house@production", tmp_path / "server.log", env=env, workers=2) as server:
        deadline = time.monotonic() + 60
        while requests.get(f"{server.url}/metrics", timeout=5).status_code != 200:  # the route is added at load
            assert time.monotonic() < deadline, server.output()[-3000:]
            time.sleep(0.2)
        scraped = server.url.removeprefix("http://")
        with start_prometheus([scraped], tmp_path / "prometheus") as prometheus:
            for i, size in enumerate(sizes):
                part = X.sample(int(size), random_state=i)
                body = {"dataframe_split": json.loads(part.to_json(orient="split", index=False)),
                        "params": {"request_id": f"r{i}"}}  # fmt: skip
                answer = requests.post(server.invocations(), json=body, headers={"Connection": "close"}, timeout=60)
                assert answer.status_code == 200, answer.text
            for _ in range(N_MISSING_COLUMN):
                body = {"dataframe_split": {"columns": ["longitude"], "data": [[1.0]]}}
                assert requests.post(server.invocations(), json=body, headers={"Connection": "close"}).status_code == 400
            for _ in range(N_UNPARSEABLE):
                answer = requests.post(server.invocations(), data="{not json", headers={"Content-Type": "application/json",
                                                                                      "Connection": "close"})  # fmt: skip
                assert answer.status_code == 400
            sent, rows = N_GOOD + N_MISSING_COLUMN + N_UNPARSEABLE, int(sizes.sum())

            assert _until(prometheus, "sum(steward_requests_total)", sent) == sent
            assert _until(prometheus, "sum(steward_rows_scored_total)", rows) == rows
            assert _until(prometheus, 'sum(steward_requests_rejected_total{reason="missing_columns"})',
                          N_MISSING_COLUMN) == N_MISSING_COLUMN  # fmt: skip
            assert _value(prometheus, 'sum(steward_requests_rejected_total{reason="unparseable"})') == N_UNPARSEABLE
            assert _until(prometheus, "sum(steward_request_duration_seconds_count)", sent) == sent
            assert _value(prometheus, "sum(steward_prediction_duration_seconds_count)") == N_GOOD
            buckets = _query(prometheus, "sum by (le) (steward_request_duration_seconds_bucket)")
            assert {b["metric"]["le"] for b in buckets} >= {"0.001", "0.01", "0.1", "1.0", "+Inf"}
            assert max(float(b["value"][1]) for b in buckets) == sent  # the +Inf bucket holds every request
            quantile = _value(prometheus, "histogram_quantile(0.5, sum by (le) (steward_request_duration_seconds_bucket))")
            assert quantile is not None and 0 < quantile < 10
            assert _until(prometheus, 'sum(steward_capture_rows_total{outcome="captured"})', rows) == rows
            assert _value(prometheus, "sum(steward_workers)") == 2
            info = _query(prometheus, "steward_model_info")
            assert info and info[0]["metric"]["model_name"] == "house" and info[0]["metric"]["model_version"] == "1"
            deadline = time.monotonic() + 30  # rate() needs a few scrapes after the load
            while (_value(prometheus, "sum(count_over_time(steward_requests_total[1m]))") or 0) < 4:
                assert time.monotonic() < deadline
                time.sleep(0.5)

            # the shipped Grafana dashboard: every query evaluates here; the serving ones find data
            dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text())
            for panel in dashboard["panels"]:
                for target in panel.get("targets", []):
                    expression = target["expr"].replace("$__rate_interval", "1m").replace("$model", ".*")
                    answer = requests.get(f"{prometheus}/api/v1/query", params={"query": expression}, timeout=10).json()
                    assert answer["status"] == "success", (expression, answer)
                    if "steward_monitor" not in expression:
                        assert answer["data"]["result"], f"no data for {expression!r}"

    per_worker = []
    for path in sorted(multiproc.glob("counter_*.db")):
        merged = MultiProcessCollector.merge([str(path)])
        count = sum(s.value for m in merged if m.name == "steward_requests" for s in m.samples if s.name.endswith("_total"))
        per_worker.append(count)
    assert len(per_worker) == 2 and min(per_worker) > 0 and sum(per_worker) == sent  # both took traffic, summed right
