"""The serving fast path: the compiled plan predicts what the pipeline predicts, falls back where it
must, says whether it is on (and why) in steward.json, the model metadata and a log line, and can
be switched off."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline

from mlflow_steward import names
from mlflow_steward.cleaning import CleaningConfig, KernelUnavailable, build_cleaning_pipeline, build_model_pipeline
from mlflow_steward.serving import log_pipeline_model
from mlflow_steward.serving import _plan
from mlflow_steward.serving._plan import FastPlan, compile_plan, load_predictor

HOUSING_RATIOS = (
    ("rooms_per_house", "total_rooms", "households"),
    ("bedrooms_ratio", "total_bedrooms", "total_rooms"),
    ("people_per_house", "population", "households"),
)
DEMO = CleaningConfig(
    ratios=HOUSING_RATIOS, cluster_similarity={"columns": ["latitude", "longitude"], "n_clusters": 5, "gamma": 1.0}
)


@pytest.fixture(autouse=True)
def _fast_path_default(monkeypatch):
    monkeypatch.delenv(names.ENV_FAST_PATH, raising=False)


@pytest.fixture(scope="module")
def housing_steward(housing_xy):
    """Our cleaning (ratios, clusters, clipping, imputation, scaling, one-hot) + boosted trees."""
    X, y = housing_xy
    numeric = [c for c in X.columns if c != "ocean_proximity"]
    cleaning = build_cleaning_pipeline(numeric, ["ocean_proximity"], DEMO)
    model = build_model_pipeline(cleaning, HistGradientBoostingRegressor(max_iter=50, random_state=0))
    return model.fit(X, y)


@pytest.fixture(scope="module")
def adult_steward(adult_path):
    frame = pd.read_csv(adult_path).sample(2000, random_state=0).reset_index(drop=True)  # "?" kept: markers
    X, y = frame.drop(columns=["salary"]), frame["salary"]
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    numeric = [c for c in X.columns if c not in categorical]
    cleaning = build_cleaning_pipeline(numeric, categorical, CleaningConfig())
    model = build_model_pipeline(cleaning, HistGradientBoostingClassifier(max_iter=30, random_state=0))
    return model.fit(X, y), X


def _awkward(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Missing values, unseen categories, markers, whitespace and extreme (finite) numbers."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for column in out.columns:
        hit = rng.random(len(out)) < 0.2
        if pd.api.types.is_numeric_dtype(out[column].dtype):
            values = out[column].to_numpy(dtype=float, copy=True)
            values[hit] = rng.choice([np.nan, 1e300, -1e300, 0.0, 1e-300], hit.sum())
        else:
            values = out[column].astype(object).to_numpy(copy=True)
            values[hit] = rng.choice(np.array([None, np.nan, "MARS", " ?", "?", "", "n/a"], dtype=object), hit.sum())
        out[column] = values
    return out


def test_housing_plan_equals_pipeline(housing_steward, housing_xy):
    X, _ = housing_xy
    plan = compile_plan(housing_steward, tuple(X.columns))
    for frame in (X.head(1), X.head(7), X, _awkward(X, 0), _awkward(X.head(1), 1)):
        expected = housing_steward.predict(frame)
        got = plan.predict(frame)
        assert np.max(np.abs(got - expected)) <= 1e-9 * np.max(np.abs(expected))
    assert plan.fallbacks == 0  # every call went through the kernels


def test_adult_plan_gives_identical_classes_and_probabilities(adult_steward):
    model, X = adult_steward
    plan = compile_plan(model, tuple(X.columns))
    for frame in (X.head(1), X, _awkward(X, 2), X.astype(object)):
        np.testing.assert_array_equal(plan.predict(frame), model.predict(frame))
        np.testing.assert_array_equal(plan.predict_proba(frame), model.predict_proba(frame))
    assert plan.fallbacks == 0


def test_infinity_goes_to_the_pipeline_with_its_own_answer_or_error(housing_xy):
    X, y = housing_xy
    numeric = [c for c in X.columns if c != "ocean_proximity"]
    clipped = build_model_pipeline(build_cleaning_pipeline(numeric, ["ocean_proximity"]), LinearRegression())
    raw = build_model_pipeline(
        build_cleaning_pipeline(numeric, ["ocean_proximity"], CleaningConfig(outliers=None)), LinearRegression()
    )
    rows = X.head(3).copy()
    rows.loc[rows.index[1], "median_income"] = np.inf
    clipped.fit(X, y)
    plan = compile_plan(clipped)
    np.testing.assert_array_equal(plan.predict(rows), clipped.predict(rows))  # clipped: a number
    assert plan.fallbacks == 0
    raw.fit(X, y)
    plan = compile_plan(raw)
    with pytest.raises(ValueError, match="infinity") as from_pipeline:
        raw.predict(rows)
    with pytest.raises(ValueError, match="infinity") as from_plan:
        plan.predict(rows)
    assert str(from_plan.value) == str(from_pipeline.value) and plan.fallbacks == 1


class _Custom(TransformerMixin, BaseEstimator):
    """A user's own step: no kernel."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X

    def get_feature_names_out(self, input_features=None):
        return input_features


def test_step_without_kernel_means_no_plan_naming_the_step(housing_xy, caplog):
    X, y = housing_xy
    numeric = [c for c in X.columns if c != "ocean_proximity"]
    model = Pipeline([("cleaning", build_cleaning_pipeline(numeric, ["ocean_proximity"])), ("mine", _Custom()),
                      ("model", LinearRegression())]).fit(X, y)  # fmt: skip
    with pytest.raises(KernelUnavailable, match="step 'mine': _Custom has no array kernel"):
        compile_plan(model)
    with caplog.at_level(logging.INFO, logger=_plan.__name__):
        predictor, status = load_predictor(model, tuple(X.columns), {})
    assert predictor is model and not status.enabled and "_Custom" in status.reason
    [record] = caplog.records  # one line, a warning: the model could be faster and is not
    assert record.levelno == logging.WARNING and record.getMessage() == f"steward fast path off: {status.reason}"


@pytest.mark.parametrize(
    "model, reason",
    [(RandomForestRegressor(n_estimators=2), _plan.NOT_A_PIPELINE.format(type="RandomForestRegressor")),
     (Pipeline([("passthrough", "passthrough"), ("model", LinearRegression())]), _plan.NO_NAMES)],
)  # fmt: skip
def test_models_the_plan_does_not_cover(housing_xy, model, reason):
    X, y = housing_xy
    numeric = X.drop(columns=["ocean_proximity"]).fillna(0)
    model.fit(numeric, y)
    status = _plan.fast_path_status(model, tuple(numeric.columns))
    assert status.to_dict() == {"enabled": False, "reason": reason}


def test_columns_missing_from_the_input_turn_the_plan_off(housing_steward, housing_xy):
    X, _ = housing_xy
    status = _plan.fast_path_status(housing_steward, tuple(c for c in X.columns if c != "population"))
    assert not status.enabled
    assert status.reason == _plan.COLUMNS_NOT_IN_INPUT.format(columns=["population"])


def test_estimator_names_are_checked_once_and_dropped_from_a_copy(housing_steward):
    plan = compile_plan(housing_steward)
    estimator = housing_steward[-1]
    assert not hasattr(plan.estimator, "feature_names_in_") and hasattr(estimator, "feature_names_in_")
    assert plan.estimator.__dict__.keys() == estimator.__dict__.keys() - {"feature_names_in_"}
    renamed = estimator.__class__(**estimator.get_params())  # the same fit, but other column names
    renamed.__dict__.update({**estimator.__dict__, "feature_names_in_": estimator.feature_names_in_[::-1]})
    other = Pipeline([*housing_steward.steps[:-1], ("model", renamed)])
    with pytest.raises(KernelUnavailable, match=_plan.NAMES_DIFFER):
        compile_plan(other)


def test_small_batches_run_on_one_thread_and_threads_are_restored(housing_steward, housing_xy):
    X, _ = housing_xy
    plan = compile_plan(housing_steward)
    if not plan.openmp:
        pytest.skip("no OpenMP runtime loaded")
    before = [c.get_num_threads() for c in plan.openmp]
    seen = []
    predictors = plan.estimator._predictors  # record the thread count while the trees run

    original = type(predictors[0][0]).predict

    def spy(self, *args, **kwargs):
        seen.append([c.get_num_threads() for c in plan.openmp])
        return original(self, *args, **kwargs)

    try:
        type(predictors[0][0]).predict = spy
        plan.predict(X.head(1))
    finally:
        type(predictors[0][0]).predict = original
    assert seen and all(threads == [1] * len(plan.openmp) for threads in seen)
    assert [c.get_num_threads() for c in plan.openmp] == before


# --- through the logged pyfunc --------------------------------------------------------------------
@pytest.fixture
def housing_logged(mlflow_store, housing_steward, housing_xy):
    X, _ = housing_xy
    with mlflow.start_run():
        return log_pipeline_model(housing_steward, input_example=X.head(5))


def test_logged_model_records_and_uses_the_fast_path(housing_logged, housing_steward, housing_xy, caplog):
    X, _ = housing_xy
    model_dir = Path(mlflow.artifacts.download_artifacts(housing_logged.model_uri))
    manifest = json.loads((model_dir / "artifacts" / "steward.json").read_text())
    assert manifest["fast_path"]["enabled"] is True
    assert manifest["fast_path"]["reason"].startswith("6 cleaning steps compiled")
    info = mlflow.models.get_model_info(housing_logged.model_uri)
    assert info.metadata[names.MODEL_METADATA_FAST_PATH] == manifest["fast_path"]
    plan_logger = f"{housing_logged.code_package}.serving._plan"  # the model runs its own copy of the code
    with caplog.at_level(logging.INFO, logger=plan_logger):
        loaded = mlflow.pyfunc.load_model(housing_logged.model_uri)
    assert any(
        r.name == plan_logger and r.getMessage().startswith("steward fast path on: 6 cleaning steps")
        for r in caplog.records
    )
    python_model = loaded.unwrap_python_model()
    predictor = type(python_model.predictor)
    assert (predictor.__module__, predictor.__name__) == (f"{housing_logged.code_package}.serving._plan", FastPlan.__name__)
    assert python_model.fast_path.enabled
    rows = _awkward(X.head(200), 3)
    np.testing.assert_allclose(loaded.predict(rows), housing_steward.predict(rows), rtol=1e-12)
    assert python_model.predictor.calls == 1 and python_model.predictor.fallbacks == 0


@pytest.mark.parametrize("how", ["env", "model_config"])
def test_fast_path_can_be_switched_off(housing_logged, housing_steward, housing_xy, monkeypatch, how):
    X, _ = housing_xy
    if how == "env":
        monkeypatch.setenv(names.ENV_FAST_PATH, "0")
        loaded = mlflow.pyfunc.load_model(housing_logged.model_uri)
        reason = "switched off (STEWARD_FAST_PATH=0)"
    else:
        loaded = mlflow.pyfunc.load_model(housing_logged.model_uri, model_config={names.MODEL_CONFIG_FAST_PATH: "0"})
        reason = "switched off (model config fast_path='0')"
    python_model = loaded.unwrap_python_model()
    assert python_model.predictor is python_model.pipeline
    assert python_model.fast_path.to_dict() == {"enabled": False, "reason": reason}
    np.testing.assert_array_equal(loaded.predict(X.head(20)), housing_steward.predict(X.head(20)))


def test_same_errors_with_and_without_the_fast_path(housing_logged, housing_xy, monkeypatch):
    X, _ = housing_xy
    bad_type = X.head(2).astype({"ocean_proximity": object})
    bad_type.loc[bad_type.index[1], "ocean_proximity"] = 7
    missing = X.head(2).drop(columns=["population"])
    messages = {}
    for setting in ("1", "0"):
        monkeypatch.setenv(names.ENV_FAST_PATH, setting)
        loaded = mlflow.pyfunc.load_model(housing_logged.model_uri)
        assert loaded.unwrap_python_model().fast_path.enabled is (setting == "1")
        for name, frame in (("type", bad_type), ("missing", missing)):
            with pytest.raises(MlflowException) as info:
                loaded.predict(frame)
            messages.setdefault(name, set()).add((info.value.get_http_status_code(), info.value.message))
    assert all(len(found) == 1 for found in messages.values()), messages


def test_classifier_capture_and_probabilities_go_through_the_plan(mlflow_store, adult_steward, tmp_path):
    from mlflow_steward.serving import read_captures

    model, X = adult_steward
    with mlflow.start_run():
        packaged = log_pipeline_model(model, input_example=X.head(5))
    capture = tmp_path / "capture.db"
    loaded = mlflow.pyfunc.load_model(packaged.model_uri, model_config={names.MODEL_CONFIG_CAPTURE_PATH: str(capture)})
    python_model = loaded.unwrap_python_model()
    assert python_model.fast_path.enabled
    rows = _awkward(X.head(50), 4)
    np.testing.assert_array_equal(loaded.predict(rows), model.predict(rows))
    np.testing.assert_array_equal(python_model.predict_proba(rows), model.predict_proba(rows))
    assert python_model.capture.flush(timeout=60)  # the writer thread computes the capture's probabilities
    captured = read_captures(capture)
    assert len(captured) == 50 and python_model.predictor.fallbacks == 0
    assert python_model.predictor.calls == 3  # predict, its capture's probabilities, predict_proba


class _Refuses(BaseEstimator):
    """Refuses large inputs in predict, the way scikit-learn refuses bad input: a ValueError."""

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        values = np.asarray(X, dtype=float)
        if (values > 2).any():
            raise ValueError(f"too large for me: {values.max():.3f}")
        return values.sum(axis=1)


def test_an_estimator_refusing_the_matrix_refuses_through_the_pipeline(housing_xy):
    X, y = housing_xy
    numeric = [c for c in X.columns if c != "ocean_proximity"]
    model = build_model_pipeline(build_cleaning_pipeline(numeric, ["ocean_proximity"]), _Refuses()).fit(X, y)
    plan = compile_plan(model)
    scaled = model[0].transform(X)
    fine = X[(scaled <= 2).all(axis=1).to_numpy()].head(3)
    np.testing.assert_array_equal(plan.predict(fine), model.predict(fine))
    assert plan.fallbacks == 0
    with pytest.raises(ValueError) as from_pipeline:
        model.predict(X)
    with pytest.raises(ValueError) as from_plan:
        plan.predict(X)
    assert str(from_plan.value) == str(from_pipeline.value) and plan.fallbacks == 1
