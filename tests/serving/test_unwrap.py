"""``serving.fitted_estimator``: the one way to the fitted estimator behind a pyfunc model."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from mlflow_steward.serving import fitted_estimator, is_pyfunc_model, log_pipeline_model


def _data():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    return frame, frame["a"] * 3 - frame["b"]


def test_the_sklearn_flavour_gives_its_raw_model(tmp_path):
    X, y = _data()
    model = LinearRegression().fit(X, y)
    mlflow.sklearn.save_model(model, str(tmp_path / "m"), serialization_format="cloudpickle")
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert is_pyfunc_model(loaded) and not is_pyfunc_model(model)
    found = fitted_estimator(loaded)
    assert isinstance(found, LinearRegression)
    np.testing.assert_allclose(found.coef_, model.coef_)


def test_our_model_gives_its_pipeline(mlflow_store):
    X, y = _data()
    model = LinearRegression().fit(X, y)
    with mlflow.start_run():
        packaged = log_pipeline_model(model, input_example=X.head(3), code_packages=("cleaning",))
    uri = packaged.model_uri
    assert {"serving", "_compat"} <= set(packaged.code_packages)  # the wrapper needs _compat.mlflow
    found = fitted_estimator(mlflow.pyfunc.load_model(uri))
    assert isinstance(found, LinearRegression)
    np.testing.assert_allclose(found.predict(X), model.predict(X))


def test_nothing_to_unwrap_is_none():
    class NoEstimator:
        def get_raw_model(self):
            raise NotImplementedError

        def unwrap_python_model(self):
            return object()

    assert fitted_estimator(NoEstimator()) is None
    assert fitted_estimator(object()) is None
