"""Scenario: the main job trains and promotes a housing model; production serves with capture; 2,000
requests with request ids go through /invocations; their labels come back. ``steward monitor`` is
healthy (exit 0); labels from a degraded world (targets shifted) make it exit 4, printing the metric's
interval and the test value; a webhook receiver on 127.0.0.1 gets exactly one signed alert, and none
on the next run within the cool-down (the next window, just as bad)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from click.testing import CliRunner

from mlflow_steward import names
from mlflow_steward._format import fmt
from mlflow_steward.cli import main
from mlflow_steward.monitoring import verify_signature

pytestmark = pytest.mark.e2e

TARGET = "median_house_value"
SECRET = "scenario-secret"


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _send(session: requests.Session, url: str, frame: pd.DataFrame, first: int) -> list[str]:
    ids = []
    for k in range(len(frame)):
        request_id = f"req-{first + k}"
        body = {"dataframe_split": json.loads(frame.iloc[k : k + 1].to_json(orient="split", index=False)),
                "params": {"request_id": request_id}}  # fmt: skip
        answer = session.post(url, json=body, timeout=60)
        assert answer.status_code == 200, answer.text
        ids.append(request_id)
    return ids


def test_live_performance_alert_once_then_cooldown(mlflow_store, housing_path, tmp_path, serve_model, make_server_env,
                                                   monkeypatch):  # fmt: skip
    run = CliRunner().invoke(main, [
        "run", "--data", str(housing_path), "--target", TARGET, "--task", "regression",
        "--families", "ridge", "--n-trials", "2", "--cv", "2", "--model-name", "housing",
    ], catch_exceptions=False)  # fmt: skip
    assert run.exit_code == 0, run.output
    production = mlflow.MlflowClient().get_model_version_by_alias("housing", names.ALIAS_PRODUCTION)
    test_rmse = mlflow.MlflowClient().get_run(production.run_id).data.metrics["rmse"]

    world = pd.read_csv(housing_path).sample(2000, random_state=3).reset_index(drop=True)
    targets = world.pop(TARGET).to_numpy()
    capture = tmp_path / "captures.db"
    env = make_server_env(MLFLOW_TRACKING_URI=mlflow_store, MLFLOW_REGISTRY_URI=mlflow_store,
                          **{names.ENV_CAPTURE_PATH: str(capture)})  # fmt: skip
    start = pd.Timestamp.now(tz="UTC").floor("s").isoformat()
    with serve_model("models:/housing@production", tmp_path / "server.log", env=env) as server, requests.Session() as session:
        ids = _send(session, server.invocations(), world.iloc[:1000], 0)
        middle = pd.Timestamp.now(tz="UTC").isoformat()
        ids += _send(session, server.invocations(), world.iloc[1000:], 1000)
    end = (pd.Timestamp.now(tz="UTC") + pd.Timedelta(seconds=1)).isoformat()

    pd.DataFrame({"request_id": ids, "label": targets}).to_csv(tmp_path / "labels.csv", index=False)
    pd.DataFrame({"request_id": ids, "label": targets * 1.4 + 20_000}).to_csv(tmp_path / "degraded.csv", index=False)
    receiver = Receiver()
    monkeypatch.setenv(names.ENV_WEBHOOK_SECRET, SECRET)
    first_half = ["housing", "--capture", str(capture), "--window", "1d", "--since", start, "--until", middle,
                  "--webhook", receiver.url]  # fmt: skip
    try:
        healthy = CliRunner().invoke(main, ["monitor", *first_half, "--labels", str(tmp_path / "labels.csv")])
        assert healthy.exit_code == 0, healthy.output
        assert "1,000 rows, 1,000 requests" in healthy.output and "state: healthy" in healthy.output
        assert "1,000 labelled request id(s) not captured in these windows" in healthy.output  # the other half
        assert receiver.received == []  # healthy: nothing to say

        worse = CliRunner().invoke(main, ["monitor", *first_half, "--labels", str(tmp_path / "degraded.csv")])
        assert worse.exit_code == 4, worse.output
        line = next(text for text in worse.output.splitlines() if text.strip().startswith("rmse "))
        live, _, rest = line.strip().partition(" vs test ")
        low, high = (float(v.replace(",", "")) for v in live.split("[")[1].rstrip("]").split(", "))
        assert rest.startswith(fmt(test_rmse) + " [")  # the version's test value, with its interval
        assert low > test_rmse * 1.05 and low < high and rest.endswith(": worse")  # the interval beyond the margin
        assert len(receiver.received) == 1
        headers, body = receiver.received[0]
        assert verify_signature(SECRET, headers, body)
        payload = json.loads(body)
        assert payload["action"] == "alert" and payload["data"]["state"] == "performance"
        assert payload["data"]["model_name"] == "housing" and "live/rmse" in payload["data"]["items"]

        second_half = ["housing", "--capture", str(capture), "--window", "1d", "--since", middle, "--until", end,
                       "--webhook", receiver.url, "--labels", str(tmp_path / "degraded.csv")]  # fmt: skip
        again = CliRunner().invoke(main, ["monitor", *second_half])
        assert again.exit_code == 4, again.output
        assert "alert not sent: same performance alert sent" in again.output
        assert len(receiver.received) == 1  # within the cool-down: no second alert
    finally:
        receiver.close()

    state = json.loads(mlflow.MlflowClient().get_registered_model("housing").tags[names.TAG_ALERT_STATE])
    assert state["state"] == "performance" and "live/rmse" in state["items"]
    experiment = mlflow.MlflowClient().get_experiment_by_name("steward-monitoring/housing")
    runs = mlflow.MlflowClient().search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])
    assert [r.data.tags[names.TAG_MONITOR_STATE] for r in runs[:3]] == ["performance", "performance", "healthy"]
    assert np.isclose(runs[0].data.metrics[names.LIVE_LABELS_METRIC], 1000)
