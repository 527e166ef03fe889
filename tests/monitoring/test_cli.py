"""``steward drift``: table, MLflow run, exit codes 0 / 3 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from click.testing import CliRunner

from mlflow_steward import names
from mlflow_steward.cli import main


def _runs(name="house"):
    experiment = mlflow.MlflowClient().get_experiment_by_name(f"steward-monitoring/{name}")
    if experiment is None:
        return []
    return mlflow.MlflowClient().search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])


def _invoke(*args):
    return CliRunner().invoke(main, ["drift", *args], catch_exceptions=False)


def test_healthy_batch_exits_0_and_logs_a_run(registered_house, tmp_path):
    path = tmp_path / "healthy.parquet"
    registered_house.window.to_parquet(path)
    before = len(_runs())
    result = _invoke("house", "--data", str(path))
    assert result.exit_code == 0, result.output
    assert "HEALTHY" in result.output and "median_income" in result.output
    runs = _runs()
    assert len(runs) == before + 1
    run = runs[0]
    assert run.info.status == "FINISHED" and run.data.tags[names.TAG_DRIFT] == "healthy"
    assert run.data.tags[names.TAG_MODEL_VERSION] == "1"
    metric = names.drift_metric("median_income", "mean_shift")
    assert {metric, names.ci_low(metric), names.ci_high(metric), names.drift_metric("prediction", "distribution")} <= set(run.data.metrics)
    assert run.data.metrics[metric + names.DRIFT_ALARM_SUFFIX] == 0.0
    assert run.data.tags[names.TAG_MONITOR_STATE] == "healthy" and run.data.tags[names.TAG_STEP] == "monitor"
    report = json.loads(mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/{names.ARTIFACT_MONITORING_REPORT}"))
    assert report["status"] == "healthy" and len(report["checks"]) == run.data.metrics["drift/tested"]
    listed = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "monitoring")}
    assert listed == {names.ARTIFACT_MONITORING_REPORT, names.ARTIFACT_DRIFT_TABLE, names.ARTIFACT_DRIFT_PLOT}


def test_drifted_batch_exits_3_and_names_the_column(registered_house, tmp_path):
    path = tmp_path / "drifted.csv"
    registered_house.window.assign(median_income=registered_house.window["median_income"] * 1.3).to_csv(path, index=False)
    result = _invoke("house@production", "--data", str(path))
    assert result.exit_code == 3, result.output
    assert "DRIFT" in result.output and "inputs drifting: median_income (" in result.output
    run = _runs()[0]
    assert run.data.tags[names.TAG_DRIFT] == "drift"
    assert run.data.tags[names.TAG_DRIFT_COLUMNS].startswith("median_income")
    assert run.data.metrics[names.drift_metric("median_income", "mean_shift") + names.DRIFT_ALARM_SUFFIX] == 1.0
    from mlflow_steward.app._monitor_source import window_from_run  # the steward pages read these runs

    window = window_from_run(run)
    assert window.state == "drift" and window.version == "1"
    assert window.drift[("median_income", "mean_shift")].alarm and not window.drift[("latitude", "mean_shift")].alarm
    png = Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path=names.ARTIFACT_DRIFT_PLOT,
                                                   dst_path=str(tmp_path)))  # fmt: skip
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "nope.csv"], "data file nope.csv does not exist"),
        (["--data", "{missing}"], "is missing column(s) 'latitude'"),
        (["--data", "{empty}"], "no rows"),
        (["--data", "{healthy}", "--capture", "c.db"], "exactly one of --data FILE or --capture URI"),
        (["--data", "{healthy}", "--last", "5"], "use them with --capture"),
        (["--capture", "nothere.db"], "capture database nothere.db does not exist"),
        (["--data", "{healthy}", "--config", '{"levle": 0.1}'], "did you mean 'level'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_run(registered_house, tmp_path, args, message):
    window = registered_house.window
    files = {"missing": tmp_path / "missing.csv", "empty": tmp_path / "empty.csv", "healthy": tmp_path / "ok.csv"}
    window.drop(columns=["latitude"]).to_csv(files["missing"], index=False)
    window.head(0).to_csv(files["empty"], index=False)
    window.head(50).to_csv(files["healthy"], index=False)
    args = [str(files[a[1:-1]]) if a[1:-1] in files else a for a in args]
    before = len(_runs())
    result = CliRunner().invoke(main, ["drift", "house", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(_runs()) == before


def test_unknown_model_is_exit_2(registered_house, tmp_path):
    result = CliRunner().invoke(main, ["drift", "nohouse", "--data", "x.csv"])
    assert result.exit_code == 2 and "no registered model named 'nohouse'" in result.output
