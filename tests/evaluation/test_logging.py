"""EvaluationReport.log_to_mlflow and the StewardEvaluator plugin (in process)."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest

from mlflow_steward import names
from mlflow_steward.evaluation import _report

TARGET = "median_house_value"
EXPECTED_ARTIFACTS = {
    names.ARTIFACT_SLICES_CSV,
    names.ARTIFACT_SLICES_JSON,
    names.ARTIFACT_WORST_ROWS_CSV,
    names.ARTIFACT_FEATURE_IMPORTANCE_CSV,
    names.ARTIFACT_PLOT_SLICE_FOREST,
    names.ARTIFACT_PLOT_PREDICTED_VS_ACTUAL,
    names.ARTIFACT_PLOT_RESIDUALS,
    names.ARTIFACT_PLOT_FEATURE_IMPORTANCE,
}


def _artifacts(run_id: str) -> set[str]:
    return {f.path for f in mlflow.MlflowClient().list_artifacts(run_id, names.ARTIFACT_EVALUATION_DIR)}


def test_log_to_mlflow_logs_metrics_in_batches_and_artifacts(mlflow_store, housing_report, monkeypatch):
    calls = []
    original = mlflow.MlflowClient.log_batch

    def counting(self, run_id, metrics=(), **kwargs):
        calls.append(len(metrics))
        return original(self, run_id, metrics=metrics, **kwargs)

    monkeypatch.setattr(mlflow.MlflowClient, "log_batch", counting)
    monkeypatch.setattr(_report, "METRIC_BATCH", 25)
    with mlflow.start_run() as run:
        logged = housing_report.log_to_mlflow()
    expected = housing_report.metrics()
    assert calls and max(calls) <= 25 and sum(calls) == len(expected)
    data = mlflow.get_run(run.info.run_id).data
    assert data.metrics == pytest.approx(expected)
    assert set(logged) == EXPECTED_ARTIFACTS == _artifacts(run.info.run_id)
    local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path=names.ARTIFACT_SLICES_CSV)
    slices = pd.read_csv(local)
    assert ((slices["slice_value"] == "ISLAND") & (slices["status"] == "too_small")).sum() == 4


def test_log_to_mlflow_needs_a_run(mlflow_store, housing_report):
    from mlflow_steward.exceptions import StewardInputError

    with pytest.raises(StewardInputError) as err:
        housing_report.log_to_mlflow()
    assert str(err.value) == "log_to_mlflow: no run_id given and no active MLflow run; pass run_id= or start a run"


def test_can_evaluate():
    from mlflow_steward.evaluation.evaluator import StewardEvaluator

    assert StewardEvaluator.can_evaluate(model_type="regressor", evaluator_config={})
    assert StewardEvaluator.can_evaluate(model_type="classifier", evaluator_config={})
    assert not StewardEvaluator.can_evaluate(model_type="text", evaluator_config={})


def test_mlflow_evaluate_with_a_plain_sklearn_model(mlflow_store, adult_split):
    """A model logged with mlflow.sklearn alone (nothing of ours inside), string columns (pandas 3)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    train, test = adult_split
    features = ["age", "sex", "hours-per-week"]
    model = make_pipeline(
        ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["sex"])], remainder="passthrough"),
        LogisticRegression(max_iter=300),
    ).fit(train[features], train["salary"])
    data = test[features + ["salary"]].iloc[:600]
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=train[features].iloc[:3], pip_requirements=["scikit-learn"]
        )
        result = mlflow.models.evaluate(
            info.model_uri,
            data,
            targets="salary",
            model_type="classifier",
            evaluators=["steward"],
            evaluator_config={"steward": {"n_resamples": 50, "slice_columns": ["sex"], "importance_repeats": 1}},
        )
    # probabilities were reached through the pyfunc wrapper: probability metrics are there
    assert {"accuracy", "roc_auc", "roc_auc_ci_low", "log_loss", "brier_ci_high"} <= set(result.metrics)
    assert "slice/sex/Female/accuracy" in result.metrics
    assert names.ARTIFACT_SLICES_CSV in result.artifacts
    assert result.artifacts[names.ARTIFACT_SLICES_CSV].content["slice_column"].eq("sex").all()
    assert mlflow.get_run(run.info.run_id).data.metrics["accuracy"] == pytest.approx(result.metrics["accuracy"])
    assert names.ARTIFACT_PLOT_CALIBRATION in _artifacts(run.info.run_id)
