"""Which models evaluation accepts: pyfunc wrappers (best-effort probabilities), predictions made
elsewhere (also through ``mlflow.models.evaluate`` with a static dataset), multiclass."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlflow_steward.evaluation import evaluate_model, evaluate_predictions
from mlflow_steward.evaluation._predict import adapt_model
from mlflow_steward.exceptions import StewardInputError

QUICK = {"n_resamples": 50, "permutation_importance": False, "plots": False}


@pytest.fixture(scope="module")
def three_classes():
    rng = np.random.default_rng(0)
    n = 450
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "g": rng.choice(["x", "y"], n)})
    frame["y"] = np.where(frame["a"] + rng.normal(0, 0.5, n) > 0.5, "hi", np.where(frame["b"] > 0, "mid", "lo"))
    model = LogisticRegression().fit(frame[["a", "b"]], frame["y"])
    return frame, model


class _FakePyfunc(mlflow.pyfunc.PyFuncModel):
    """An mlflow PyFuncModel around a PythonModel holding a fitted pipeline (without loading one)."""

    def __init__(self, inner, with_raw: bool):  # no super().__init__: nothing is loaded
        self._inner = inner
        self._with_raw = with_raw

    def predict(self, frame):
        return pd.DataFrame({"prediction": self._inner.predict(frame)})

    def get_raw_model(self):
        raise NotImplementedError

    def unwrap_python_model(self):
        class Wrapper:
            pipeline = self._inner if self._with_raw else None

        return Wrapper()


def test_pyfunc_probabilities_are_reached_best_effort(three_classes):
    frame, model = three_classes
    adapter = adapt_model(_FakePyfunc(model, with_raw=True))
    assert adapter.predict_proba is not None and adapter.classes == ("hi", "lo", "mid")
    assert adapt_model(_FakePyfunc(model, with_raw=False)).predict_proba is None
    report = evaluate_model(_FakePyfunc(model, with_raw=False), frame, target="y", task="classification",
                            feature_columns=["a", "b"], config=QUICK)
    assert report.metric_names == ("accuracy", "f1") and len(report.notes) == 1


def test_multiclass_metrics_and_plots(three_classes):
    frame, model = three_classes
    report = evaluate_model(model, frame, target="y", task="classification", feature_columns=["a", "b"],
                            config={**QUICK, "slice_columns": ["g"], "plots": True})
    assert report.metric_names == ("accuracy", "f1", "roc_auc", "log_loss", "brier")
    proba = model.predict_proba(frame[["a", "b"]])
    from sklearn import metrics as skm

    assert report.overall["log_loss"].estimate == pytest.approx(skm.log_loss(frame["y"], proba, labels=model.classes_))
    assert report.overall["roc_auc"].estimate == pytest.approx(
        skm.roc_auc_score(frame["y"], proba, multi_class="ovr", labels=model.classes_)
    )
    figures = report.figures()
    assert "evaluation/calibration.png" not in figures  # binary only
    assert "evaluation/confusion_matrix.png" in figures


def test_evaluate_predictions_matches_evaluate_model(three_classes):
    frame, model = three_classes
    features = frame[["a", "b"]]
    direct = evaluate_model(model, frame, target="y", task="classification", feature_columns=["a", "b"], config=QUICK)
    offline = evaluate_predictions(frame, model.predict(features), target="y", task="classification",
                                   proba=model.predict_proba(features), classes=model.classes_,
                                   feature_columns=["a", "b"], config=QUICK)
    assert offline.metrics() == pytest.approx(direct.metrics())
    with pytest.raises(StewardInputError) as err:
        evaluate_predictions(frame, model.predict(features)[:10], target="y", task="classification", config=QUICK)
    assert str(err.value) == "predictions have 10 values for 450 rows"


def test_mlflow_evaluate_with_static_predictions(mlflow_store):
    rng = np.random.default_rng(5)
    n = 300
    data = pd.DataFrame({"x": rng.normal(size=n), "city": rng.choice(["a", "b"], n)})
    data["y"] = 3 * data["x"] + rng.normal(size=n)
    data["pred"] = 3 * data["x"]
    with mlflow.start_run():
        result = mlflow.models.evaluate(
            data=data, targets="y", predictions="pred", model_type="regressor", evaluators="steward",
            evaluator_config={"n_resamples": 50, "plots": False, "metric_prefix": "ignored_"},
        )
    assert result.metrics["rmse"] == pytest.approx(np.sqrt(np.mean((data["y"] - data["pred"]) ** 2)))
    assert "slice/city/a/rmse_ci_low" in result.metrics
