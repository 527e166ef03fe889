"""End to end: ``mlflow.models.evaluate(..., evaluators=["steward"])`` in a fresh process that
reaches our evaluator only through the ``mlflow.model_evaluator`` entry point, and the
``steward evaluate`` command on a logged model."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import mlflow
import pandas as pd
import pytest

from mlflow_steward import names

TARGET = "median_house_value"

SCRIPT = textwrap.dedent(
    """
    import sys
    import mlflow
    import pandas as pd

    model_uri, data_path = sys.argv[1], sys.argv[2]
    data = pd.read_csv(data_path)
    result = mlflow.models.evaluate(
        model_uri,
        data,
        targets="median_house_value",
        model_type="regressor",
        evaluators=["steward"],
        evaluator_config={"steward": {"n_resamples": 200, "slice_columns": ["ocean_proximity"]}},
    )
    assert "mlflow_steward.evaluation.evaluator" in sys.modules  # loaded by MLflow, not by us
    print(result.run_id)
    """
)


@pytest.fixture
def logged_housing_model(mlflow_store, housing_split, housing_rf, tmp_path):
    train, test = housing_split
    features = train.drop(columns=TARGET)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            housing_rf,
            name="model",
            input_example=features.iloc[:3],
            skops_trusted_types=["sklearn.tree._tree.Tree"],
            pip_requirements=["scikit-learn"],  # skip the slow requirements inference
        )
    data_path = tmp_path / "test.csv"
    island = test[test["ocean_proximity"] == "ISLAND"]
    pd.concat([test.iloc[:1200], island]).to_csv(data_path, index=False)
    return info.model_uri, data_path


@pytest.mark.e2e
def test_mlflow_evaluate_through_the_entry_point_in_a_fresh_process(logged_housing_model, mlflow_store):
    model_uri, data_path = logged_housing_model
    experiment_id = mlflow.get_experiment_by_name("test").experiment_id
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_store, "MLFLOW_EXPERIMENT_ID": experiment_id}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, model_uri, str(data_path)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run_id = done.stdout.strip().splitlines()[-1]
    metrics = mlflow.MlflowClient().get_run(run_id).data.metrics
    assert {"rmse", "rmse_ci_low", "rmse_ci_high", "rmse_t_ci_low", "rmse_t_ci_high"} <= set(metrics)
    assert metrics["rmse_ci_low"] < metrics["rmse"] < metrics["rmse_ci_high"]
    assert "slice/ocean_proximity/INLAND/rmse" in metrics
    assert "slice/ocean_proximity/INLAND/rmse_ci_low" in metrics
    paths = {f.path for f in mlflow.MlflowClient().list_artifacts(run_id, names.ARTIFACT_EVALUATION_DIR)}
    assert {names.ARTIFACT_SLICES_CSV, names.ARTIFACT_PLOT_SLICE_FOREST, names.ARTIFACT_PLOT_RESIDUALS} <= paths
    assert sum(p.endswith(".png") for p in paths) >= 4


@pytest.mark.e2e
def test_cli_evaluate_logs_a_run(logged_housing_model, mlflow_store):
    from click.testing import CliRunner

    from mlflow_steward.cli._evaluate import command
    from mlflow_steward.cli._main import _StewardGroup

    group = _StewardGroup("steward")
    group.add_command(command)
    model_uri, data_path = logged_housing_model
    result = CliRunner().invoke(
        group,
        ["evaluate", model_uri, "--data", str(data_path), "--target", TARGET, "--task", "regression",
         "--experiment", "cli-eval", "-c", "n_resamples=100", "-c", 'slice_columns=["ocean_proximity"]'],
    )
    assert result.exit_code == 0, result.output
    assert "rmse (bca 95%)" in result.output
    run_id = result.output.strip().splitlines()[-1].split()[-1]
    run = mlflow.MlflowClient().get_run(run_id)
    assert run.data.tags[names.TAG_STEP] == names.STEP_EVALUATE
    assert run.data.params["model_uri"] == model_uri
    assert "slice/ocean_proximity/ISLAND/rmse" in run.data.metrics
