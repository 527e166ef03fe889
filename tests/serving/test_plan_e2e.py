"""The fast path inside a real ``mlflow models serve`` (1 worker each): the same answers and the same
400 errors with the fast path on, switched off, and off because a step has no kernel (said in the
server's log)."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from mlflow_steward import names
from mlflow_steward.cleaning import CleaningConfig, build_cleaning_pipeline
from mlflow_steward.serving import log_pipeline_model

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def models(tmp_path_factory, store_copy, housing_xy):
    """Two logged housing models: our cleaning + boosted trees, and the same with a step of no kernel."""
    X, y = housing_xy
    numeric = [c for c in X.columns if c != "ocean_proximity"]
    config = CleaningConfig(ratios=(("rooms_per_house", "total_rooms", "households"),),
                            cluster_similarity={"columns": ["latitude", "longitude"], "n_clusters": 4})  # fmt: skip
    fast = Pipeline([("cleaning", build_cleaning_pipeline(numeric, ["ocean_proximity"], config)),
                     ("model", HistGradientBoostingRegressor(max_iter=30, random_state=0))]).fit(X, y)  # fmt: skip
    slow = Pipeline([("cleaning", build_cleaning_pipeline(numeric, ["ocean_proximity"], config)),
                     ("mine", FunctionTransformer(np.negative, feature_names_out="one-to-one")),
                     ("model", HistGradientBoostingRegressor(max_iter=30, random_state=0))]).fit(X, y)  # fmt: skip
    tmp = tmp_path_factory.mktemp("fast_path")
    with store_copy(tmp, "fast") as (uri, experiment), mlflow.start_run(experiment_id=experiment):
        fast_uri = log_pipeline_model(fast, input_example=X.head(5), name="fast").model_uri
        slow_uri = log_pipeline_model(slow, input_example=X.head(5), name="slow").model_uri
    return {"tmp": tmp, "uri": uri, "fast": (fast_uri, fast), "slow": (slow_uri, slow)}


def _body(frame: pd.DataFrame) -> dict:
    return {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}


def test_served_answers_and_errors_are_the_same_on_and_off(models, housing_xy, serve_model, make_server_env):
    X, _ = housing_xy
    rows = X.sample(300, random_state=5).reset_index(drop=True).astype({"ocean_proximity": object})
    rows.loc[:20, "ocean_proximity"] = ["MARS", None, " ?"] * 7
    rows.loc[30:40, "total_bedrooms"] = np.nan
    rows.loc[50:52, "median_income"] = [1e300, -1e300, 0.0]
    bad = X.head(2).astype(object)
    bad.loc[1, "total_rooms"] = "abc"
    tmp, uri = models["tmp"], models["uri"]
    cases = {
        "fast on": (models["fast"], {}),
        "fast switched off": (models["fast"], {names.ENV_FAST_PATH: "0"}),
        "no kernel": (models["slow"], {}),
    }
    answers, errors = {}, {}
    for label, ((model_uri, pipeline), extra) in cases.items():
        log = tmp / f"{label.replace(' ', '_')}.log"
        env = make_server_env(MLFLOW_TRACKING_URI=uri, **extra)
        with serve_model(model_uri, log, env=env, workers=1) as server:
            one = requests.post(server.invocations(), json=_body(rows.head(1)), timeout=60)
            many = requests.post(server.invocations(), json=_body(rows), timeout=60)
            wrong = requests.post(server.invocations(), json=_body(bad), timeout=60)
        assert one.status_code == 200 and many.status_code == 200, (one.text, many.text)
        expected = pipeline.predict(rows)
        np.testing.assert_allclose(many.json()["predictions"], expected, rtol=1e-12)
        np.testing.assert_allclose(one.json()["predictions"], expected[:1], rtol=1e-12)
        answers[label] = np.asarray(many.json()["predictions"])
        errors[label] = (wrong.status_code, wrong.json()["message"])
        output = server.output()
        if label == "no kernel":
            assert "steward fast path off: step 'mine': FunctionTransformer with a function has no array kernel" in output
        else:
            assert "steward fast path off" not in output  # on, or switched off on purpose (INFO)
    np.testing.assert_array_equal(answers["fast on"], answers["fast switched off"])
    assert len(set(errors.values())) == 1 and errors["fast on"][0] == 400, errors
