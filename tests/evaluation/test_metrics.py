"""Metric inputs, per-row losses and the slice test, checked against sklearn/scipy or by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mlflow_steward.evaluation import EvaluationConfig
from mlflow_steward.evaluation._metrics import (
    classification_predictions,
    regression_predictions,
    row_losses,
    task_metrics,
)
from mlflow_steward.evaluation._slice_table import slice_table, worse_than_rest_p_value
from mlflow_steward.exceptions import StewardInputError


def test_regression_losses_average_to_the_metrics():
    rng = np.random.default_rng(0)
    y = rng.uniform(1, 10, 200)
    p = y + rng.normal(0, 1, 200)
    preds = regression_predictions(y, p, target="y")
    assert np.sqrt(row_losses("rmse", preds).mean()) == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert row_losses("mae", preds).mean() == pytest.approx(skm.mean_absolute_error(y, p))
    assert row_losses("mape", preds).mean() == pytest.approx(skm.mean_absolute_percentage_error(y, p))
    assert row_losses("r2", preds) is None


def test_classification_losses_average_to_the_metrics():
    rng = np.random.default_rng(1)
    labels = np.array(["<=50K", ">50K"], dtype=object)
    y = labels[rng.integers(0, 2, 300)]
    proba = rng.uniform(0.01, 0.99, 300)
    pred = np.where(proba > 0.5, ">50K", "<=50K")
    preds = classification_predictions(
        y, pred, proba=np.column_stack([1 - proba, proba]), classes=("<=50K", ">50K")
    )
    assert preds.classes == ("<=50K", ">50K")
    truth = (y == ">50K").astype(int)
    np.testing.assert_array_equal(preds.y_true, truth)
    assert row_losses("log_loss", preds).mean() == pytest.approx(skm.log_loss(truth, proba))
    assert row_losses("brier", preds).mean() == pytest.approx(skm.brier_score_loss(truth, proba))
    assert 1 - row_losses("accuracy", preds).mean() == pytest.approx(skm.accuracy_score(y, pred))


def test_pos_label_reorders_binary_classes_and_probabilities():
    y = np.array(["yes", "no", "yes"], dtype=object)
    proba = np.array([[0.2, 0.8], [0.9, 0.1], [0.4, 0.6]])  # columns: no, yes
    preds = classification_predictions(y, np.array(["yes", "no", "yes"]), proba=proba, classes=("no", "yes"), pos_label="no")
    assert preds.classes == ("yes", "no")
    np.testing.assert_array_equal(preds.y_true, [0, 1, 0])
    np.testing.assert_allclose(preds.proba, [0.2, 0.9, 0.4])  # P(no)
    with pytest.raises(StewardInputError) as err:
        classification_predictions(y, y, proba=proba, classes=("no", "yes"), pos_label="maybe")
    assert str(err.value) == "pos_label 'maybe' is not one of the classes ['no', 'yes']"


def test_proba_shape_is_checked():
    y = np.array(["a", "b", "a"], dtype=object)
    with pytest.raises(StewardInputError) as err:
        classification_predictions(y, y, proba=np.ones((3, 3)) / 3, classes=("a", "b"))
    assert str(err.value) == "predict_proba returned shape (3, 3), expected (3, 2) for classes ['a', 'b']"


def test_metric_task_mismatch_and_missing_probabilities():
    with pytest.raises(StewardInputError) as err:
        task_metrics("regression", EvaluationConfig(metrics=("accuracy",)), has_proba=False)
    assert str(err.value) == "metric 'accuracy' is not a regression metric; regression metrics: rmse, mae, r2, mape"
    metrics, notes = task_metrics("classification", EvaluationConfig(), has_proba=False)
    assert metrics == ["accuracy", "f1"]
    assert notes == ["model gives no class probabilities; probability metrics (roc_auc, log_loss, brier) skipped"]


def test_slice_test_is_calibrated_under_the_null():
    """Same loss distribution inside and outside: P(p < 0.05) is about 5% (simulation)."""
    rng = np.random.default_rng(2)
    hits = 0
    trials = 1000
    for _ in range(trials):
        losses = rng.exponential(1.0, 120)  # skewed, like squared errors
        mask = np.zeros(120, dtype=bool)
        mask[:40] = True
        hits += worse_than_rest_p_value(losses, mask) < 0.05
    assert 0.03 <= hits / trials <= 0.075


def test_slice_test_detects_a_worse_slice_and_not_a_better_one():
    rng = np.random.default_rng(3)
    losses = rng.exponential(1.0, 300)
    mask = np.zeros(300, dtype=bool)
    mask[:60] = True
    assert worse_than_rest_p_value(np.where(mask, losses * 2.5, losses), mask) < 0.001
    assert worse_than_rest_p_value(np.where(mask, losses * 0.4, losses), mask) > 0.9
    assert np.isnan(worse_than_rest_p_value(losses, np.ones(300, dtype=bool)))  # no rest to compare


def test_slice_table_flags_a_planted_bad_slice_with_holm():
    rng = np.random.default_rng(4)
    n = 600
    y = rng.normal(0, 1, n)
    noise = rng.normal(0, 1, n)
    group = np.repeat(np.arange(6), 100)
    noise[group == 2] *= 3  # slice 2 is much worse
    preds = regression_predictions(y, y + noise, target="y")
    masks = {("g", str(g)): group == g for g in range(6)}
    config = EvaluationConfig(metrics=("rmse",), n_resamples=100, method="percentile")
    table = slice_table(preds, masks, ["rmse"], config)
    assert table.loc[table["flagged"], "slice_value"].tolist() == ["2"]
    # Holm-adjusted p-values are never below the raw ones
    assert (table["p_adjusted"] >= table["p_value"] - 1e-12).all()
