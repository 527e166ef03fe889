"""The pipeline against ``mlflow server --backend-store-uri postgresql://...`` as against SQLite, and a
second machine joining a ``steward tune --workers`` study from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import mlflow
import optuna
import pytest
from mlflow_steward import names
from mlflow_steward.tuning._study import driver_url
from mlflow_steward.tuning._workers import ATTR_WORKER

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]
STEWARD = str(Path(sys.executable).parent / "steward")


def _env(server: str) -> dict[str, str]:
    env = {**os.environ, "MLFLOW_TRACKING_URI": server, "MLFLOW_REGISTRY_URI": server}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_EXPERIMENT_NAME"] = mlflow.get_experiment(mlflow.tracking.fluent._get_experiment_id()).name
    return env


def _children(run_id: str) -> list:
    return mlflow.search_runs(filter_string=f"tags.`{names.MLFLOW_PARENT_RUN_ID}` = '{run_id}'", output_format="list")


def test_main_job_against_a_postgres_backed_tracking_server(server_experiment, tmp_path):
    model = f"pg-{uuid.uuid4().hex[:6]}"
    # --ensemble-method none: one family makes no ensemble
    command = [STEWARD, "run", "--families", "ridge", "--n-trials", "3", "--cv", "2", "--ensemble-method", "none",
               "--model-name", model]
    done = subprocess.run(command, env=_env(server_experiment), cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    [main_run] = mlflow.search_runs(filter_string=f"tags.`{names.TAG_STEP}` = 'main'", output_format="list")
    assert main_run.info.status == "FINISHED"
    steps = {r.data.tags[names.TAG_STEP]: r for r in _children(main_run.info.run_id)}
    assert {"clean", "tune", "train"} <= set(steps) and all(r.info.status == "FINISHED" for r in steps.values())
    trials = _children(steps["tune"].info.run_id)
    assert len(trials) == 3 and {r.info.status for r in trials} <= {"FINISHED", "KILLED"}
    client = mlflow.MlflowClient()
    [version] = client.search_model_versions(f"name = '{model}'")
    assert client.get_model_version_by_alias(model, names.ALIAS_PRODUCTION).version == version.version
    assert "rmse_ci_low" in steps["train"].data.metrics
    artifacts = {f.path for f in client.list_artifacts(steps["tune"].info.run_id, "tuning")}
    assert "tuning/oof_predictions.parquet" in artifacts  # proxied artifacts through the server


def test_a_second_machine_joins_from_the_command_line(server_experiment, optuna_postgres, tmp_path):
    study_name = f"cli-{uuid.uuid4().hex[:8]}"
    env = _env(server_experiment)
    tune = [STEWARD, "tune", "--families", "ridge,knn", "--n-trials", "24", "--cv", "2", "--storage", optuna_postgres,
            "--study-name", study_name, "--workers", "1"]
    coordinator = subprocess.Popen(tune, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
    try:
        parent = None
        deadline = time.monotonic() + 150
        while parent is None and coordinator.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)  # the coordinator tags its tune run with the study before starting workers
            runs = mlflow.search_runs(
                filter_string=f"tags.`{names.TAG_STUDY_NAME}` = '{study_name}' and tags.`{names.TAG_STEP}` = 'tune'",
                output_format="list",
            )
            parent = runs[0].info.run_id if runs else None
        assert parent, "no tune run tagged with the study"
        joined = subprocess.run([STEWARD, "tune", "--parent-run", parent, "--workers", "1"], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=300)
        assert joined.returncode == 0, joined.stdout[-3000:] + joined.stderr[-3000:]
        output = coordinator.communicate(timeout=300)[0]
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
    assert coordinator.returncode == 0, output[-3000:]
    assert f"more machines join with: steward tune --parent-run {parent}" in output
    assert f"tune run: {parent}" in output
    assert "this machine ran" in joined.stdout

    study = optuna.load_study(study_name=study_name, storage=driver_url(optuna_postgres))
    assert len(study.trials) == 24
    assert len(Counter(t.user_attrs[ATTR_WORKER] for t in study.trials)) == 2  # both machines' workers
    assert len(_children(parent)) == 24
