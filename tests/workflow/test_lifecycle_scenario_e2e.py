"""The registry story on the housing data, with the real server answering at each step.

v1 (ridge) is promoted through the gate (absolute thresholds); v2 (gradient boosting, better) passes
the gate against v1; v3 (trained on a corrupted copy: the target shuffled) is rejected with its reason
in the version description; `steward rollback` returns production to v1. After every step
`mlflow models serve -m models:/NAME@production` answers with the predictions of the right version.
"""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
import requests
from click.testing import CliRunner
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge

from mlflow_steward import names
from mlflow_steward.cli import main
from mlflow_steward.registry import register_candidate
from mlflow_steward.serving import log_pipeline_model
from mlflow_steward.workflow import (
    PipelineConfig,
    clean_step,
    code_version,
    dataset_tags,
    load_step_inputs,
    make_model_pipeline,
)

NAME = "housing-lifecycle"
GATE = '{"n_resamples": 500, "slice_columns": ["ocean_proximity", "median_income"]}'


def _register(inputs, data_run_id: str, estimator, *, corrupt: bool = False) -> str:
    spec = inputs.spec
    train = inputs.train.copy()
    if corrupt:
        train[spec.target] = np.random.default_rng(0).permutation(train[spec.target].to_numpy())
    X = train[spec.feature_columns()]
    pipeline = make_model_pipeline(spec.numeric, spec.categorical, inputs.cleaning, None, estimator)
    pipeline.fit(X, train[spec.target])
    recorded = dataset_tags(data_run_id)
    with mlflow.start_run() as run:
        packaged = log_pipeline_model(pipeline, input_example=X.head(5))
    version = register_candidate(
        NAME, packaged.model_uri, run_id=run.info.run_id, spec_json=spec.to_json(),
        test_data_uri=recorded[names.TAG_TEST_DATA_URI],
        dataset_digest=recorded[names.TAG_DATASET_DIGEST],
        dataset_version=recorded[names.TAG_DATASET_VERSION], metrics={},
        code_version=code_version(), task=spec.task,
    )  # fmt: skip
    return str(version.version)


def _served_predictions(serve_model, make_server_env, rows, log) -> np.ndarray:
    uri = mlflow.get_tracking_uri()
    env = make_server_env(MLFLOW_TRACKING_URI=uri, MLFLOW_REGISTRY_URI=uri)
    with serve_model(f"models:/{NAME}@production", log, env=env) as server:
        payload = {"dataframe_split": rows.to_dict(orient="split")}
        answer = requests.post(server.invocations(), json=payload, timeout=30)
    assert answer.status_code == 200, answer.text
    return np.asarray(answer.json()["predictions"], dtype=float)


def _expected(version: str, rows) -> np.ndarray:
    return np.asarray(mlflow.pyfunc.load_model(f"models:/{NAME}/{version}").predict(rows), dtype=float)


@pytest.mark.e2e
def test_promote_better_reject_worse_rollback_and_serve(mlflow_store, tmp_path, serve_model, make_server_env):
    data_run = clean_step(PipelineConfig(), echo=lambda _: None).run_id
    inputs = load_step_inputs(data_run)
    rows = inputs.test[inputs.spec.feature_columns()].head(25).reset_index(drop=True)
    client = mlflow.MlflowClient()
    cli = CliRunner()

    def production() -> str:
        return str(client.get_model_version_by_alias(NAME, names.ALIAS_PRODUCTION).version)

    def check_serving(version: str, step: str) -> None:
        served = _served_predictions(serve_model, make_server_env, rows, tmp_path / f"{step}.log")
        np.testing.assert_allclose(served, _expected(version, rows), rtol=1e-9)

    v1 = _register(inputs, data_run, Ridge(alpha=1.0))
    result = cli.invoke(main, ["promote", NAME, v1, "--gate-config", GATE])
    assert result.exit_code == 0, result.output
    assert production() == v1
    check_serving(v1, "v1")

    v2 = _register(inputs, data_run, HistGradientBoostingRegressor(max_iter=150, random_state=0))
    result = cli.invoke(main, ["promote", NAME, v2, "--gate-config", GATE])
    assert result.exit_code == 0, result.output
    assert production() == v2
    check_serving(v2, "v2")

    v3 = _register(inputs, data_run, HistGradientBoostingRegressor(max_iter=150, random_state=0), corrupt=True)
    result = cli.invoke(main, ["promote", NAME, v3, "--gate-config", GATE])
    assert result.exit_code == 1, result.output  # rejected by the gate, not an error
    assert production() == v2
    rejected = client.get_model_version(NAME, v3)
    assert rejected.tags[names.TAG_GATE] == "rejected"
    assert "REJECTED" in rejected.description and "rmse" in rejected.description
    check_serving(v2, "v3-rejected")

    result = cli.invoke(main, ["rollback", NAME, "--reason", "scenario: back to v1"])
    assert result.exit_code == 0, result.output
    assert production() == v1
    check_serving(v1, "rollback")

    status = cli.invoke(main, ["status", NAME])
    assert status.exit_code == 0 and "rollback" in status.output
