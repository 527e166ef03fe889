"""The logged pyfunc in process: what is logged, predictions, errors, probabilities, capture switches."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from mlflow_steward import names
from mlflow_steward.serving import log_pipeline_model, read_captures
from mlflow_steward.serving import _capture_queue as queue_module
from mlflow_steward.serving import _validation as v


def _flushed(loaded) -> None:
    """Captures are written by a writer thread: wait until what was predicted is written."""
    assert loaded.unwrap_python_model().capture.flush(timeout=60)


@pytest.fixture
def housing_logged(mlflow_store, housing_model, housing_xy):
    X, _ = housing_xy
    with mlflow.start_run():
        return log_pipeline_model(housing_model, input_example=X.head(5))


def _model_dir(uri: str) -> Path:
    return Path(mlflow.artifacts.download_artifacts(uri))


def test_logged_model_is_our_pyfunc_with_skops_artifact_and_code(housing_logged, housing_model, housing_xy):
    X, _ = housing_xy
    assert housing_logged.serialization == "skops"
    assert set(housing_logged.code_packages) >= {"cleaning", "serving"}
    model_dir = _model_dir(housing_logged.model_uri)
    assert (model_dir / "artifacts" / "pipeline.skops").is_file()
    manifest = json.loads((model_dir / "artifacts" / "steward.json").read_text())
    assert manifest["serialization"] == "skops" and manifest["task"] == "regression"
    assert [f["name"] for f in manifest["features"]] == list(X.columns)
    assert [p.name for p in (model_dir / "code").iterdir()] == [housing_logged.code_package]
    assert housing_logged.code_package == manifest["code_package"]
    assert housing_logged.code_package.startswith("_mlflow_steward_0_1_0_")  # never the installed package's name
    code = model_dir / "code" / housing_logged.code_package
    assert (code / "serving" / "_pyfunc.py").is_file() and (code / "names.py").is_file()
    assert "mlflow_steward" not in (code / "serving" / "_pyfunc.py").read_text().replace("_mlflow_steward_", "")
    requirements = (model_dir / "requirements.txt").read_text().split()
    assert {r.split("==")[0] for r in requirements} >= {"mlflow", "scikit-learn", "pandas", "numpy", "skops"}
    assert not any("steward" in r for r in requirements)
    # the pickled python model is stateless: the fitted forest lives only in the skops artifact
    assert (model_dir / "python_model.pkl").stat().st_size < 2_000
    loaded = mlflow.pyfunc.load_model(housing_logged.model_uri)
    np.testing.assert_allclose(loaded.predict(X.head(50)), housing_model.predict(X.head(50)))
    assert type(loaded.unwrap_python_model().pipeline).__name__ == "Pipeline"
    assert type(loaded.unwrap_python_model()).__module__ == f"{housing_logged.code_package}.serving._pyfunc"


def test_signature_has_outputs_and_request_id_but_no_input_schema(mlflow_store, adult_model, adult_xy):
    X, _ = adult_xy
    with mlflow.start_run():
        packaged = log_pipeline_model(adult_model, input_example=X.head(5))
    info = mlflow.models.get_model_info(packaged.model_uri)
    assert info.signature.inputs is None  # on purpose: our validation, not MLflow's casts (see _packaging)
    assert info.signature.outputs is not None
    assert [p.name for p in info.signature.params.params] == [names.PARAM_REQUEST_ID]
    kinds = {f["name"]: f["kind"] for f in info.metadata["steward_features"]}
    assert list(kinds) == list(X.columns)
    assert kinds["age"] == v.NUMERIC and kinds["workclass"] == v.CATEGORICAL
    # int64 frames and missing integer values both pass; bad values are named
    loaded = mlflow.pyfunc.load_model(packaged.model_uri)
    assert len(loaded.predict(X.head(2))) == 2
    assert len(loaded.predict(X.head(2).assign(age=[np.nan, 30.0]))) == 2
    with pytest.raises(MlflowException) as info:
        loaded.predict(X.head(2).assign(age=["old", "young"]))
    assert info.value.message == v.NOT_NUMBER.format(column="age", value="'old'", type="str", row=0)
    with pytest.raises(MlflowException) as info:
        loaded.predict(X.head(2).drop(columns=["age"]))
    assert info.value.message.startswith("model input is missing column(s) 'age' (numeric); the model expects age")


def test_classifier_offers_probabilities_through_unwrap(mlflow_store, adult_model, adult_xy):
    X, _ = adult_xy
    with mlflow.start_run():
        packaged = log_pipeline_model(adult_model, input_example=X.head(5))
    python_model = mlflow.pyfunc.load_model(packaged.model_uri).unwrap_python_model()
    np.testing.assert_allclose(python_model.predict_proba(X.head(20)), adult_model.predict_proba(X.head(20)))
    assert list(python_model.classes_) == list(adult_model.classes_)


def test_regressor_has_no_classes(housing_logged):
    python_model = mlflow.pyfunc.load_model(housing_logged.model_uri).unwrap_python_model()
    assert not hasattr(python_model, "classes_")
    with pytest.raises(MlflowException, match="not a classifier"):
        python_model.predict_proba(pd.DataFrame())


def test_bad_input_is_invalid_parameter_value_naming_the_column(housing_logged, housing_xy):
    X, _ = housing_xy
    python_model = mlflow.pyfunc.load_model(housing_logged.model_uri).unwrap_python_model()
    bad = X.head(2).astype({"ocean_proximity": object})
    bad.loc[bad.index[1], "ocean_proximity"] = 7
    with pytest.raises(MlflowException) as info:
        python_model.predict(None, bad)
    assert info.value.get_http_status_code() == 400
    assert info.value.message == v.NOT_TEXT.format(column="ocean_proximity", value="7", type="int", row=1)


def test_unseen_category_and_missing_values_are_not_errors(housing_logged, housing_xy):
    X, _ = housing_xy
    loaded = mlflow.pyfunc.load_model(housing_logged.model_uri)
    rows = X.head(3).copy()
    rows["ocean_proximity"] = ["ON THE MOON", None, "INLAND"]
    rows.loc[rows.index[0], "total_bedrooms"] = np.nan
    assert np.isfinite(loaded.predict(rows)).all()


def test_ensemble_logs_and_loads(mlflow_store, housing_xy):
    from sklearn.ensemble import RandomForestRegressor, VotingRegressor
    from sklearn.linear_model import Ridge

    X, y = housing_xy
    numeric = X.drop(columns=["ocean_proximity"])
    ensemble = VotingRegressor([("rf", RandomForestRegressor(n_estimators=5, random_state=0)), ("ridge", Ridge())])
    model = ensemble.fit(numeric.fillna(0), y)
    with mlflow.start_run():
        packaged = log_pipeline_model(model, input_example=numeric.head(5).fillna(0))
    loaded = mlflow.pyfunc.load_model(packaged.model_uri)
    np.testing.assert_allclose(loaded.predict(numeric.head(10).fillna(0)), model.predict(numeric.head(10).fillna(0)))


class _Doubler:
    """A model skops cannot vouch for: logged with cloudpickle instead."""

    def predict(self, frame):
        return frame["x"].to_numpy() * 2.0


class _Picky:
    """Refuses negative values the way scikit-learn refuses bad input: with a ValueError."""

    def predict(self, frame):
        if (frame["x"] < 0).any():
            raise ValueError("x must not be negative")
        return frame["x"].to_numpy()


def test_model_refusing_input_is_invalid_parameter_value(mlflow_store):
    from mlflow_steward.serving._pyfunc import PREDICT_FAILED

    example = pd.DataFrame({"x": [1.0, 2.0]})
    with mlflow.start_run():
        packaged = log_pipeline_model(_Picky(), input_example=example)
    with pytest.raises(MlflowException) as info:
        mlflow.pyfunc.load_model(packaged.model_uri).predict(pd.DataFrame({"x": [-1.0]}))
    assert info.value.get_http_status_code() == 400
    assert info.value.message == PREDICT_FAILED.format(error="x must not be negative")


def test_untrusted_model_falls_back_to_cloudpickle(mlflow_store):
    example = pd.DataFrame({"x": [1.0, 2.0]})
    with mlflow.start_run() as run:
        packaged = log_pipeline_model(_Doubler(), input_example=example)
    assert packaged.serialization == "cloudpickle" and "_Doubler" in packaged.reason
    assert mlflow.get_run(run.info.run_id).data.tags[names.TAG_SERIALIZATION].startswith("cloudpickle")
    assert (_model_dir(packaged.model_uri) / "artifacts" / "pipeline.pkl").is_file()
    np.testing.assert_allclose(mlflow.pyfunc.load_model(packaged.model_uri).predict(example), [2.0, 4.0])


def test_capture_from_model_config_at_load_not_during_logging(mlflow_store, housing_model, housing_xy, tmp_path):
    X, _ = housing_xy
    at_log = tmp_path / "at_log.db"
    with mlflow.start_run():
        packaged = log_pipeline_model(
            housing_model, input_example=X.head(5), model_config={names.MODEL_CONFIG_CAPTURE_PATH: str(at_log)}
        )
    assert not at_log.exists()  # MLflow's check of the input example is not an inference
    loaded = mlflow.pyfunc.load_model(packaged.model_uri)  # the logged model_config switches capture on
    predictions = loaded.predict(X.head(4), params={names.PARAM_REQUEST_ID: "req-1"})
    _flushed(loaded)
    captured = read_captures(at_log)
    assert captured["request_id"].tolist() == ["req-1"] * 4 and captured["row"].tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(captured["prediction"].astype(float), predictions)
    assert captured["model_id"].iloc[0] == packaged.model_id and captured["run_id"].iloc[0] == packaged.run_id
    assert captured["ocean_proximity"].iloc[0] == X["ocean_proximity"].iloc[0]
    pd.testing.assert_frame_equal(  # the features exactly as the model saw them
        captured[list(X.columns)], X.head(4).reset_index(drop=True), check_dtype=False
    )

    at_load = tmp_path / "at_load.db"
    again = mlflow.pyfunc.load_model(
        packaged.model_uri,
        model_config={names.MODEL_CONFIG_CAPTURE_PATH: str(at_load), names.MODEL_CONFIG_MODEL_NAME: "house",
                      names.MODEL_CONFIG_MODEL_VERSION: "7"},
    )  # fmt: skip
    again.predict(X.head(2))
    _flushed(again)
    rows = read_captures(at_load)
    assert len(rows) == 2 and rows["request_id"].nunique() == 1
    assert set(zip(rows["model_name"], rows["model_version"])) == {("house", "7")}


def test_capture_env_var_and_registry_version(mlflow_store, housing_model, housing_xy, tmp_path, monkeypatch):
    X, _ = housing_xy
    with mlflow.start_run():
        packaged = log_pipeline_model(housing_model, input_example=X.head(5), registered_model_name="house")
    path = tmp_path / "env.db"
    monkeypatch.setenv(names.ENV_CAPTURE_PATH, str(path))
    loaded = mlflow.pyfunc.load_model("models:/house/1")
    loaded.predict(X.head(3))
    _flushed(loaded)
    rows = read_captures(path)
    assert set(zip(rows["model_name"], rows["model_version"])) == {("house", "1")}
    assert rows["model_id"].iloc[0] == packaged.model_id


def test_classifier_capture_records_probabilities(mlflow_store, adult_model, adult_xy, tmp_path):
    X, _ = adult_xy
    with mlflow.start_run():
        packaged = log_pipeline_model(adult_model, input_example=X.head(5))
    path = tmp_path / "adult.db"
    loaded = mlflow.pyfunc.load_model(packaged.model_uri, model_config={names.MODEL_CONFIG_CAPTURE_PATH: str(path)})
    predictions = loaded.predict(X.head(3))
    _flushed(loaded)
    rows = read_captures(path)
    assert rows["prediction"].tolist() == list(predictions)
    probabilities = [json.loads(p) for p in rows["probabilities"]]
    expected = adult_model.predict_proba(X.head(3))
    assert set(probabilities[0]) == {str(c) for c in adult_model.classes_}
    np.testing.assert_allclose([[p[str(c)] for c in adult_model.classes_] for p in probabilities], expected)


def test_capture_failure_does_not_fail_predictions(housing_logged, housing_xy, tmp_path, caplog):
    X, _ = housing_xy
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the capture directory should be")
    loaded = mlflow.pyfunc.load_model(
        housing_logged.model_uri, model_config={names.MODEL_CONFIG_CAPTURE_PATH: str(blocker / "cap.db")}
    )
    logger = f"{housing_logged.code_package}.serving._capture_queue"  # the model runs its own copy
    with caplog.at_level(logging.INFO, logger=logger):
        first = loaded.predict(X.head(3))
        second = loaded.predict(X.head(3))
        queue = loaded.unwrap_python_model().capture
        stats = queue.close(timeout=1)
    np.testing.assert_allclose(first, second)
    assert (stats.captured_rows, stats.failed_rows, stats.failed_requests, stats.pending_rows) == (0, 6, 2, 0)
    messages = [r.getMessage() for r in caplog.records if r.name == logger]
    assert sum(m.startswith(f"inference capture to {blocker / 'cap.db'} failing, will retry") for m in messages) == 1
    assert messages[-1] == queue_module.SUMMARY.format(sink=blocker / "cap.db", **stats.snapshot())
    assert "0 row(s) captured (0 request(s)), 0 dropped, 6 failed" in messages[-1]


def test_python_model_pickles_without_state(housing_logged):
    python_model = mlflow.pyfunc.load_model(housing_logged.model_uri).unwrap_python_model()
    clone = pickle.loads(pickle.dumps(python_model))
    assert clone.pipeline is None and clone.capture is None


def test_identity_from_config_or_environment_before_the_registry(monkeypatch):
    from mlflow_steward.serving._pyfunc import resolve_identity

    monkeypatch.setenv(names.ENV_MODEL_NAME, "env-name")
    monkeypatch.setenv(names.ENV_MODEL_VERSION, "4")
    assert resolve_identity({}, "m-1", "r-1") == resolve_identity({"model_name": "", "model_version": ""}, "m-1", "r-1")
    identity = resolve_identity({}, "m-1", "r-1")
    assert (identity.name, identity.version, identity.model_id, identity.run_id) == ("env-name", "4", "m-1", "r-1")
    identity = resolve_identity({names.MODEL_CONFIG_MODEL_NAME: "cfg", names.MODEL_CONFIG_MODEL_VERSION: 9}, None, None)
    assert (identity.name, identity.version) == ("cfg", "9")


def test_no_registry_lookup_without_a_tracking_uri(monkeypatch, tmp_path):
    from mlflow_steward.serving import _pyfunc

    monkeypatch.setenv("MLFLOW_REGISTRY_URI", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    assert _pyfunc._registry_configured()
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    # (mlflow.set_tracking_uri from other tests lingers in this process; a fresh server has neither)
    monkeypatch.setattr(_pyfunc, "_registry_configured", lambda: False)
    monkeypatch.chdir(tmp_path)
    identity = _pyfunc.resolve_identity({}, "m-1", "r-1")
    assert (identity.name, identity.version) == (None, None)
    assert list(tmp_path.iterdir()) == []  # no store created in the working directory


def test_unloaded_model_says_how_to_load_it():
    from mlflow_steward.serving import StewardModel
    from mlflow_steward.serving._pyfunc import NOT_LOADED

    for call in (lambda m: m.predict(None, pd.DataFrame({"x": [1]})), lambda m: m.predict_proba(pd.DataFrame())):
        with pytest.raises(MlflowException) as info:
            call(StewardModel())
        assert info.value.message == NOT_LOADED
