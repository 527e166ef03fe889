"""Scorers against scikit-learn's metrics; probability columns aligned with the global classes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics
from sklearn.linear_model import LogisticRegression

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.tuning._scoring import DEFAULT_SCORING, MSG_BAD_SCORING, SCORERS, get_scorer, predict

rng = np.random.default_rng(0)


def test_regression_scorers_match_sklearn():
    y = rng.normal(size=50)
    pred = y + rng.normal(scale=0.5, size=50)
    assert SCORERS["regression"]["rmse"].fn(y, pred, None) == pytest.approx(metrics.root_mean_squared_error(y, pred))
    assert SCORERS["regression"]["mae"].fn(y, pred, None) == pytest.approx(metrics.mean_absolute_error(y, pred))
    assert SCORERS["regression"]["r2"].fn(y, pred, None) == pytest.approx(metrics.r2_score(y, pred))


def test_binary_roc_auc_uses_the_larger_label_as_positive():
    classes = np.array(["<=50K", ">50K"])
    y = rng.choice(classes, size=80)
    p = np.clip((y == ">50K") * 0.3 + rng.uniform(size=80) * 0.7, 0, 1)
    proba = np.column_stack([1 - p, p])
    expected = metrics.roc_auc_score(y, p)  # sklearn: the positive class is the last sorted label
    assert SCORERS["classification"]["roc_auc"].fn(y, proba, classes) == pytest.approx(expected)
    assert SCORERS["classification"]["log_loss"].fn(y, proba, classes) == pytest.approx(metrics.log_loss(y, proba))


def test_multiclass_roc_auc_is_one_vs_rest_macro():
    classes = np.array([0, 1, 2])
    y = np.tile(classes, 20)
    proba = rng.dirichlet([1, 1, 1], size=60)
    expected = metrics.roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert SCORERS["classification"]["roc_auc"].fn(y, proba, classes) == pytest.approx(expected)


def test_probabilities_align_when_a_fold_lacks_a_class():
    X = rng.normal(size=(30, 2))
    y = np.array([0, 2] * 15)
    model = LogisticRegression().fit(X, y)
    proba = predict(model, X, "classification", np.array([0, 1, 2]))
    assert proba.shape == (30, 3)
    np.testing.assert_array_equal(proba[:, 1], 0.0)
    np.testing.assert_allclose(proba[:, [0, 2]], model.predict_proba(X))


def test_defaults_and_directions():
    assert DEFAULT_SCORING == {"regression": "rmse", "classification": "roc_auc"}
    assert get_scorer("regression", None).direction == "minimize"
    assert get_scorer("classification", None).direction == "maximize"
    assert get_scorer("classification", "log_loss").direction == "minimize"
    with pytest.raises(StewardInputError) as error:
        get_scorer("classification", "rmse")
    assert str(error.value) == MSG_BAD_SCORING.format(scoring="rmse", task="classification", valid="roc_auc, log_loss")
