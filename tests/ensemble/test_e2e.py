"""End to end: tune on a housing sample, build every method, check what each run logged; the
model loads in a fresh process and serves with ``mlflow models serve``; classification on adult."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mlflow_steward import names
from mlflow_steward.ensemble import EnsembleClassifier, build_and_compare, read_tune_run
from mlflow_steward.ensemble._oof import load_training_data

pytestmark = pytest.mark.e2e


def _artifact(run_id: str, path: str) -> Path:
    return Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path))


@pytest.mark.parametrize("method", ["mean", "weighted", "stacking", "greedy"])
def test_every_method_logs_its_comparison(ensemble_store, tuned_housing, method):
    outcome = build_and_compare(tuned_housing.tune_run_id, method=method, best_n=4, n_resamples=500, reuse=False)
    frame = pd.read_csv(_artifact(outcome.run_id, names.ARTIFACT_ENSEMBLE_COMPARISON))
    members = frame[frame.kind == "member"]
    assert len(members) == 4 and list(frame["model"])[-1] == "ensemble"
    if method in ("mean", "weighted", "greedy"):
        assert members["weight"].sum() == pytest.approx(1.0)
        assert (members["weight"] >= 0).all()
    if method == "mean":
        assert (members["weight"] == 0.25).all()
    document = json.loads(_artifact(outcome.run_id, names.ARTIFACT_ENSEMBLE_MEMBERS).read_text())
    sources = {m["name"]: m["oof_source"] for m in document["members"]}
    assert "recomputed" in sources.values()  # 4 best trials of 3 families: one is not its family's best
    if method == "greedy":
        greedy = document["greedy"]
        kept = greedy["picks"][: greedy["n_kept"]]
        for m in document["members"]:
            assert m["weight"] == pytest.approx(kept.count(m["name"]) / len(kept))
    run = mlflow.get_run(outcome.run_id)
    assert run.data.metrics["cv_rmse"] == pytest.approx(frame.iloc[-1]["cv_rmse"])
    assert run.data.metrics["beats_best_member"] == float(outcome.beats_best_member)


def test_model_loads_in_a_fresh_process(ensemble_store, tuned_housing, stacked_housing, tmp_path):
    data = load_training_data(read_tune_run(tuned_housing.tune_run_id))
    data.X_test.to_parquet(tmp_path / "x.parquet")
    script = (
        "import sys, numpy as np, pandas as pd, mlflow\n"
        "model = mlflow.pyfunc.load_model(sys.argv[1])\n"
        "np.save(sys.argv[3], np.asarray(model.predict(pd.read_parquet(sys.argv[2]))).ravel())\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, stacked_housing.model_uri, str(tmp_path / "x.parquet"), str(tmp_path / "p.npy")],
        check=True, cwd=tmp_path, env=os.environ.copy(),
    )
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), stacked_housing.model.predict(data.X_test))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_registered_ensemble_serves(ensemble_store, tuned_housing, tmp_path):
    from mlflow_steward.cli import main
    from mlflow_steward.cli._ensemble import ensemble

    if "ensemble" not in main.commands:
        main.add_command(ensemble)
    result = CliRunner().invoke(
        main, ["ensemble", "--tune-run", tuned_housing.tune_run_id, "--per-family", "--method", "weighted",
               "--register", "housing-ensemble", "--n-resamples", "300"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "registered version: 1" in result.output
    version = mlflow.MlflowClient().get_model_version_by_alias("housing-ensemble", names.ALIAS_STAGING)
    assert version.tags[names.TAG_TASK] == "regression"
    data = load_training_data(read_tune_run(tuned_housing.tune_run_id))
    rows = data.X_test.head(5)
    expected = mlflow.pyfunc.load_model("models:/housing-ensemble@staging").predict(rows)

    port = _free_port()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    server = subprocess.Popen(
        [str(bin_dir / "mlflow"), "models", "serve", "-m", "models:/housing-ensemble@staging", "-p", str(port),
         "-h", "127.0.0.1", "--env-manager", "local"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        body = json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}).encode()
        deadline = time.monotonic() + 90
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    served = json.loads(response.read())
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    predictions = served["predictions"] if isinstance(served, dict) else served
    values = [p if not isinstance(p, dict) else next(iter(p.values())) for p in predictions]
    np.testing.assert_allclose(np.asarray(values, dtype=float).ravel(), np.asarray(expected, dtype=float).ravel())


def test_classification_ensemble_averages_probabilities(ensemble_store, tuned_adult):
    outcome = build_and_compare(tuned_adult.tune_run_id, method="mean", n_resamples=300, reuse=False)
    assert outcome.metric == "roc_auc" and outcome.greater_is_better
    assert outcome.beats_best_member == (outcome.difference_ci_low > 0)
    model = outcome.model
    assert isinstance(model, EnsembleClassifier)
    data = load_training_data(read_tune_run(tuned_adult.tune_run_id))
    probas = model.member_predictions(data.X_test)
    np.testing.assert_allclose(model.predict_proba(data.X_test), probas.mean(axis=0))
    frame = pd.read_csv(_artifact(outcome.run_id, names.ARTIFACT_ENSEMBLE_COMPARISON))
    assert set(frame["model"]) == {"logistic_regression", "knn", "random_forest", "ensemble"}
    assert (frame["test_roc_auc"] <= 1).all()
    loaded = mlflow.pyfunc.load_model(outcome.model_uri)
    predicted = np.asarray(loaded.predict(data.X_test.head(20))).ravel()
    np.testing.assert_array_equal(predicted.astype(str), model.predict(data.X_test.head(20)).astype(str))


def test_a_member_fitted_by_a_train_run_is_loaded_not_refitted(ensemble_store, tuned_housing):
    from mlflow_steward.ensemble import select_members
    from mlflow_steward.ensemble._oof import member_estimator
    from mlflow_steward.serving import log_pipeline_model

    context = read_tune_run(tuned_housing.tune_run_id)
    data = load_training_data(context)
    knn = next(m for m in select_members(context, per_family=True) if m.family == "knn")
    pipeline = data.make_pipeline(member_estimator(context, knn)).fit(data.X_train, data.y_train)
    with mlflow.start_run(
        tags={names.TAG_STEP: "train", names.TAG_TUNE_RUN: context.run_id, names.TAG_DATA_RUN: context.data_run_id,
              names.TAG_MODEL_FAMILY: "knn"}
    ) as train:
        mlflow.log_params({f"model.{k}": v for k, v in knn.params.items()})
        packaged = log_pipeline_model(pipeline, input_example=data.X_train.head(3))
        mlflow.set_tag(names.TAG_MODEL_URI, packaged.model_uri)
    outcome = build_and_compare(context.run_id, method="mean", per_family=True, n_resamples=300, reuse=False)
    document = json.loads(_artifact(outcome.run_id, names.ARTIFACT_ENSEMBLE_MEMBERS).read_text())
    fits = {m["name"]: m["fit"] for m in document["members"]}
    assert fits["knn"] == f"loaded from run {train.info.run_id}"
    assert fits["ridge"] == "refitted"
