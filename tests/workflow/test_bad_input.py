"""Bad input to the job fails before anything is written: no run, no model, no version.

The two reproductions of issue 11 (a misspelt gate-config key used to run clean, tune and train
and register version 1 before failing; an unknown cleaning-config key printed a traceback) and
``steward evaluate`` on data without the model's columns run as a user would, in a process; the
other inputs of issue 12 defect 11 (a directory as --data, a CSV with only the target, a constant
target) and bad options run in this process (faster).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FAST = ["--families", "ridge", "--n-trials", "1", "--cv", "2", "--ensemble-method", "none"]


def steward(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from mlflow_steward.cli import main; main(prog_name='steward')", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )


def steward_here(*args: str):
    """The same command in this process (faster; a traceback would be ``result.exception``)."""
    from click.testing import CliRunner

    from mlflow_steward.cli import main

    result = CliRunner().invoke(main, list(args), prog_name="steward")
    assert isinstance(result.exception, SystemExit), result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def assert_one_line_exit_2(result: subprocess.CompletedProcess, *expected: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("steward: error: ")
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def runs_and_models(uri: str) -> tuple[list, list, list]:
    """Every run (any status, any experiment), registered model and model version in the store."""
    import mlflow
    from mlflow.entities import ViewType

    client = mlflow.MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    runs = client.search_runs(experiments, run_view_type=ViewType.ALL)
    return runs, client.search_registered_models(), client.search_model_versions()


def assert_nothing_written(uri: str) -> None:
    runs, models, versions = runs_and_models(uri)
    assert [(r.info.run_name, r.info.status) for r in runs] == []
    assert [m.name for m in models] == [] and versions == []


def test_a_misspelt_gate_config_key_fails_before_any_run(mlflow_store, tmp_path):
    result = steward("run", "--gate-config", '{"margn": 0.02}', *FAST, cwd=tmp_path)
    assert_one_line_exit_2(result, "unknown key 'margn' in --gate-config; did you mean 'margin'?")
    assert_nothing_written(mlflow_store)
    assert not (tmp_path / ".steward").exists()  # no Optuna study either


def test_an_unknown_cleaning_config_key_is_one_line_and_exit_2(mlflow_store, tmp_path):
    result = steward("clean", "--cleaning-config", '{"nope": 1}', cwd=tmp_path)
    assert_one_line_exit_2(result, "unknown key 'nope' in --cleaning-config")
    assert_nothing_written(mlflow_store)


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--evaluation-config", '{"n_resample": 500}', "did you mean 'n_resamples'"),
        ("--cv", "1", "cv (the number of folds) must be an integer >= 2, got 1"),
        ("--test-size", "1.5", "test_size must be a number above 0 and below 1, got 1.5"),
        ("--families", "ridg", "did you mean 'ridge'"),
        ("--ensemble-method", "vote", "method must be one of mean, weighted, stacking, greedy, got 'vote'"),
    ],
)
def test_bad_options_of_the_job_fail_before_any_run(mlflow_store, tmp_path, option, value, expected):
    args = [a for a in FAST if a != option]
    if option in FAST:
        i = FAST.index(option)
        args = FAST[:i] + FAST[i + 2:]
    result = steward_here("run", *args, option, value)
    assert_one_line_exit_2(result, expected)
    assert_nothing_written(mlflow_store)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "inside").mkdir()
    pd.DataFrame({"y": rng.normal(size=200)}).to_csv(folder / "only_target.csv", index=False)
    pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200), "y": 5.0}).to_csv(
        folder / "constant.csv", index=False
    )
    return folder


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("inside", "is a directory, not a data file; expected a CSV or Parquet file"),
        ("only_target.csv", "has no feature columns: besides the target 'y'"),
        ("constant.csv", "regression target 'y' is constant (5.0 in all 200 rows)"),
    ],
)
def test_unusable_data_fails_before_anything_is_registered(mlflow_store, data_dir, name, expected):
    path = data_dir / name
    result = steward_here("run", "--data", str(path), "--target", "y", "--task", "regression", *FAST)
    assert_one_line_exit_2(result, expected)
    assert_nothing_written(mlflow_store)


def test_steward_tune_checks_its_data_run_before_starting_one(mlflow_store, tmp_path):
    result = steward_here("tune", "--data-run", "0123456789abcdef", *FAST[:6])
    assert_one_line_exit_2(result, "--data-run '0123456789abcdef': no such run in the tracking store")
    assert_nothing_written(mlflow_store)


def test_evaluate_on_data_without_the_models_columns_logs_nothing(mlflow_store, tmp_path):
    import mlflow
    from sklearn.linear_model import LinearRegression

    from mlflow_steward.serving import log_pipeline_model

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    frame["y"] = frame["a"] * 2 + rng.normal(size=50)
    model = LinearRegression().fit(frame[["a", "b"]], frame["y"])
    with mlflow.start_run() as run:
        uri = log_pipeline_model(model, input_example=frame[["a", "b"]].head(3)).model_uri
    frame[["a", "y"]].to_csv(tmp_path / "no_b.csv", index=False)
    result = steward("evaluate", uri, "--data", str(tmp_path / "no_b.csv"), "--target", "y", "--task",
                     "regression", cwd=tmp_path)
    assert_one_line_exit_2(result, "lacks column(s) 'b' that model", uri)
    runs, _, _ = runs_and_models(mlflow_store)
    assert [r.info.run_id for r in runs] == [run.info.run_id]  # only the run that logged the model
