"""The main job end to end on the bundled demo dataset: runs, trials, model version, reuse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from click.testing import CliRunner

from mlflow_steward import names
from mlflow_steward.cli import main

REPO = Path(__file__).resolve().parents[2]
FAST = ["--families", "ridge,knn", "--n-trials", "4", "--cv", "2"]


def _children(parent_run_id: str) -> list:
    return mlflow.search_runs(
        filter_string=f"tags.`mlflow.parentRunId` = '{parent_run_id}'", output_format="list"
    )


@pytest.mark.e2e
def test_main_job_on_demo_data_then_reuse(mlflow_store):
    result = CliRunner().invoke(main, ["run", *FAST, "--model-name", "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "test RMSE" in result.output and "mlflow ui --backend-store-uri" in result.output

    [main_run] = mlflow.search_runs(filter_string=f"tags.`{names.TAG_STEP}` = 'main'", output_format="list")
    steps = {r.data.tags[names.TAG_STEP]: r for r in _children(main_run.info.run_id)}
    assert set(steps) >= {"clean", "tune", "train"}
    trials = _children(steps["tune"].info.run_id)
    assert len(trials) == 4
    complete = [t for t in trials if t.data.tags[names.TAG_TRIAL_STATE] == "COMPLETE"]
    assert complete, [t.data.tags for t in trials]
    for trial in complete:  # every fold scored and logged, and the mean is their mean
        folds = [trial.data.metrics[f"cv_rmse_fold_{k}"] for k in range(2)]
        assert trial.data.metrics["n_folds"] == 2
        assert trial.data.metrics["cv_rmse_mean"] == pytest.approx(sum(folds) / 2)

    client = mlflow.MlflowClient()
    def cleaning_report(run_id):
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=names.ARTIFACT_CLEANING_REPORT)
        return json.loads(Path(path).read_text())

    report = cleaning_report(main_run.info.run_id)
    assert report == cleaning_report(steps["clean"].info.run_id)  # the parent run carries the clean run's report
    assert report["n_rows"] == steps["clean"].data.metrics["rows_train"]
    assert report["missing_before"]["total_bedrooms"] > 0 == report["missing_after"]["total_bedrooms"]
    versions = client.search_model_versions("name = 'demo'")
    assert 1 <= len(versions) <= 2  # the single best model, and the ensemble if it beat it
    for version in versions:
        model_info = mlflow.models.get_model_info(f"models:/demo/{version.version}")
        # outputs + the request_id param; input columns and kinds are in the steward metadata (the
        # wrapper validates them itself, with messages naming the column; see serving._pyfunc)
        assert model_info.signature is not None and model_info.signature.outputs is not None
        assert "median_income" in json.dumps(model_info.metadata["steward_features"])
        assert model_info.saved_input_example_info is not None
    production = client.get_model_version_by_alias("demo", "production")
    assert production.tags[names.TAG_GATE] == "passed"
    assert "rmse" in steps["train"].data.metrics and "rmse_ci_low" in steps["train"].data.metrics
    low, point, high = (steps["train"].data.metrics[k] for k in ("rmse_ci_low", "rmse", "rmse_ci_high"))
    assert low < point < high

    again = CliRunner().invoke(main, ["run", *FAST, "--model-name", "demo"], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert again.output.count("reusing finished run") == 4  # clean, tune, train, ensemble
    assert len(client.search_model_versions("name = 'demo'")) == len(versions)


def test_bad_data_path_is_one_line_and_exit_2(mlflow_store, tmp_path):
    result = CliRunner().invoke(
        main, ["run", "--data", str(tmp_path / "nope.csv"), "--target", "y", "--task", "regression"]
    )
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.stderr == f"steward: error: --data {tmp_path / 'nope.csv'}: no such file; expected a CSV or Parquet file\n"
    assert mlflow.search_runs(output_format="list") == []  # checked before any run starts


def test_data_without_target_is_rejected(mlflow_store, housing_path):
    result = CliRunner().invoke(main, ["run", "--data", str(housing_path)])
    assert result.exit_code == 2
    assert "--target" in result.output


@pytest.mark.e2e
@pytest.mark.parametrize("strategy", ["grid", "optuna"])
def test_mlproject_tune_entry_point(mlflow_store, strategy, tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MLFLOW_EXPERIMENT_ID", None)
    command = [
        sys.executable, "-m", "mlflow", "run", str(REPO), "-e", "tune", "--env-manager", "local",
        "--experiment-name", "test", "-P", f"strategy={strategy}", "-P", "families=ridge",
        "-P", "n_trials=3", "-P", "cv=2", "-P", f"storage=sqlite:///{tmp_path}/optuna.db",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    tune_runs = mlflow.search_runs(
        experiment_names=["test"], filter_string=f"tags.`{names.TAG_STEP}` = 'tune'", output_format="list"
    )
    assert len(tune_runs) == 1
    assert len(_children(tune_runs[0].info.run_id)) >= 3
