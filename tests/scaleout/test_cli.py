"""``--workers`` on ``steward tune``/``run``, ``--parent-run`` to join, and the MLproject ``tune`` entry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import optuna
import pytest
import yaml
from click.testing import CliRunner
from mlflow_steward import names
from mlflow_steward.cli import main
from mlflow_steward.cli._options import build_config
from mlflow_steward.tuning._workers import ATTR_WORKER
from mlflow_steward.workflow._join import (
    ERR_JOIN_NEEDS_STUDY,
    ERR_JOIN_NO_RUN,
    ERR_JOIN_NOT_TUNE_RUN,
    ERR_JOIN_UNKNOWN_RUN,
    find_tune_run,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", ["tune", "run"])
def test_workers_option_is_offered(command):
    result = CliRunner().invoke(main, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0 and "--workers" in result.output
    assert ("--parent-run" in result.output) == (command == "tune")


def test_workers_reach_the_pipeline_config():
    assert build_config(workers=0).workers is None
    assert build_config(workers=3).workers == 3
    result = CliRunner().invoke(main, ["tune", "--workers", "-1"])
    assert result.exit_code == 2 and "--workers" in result.output


def test_joining_an_unknown_run_is_one_line(mlflow_store):
    result = CliRunner().invoke(main, ["tune", "--parent-run", "0123abc"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert ERR_JOIN_UNKNOWN_RUN.format(run_id="0123abc", uri=mlflow_store) in result.output


def test_joining_a_run_that_is_not_a_worker_tune_run(mlflow_store):
    run_id = mlflow.MlflowClient().create_run(mlflow.get_experiment_by_name("test").experiment_id).info.run_id
    result = CliRunner().invoke(main, ["tune", "--parent-run", run_id])
    assert result.exit_code == 2
    tags = ", ".join((names.TAG_DATA_RUN, names.TAG_STUDY_NAME, names.TAG_STUDY_STORAGE))
    assert ERR_JOIN_NOT_TUNE_RUN.format(run_id=run_id, tags=tags) in result.output


def test_join_needs_a_study_name(mlflow_store):
    result = CliRunner().invoke(main, ["tune", "--join"])
    assert result.exit_code == 2 and ERR_JOIN_NEEDS_STUDY in result.output


def test_join_finds_the_running_tune_run_of_the_study(mlflow_store):
    client = mlflow.MlflowClient()
    experiment = mlflow.get_experiment_by_name("test").experiment_id
    tags = {names.TAG_STUDY_NAME: "s", names.TAG_STEP: names.STEP_TUNE}
    done = client.create_run(experiment, tags=tags).info.run_id
    client.set_terminated(done)
    running = client.create_run(experiment, tags=tags).info.run_id
    client.create_run(experiment, tags={names.TAG_STUDY_NAME: "s", names.TAG_STEP: names.STEP_TUNE_TRIAL})
    assert find_tune_run("s", wait=0) == running
    with pytest.raises(ValueError) as error:
        find_tune_run("other", wait=0)
    assert str(error.value) == ERR_JOIN_NO_RUN.format(study="other", experiment=experiment, seconds=0)


def test_mlproject_tune_entry_forwards_workers_and_parent_run():
    entry = yaml.safe_load((REPO / "MLproject").read_text())["entry_points"]["tune"]
    assert entry["parameters"]["workers"] == {"type": "string", "default": ""}  # not given: trials run in-process
    assert entry["parameters"]["parent_run"] == {"type": "string", "default": ""}
    assert "--workers {workers}" in entry["command"] and "--parent-run {parent_run}" in entry["command"]


@pytest.mark.e2e
def test_mlproject_tune_entry_with_two_workers(mlflow_store, tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MLFLOW_EXPERIMENT_ID", None)
    storage = f"sqlite:///{tmp_path}/optuna.db"
    command = [
        sys.executable, "-m", "mlflow", "run", str(REPO), "-e", "tune", "--env-manager", "local",
        "--experiment-name", "test", "-P", "families=ridge", "-P", "n_trials=4", "-P", "cv=2",
        "-P", f"storage={storage}", "-P", "study_name=mlproject-workers", "-P", "workers=2",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [tune_run] = mlflow.search_runs(
        experiment_names=["test"], filter_string=f"tags.`{names.TAG_STEP}` = 'tune'", output_format="list"
    )
    children = mlflow.search_runs(
        experiment_names=["test"], filter_string=f"tags.`mlflow.parentRunId` = '{tune_run.info.run_id}'",
        output_format="list",
    )
    study = optuna.load_study(study_name="mlproject-workers", storage=storage)
    assert len(study.trials) == 4 == len(children)
    assert all(ATTR_WORKER in t.user_attrs for t in study.trials)
    assert tune_run.data.params["step.workers"] == "2"
