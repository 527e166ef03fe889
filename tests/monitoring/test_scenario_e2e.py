"""Scenario: the main job trains and promotes a housing model (its reference profile inside), the
production model serves with capture, healthy then drifted traffic (median_income x 1.3) goes through
/invocations, and ``steward drift --capture`` says healthy (exit 0), then drift (exit 3) naming
median_income and no other input column."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from click.testing import CliRunner

from mlflow_steward import names
from mlflow_steward.cli import main

pytestmark = pytest.mark.e2e

TARGET = "median_house_value"
BATCH = 500


def _send(url: str, frame: pd.DataFrame, tag: str) -> None:
    for i, start in enumerate(range(0, len(frame), BATCH)):
        part = frame.iloc[start : start + BATCH]
        body = {"dataframe_split": json.loads(part.to_json(orient="split", index=False)),
                "params": {"request_id": f"{tag}-{i}"}}  # fmt: skip
        response = requests.post(url, json=body, timeout=120)
        assert response.status_code == 200, response.text


def test_drift_seen_through_capture(mlflow_store, housing_path, tmp_path, serve_model, make_server_env):
    run = CliRunner().invoke(main, [
        "run", "--data", str(housing_path), "--target", TARGET, "--task", "regression",
        "--families", "ridge", "--n-trials", "2", "--cv", "2", "--model-name", "housing",
    ], catch_exceptions=False)  # fmt: skip
    assert run.exit_code == 0, run.output
    production = mlflow.MlflowClient().get_model_version_by_alias("housing", names.ALIAS_PRODUCTION)
    train_run = mlflow.MlflowClient().get_run(production.run_id)
    assert mlflow.artifacts.load_text(f"runs:/{train_run.info.run_id}/{names.ARTIFACT_REFERENCE_PROFILE}")

    frame = pd.read_csv(housing_path).drop(columns=[TARGET])
    rng = np.random.default_rng(0)
    healthy = frame.iloc[rng.choice(len(frame), 2000, replace=False)]
    drifted = frame.iloc[rng.choice(len(frame), 2000, replace=False)].copy()
    drifted["median_income"] *= 1.3
    capture = tmp_path / "captures.db"
    env = make_server_env(MLFLOW_TRACKING_URI=mlflow_store, MLFLOW_REGISTRY_URI=mlflow_store,
                          **{names.ENV_CAPTURE_PATH: str(capture)})  # fmt: skip
    with serve_model("models:/housing@production", tmp_path / "server.log", env=env) as server:
        _send(server.invocations(), healthy, "healthy")
        middle = pd.Timestamp.now(tz="UTC").isoformat()
        _send(server.invocations(), drifted, "drifted")

    calm = CliRunner().invoke(main, ["drift", "housing", "--capture", str(capture), "--until", middle])
    assert calm.exit_code == 0, calm.output
    assert "2,000 rows in 4 requests" in calm.output

    result = CliRunner().invoke(main, ["drift", "housing", "--capture", str(capture), "--since", middle])
    assert result.exit_code == 3, result.output
    assert "inputs drifting: median_income (" in result.output
    experiment = mlflow.MlflowClient().get_experiment_by_name("steward-monitoring/housing")
    latest = mlflow.MlflowClient().search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])[0]
    report = json.loads(mlflow.artifacts.load_text(f"runs:/{latest.info.run_id}/{names.ARTIFACT_MONITORING_REPORT}"))
    assert report["features"] == ["median_income"]  # no other input column
    assert report["rows_current"] == 2000
    assert latest.data.tags[names.TAG_WINDOW_START] >= middle[:19] and latest.data.tags[names.TAG_WINDOW_END]

    last = CliRunner().invoke(main, ["drift", "housing", "--capture", str(capture), "--last", "500", "--no-log"])
    assert last.exit_code == 3 and "500 rows in 1 requests" in last.output
