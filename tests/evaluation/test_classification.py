"""Classification on adult: every metric with its interval, probabilities, plots, no-proba path."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mlflow_steward import names
from mlflow_steward.evaluation import evaluate_model

TARGET = "salary"


@pytest.fixture(scope="module")
def adult_report(adult_split, adult_model):
    _, test = adult_split
    config = {"n_resamples": 200, "slice_columns": ["sex", "race", "age"], "n_bins": 3, "importance_repeats": 2}
    return evaluate_model(adult_model, test, target=TARGET, task="classification", config=config)


def test_classification_metrics_with_intervals(adult_report, adult_split, adult_model):
    _, test = adult_split
    assert adult_report.metric_names == ("accuracy", "f1", "roc_auc", "log_loss", "brier")
    features = test.drop(columns=TARGET)
    truth = (test[TARGET] == ">50K").to_numpy()  # sorted classes: the positive class is '>50K'
    proba = adult_model.predict_proba(features)[:, list(adult_model.classes_).index(">50K")]
    expected = {
        "accuracy": skm.accuracy_score(test[TARGET], adult_model.predict(features)),
        "f1": skm.f1_score(test[TARGET], adult_model.predict(features), pos_label=">50K"),
        "roc_auc": skm.roc_auc_score(truth, proba),
        "log_loss": skm.log_loss(truth, proba),
        "brier": skm.brier_score_loss(truth, proba),
    }
    metrics = adult_report.metrics()
    for name, value in expected.items():
        assert metrics[name] == pytest.approx(value, rel=1e-9)
        assert metrics[names.ci_low(name)] <= value <= metrics[names.ci_high(name)]
    assert "rmse_t_ci_low" not in metrics


def test_classification_slices_and_error_analysis(adult_report):
    table = adult_report.by_slice
    assert set(table["slice_column"]) == {"sex", "race", "age"}
    small = table[table["status"] == "too_small"]
    assert (small["size"] < 30).all() and small["ci_low"].isna().all()
    assert table.loc[table["metric"].isin(["f1", "roc_auc"]), "p_value"].isna().all()  # not per-row means
    worst = adult_report.worst_rows
    assert {"prediction", "proba_true", "log_loss"} <= set(worst.columns)
    assert (np.diff(worst["log_loss"].to_numpy()) <= 0).all()
    assert (adult_report.feature_importance["metric"] == "log_loss").all()


def test_classification_figures(adult_report):
    import matplotlib.pyplot as plt

    figures = adult_report.figures()
    assert set(figures) == {
        names.ARTIFACT_PLOT_SLICE_FOREST,
        names.ARTIFACT_PLOT_CALIBRATION,
        names.ARTIFACT_PLOT_CONFUSION_MATRIX,
        names.ARTIFACT_PLOT_FEATURE_IMPORTANCE,
    }
    assert plt.get_fignums() == []  # standalone figures: pyplot's global state untouched


def test_predictions_only_skips_probability_metrics(adult_split, adult_model):
    _, test = adult_split
    config = {"n_resamples": 50, "slice_columns": ["sex"], "permutation_importance": False, "plots": False}
    report = evaluate_model(lambda frame: adult_model.predict(frame), test, target=TARGET, task="classifier", config=config)
    assert report.metric_names == ("accuracy", "f1")
    assert report.notes == ("model gives no class probabilities; probability metrics (roc_auc, log_loss, brier) skipped",)
    assert "error" in report.worst_rows.columns
