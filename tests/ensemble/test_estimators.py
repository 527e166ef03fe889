"""The estimators: no leakage into the combiners, probabilities averaged, members fitted once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeCV
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier

from mlflow_steward.ensemble import EnsembleClassifier, EnsembleRegressor
from mlflow_steward.ensemble._estimators import (
    MSG_BAD_METHOD,
    MSG_DUPLICATE_NAME,
    MSG_NO_ESTIMATORS,
    MSG_OOF_SHAPE,
)


@pytest.fixture(scope="module")
def noisy_linear():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X @ np.array([1.0, 2.0, -1.0]) + rng.normal(scale=2.0, size=300)
    return X, y


MEMBERS = [("memorizer", KNeighborsRegressor(n_neighbors=1)), ("ridge", Ridge(alpha=1.0))]


def test_in_sample_predictions_would_favour_the_memorizer(noisy_linear):
    """The control: a 1-NN reproduces the training targets, so a meta-learner fitted on in-sample
    predictions gives it all the weight."""
    X, y = noisy_linear
    in_sample = np.column_stack([clone(est).fit(X, y).predict(X) for _, est in MEMBERS])
    coef = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(in_sample, y).coef_
    assert coef[0] > 0.99


@pytest.mark.parametrize("method", ["stacking", "weighted", "greedy"])
def test_combiners_see_only_out_of_fold_predictions(noisy_linear, method):
    X, y = noisy_linear
    model = EnsembleRegressor(MEMBERS, method=method, cv=5).fit(X, y)
    weights = model.member_weights()
    assert weights["memorizer"] < 0.1
    assert weights["ridge"] > 0.9


def test_stacking_meta_learner_is_fitted_on_the_given_oof(noisy_linear):
    X, y = noisy_linear
    oof = np.stack([y + 100.0, np.zeros_like(y)])  # deliberately odd: the meta-learner must use these
    model = EnsembleRegressor(MEMBERS, method="stacking").fit(X, y, oof_predictions=oof)
    expected = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(oof.T, y)
    np.testing.assert_allclose(model.final_estimator_.coef_, expected.coef_)


def test_mean_of_regressors(noisy_linear):
    X, y = noisy_linear
    model = EnsembleRegressor(MEMBERS).fit(X, y)
    expected = np.mean([clone(est).fit(X, y).predict(X) for _, est in MEMBERS], axis=0)
    np.testing.assert_allclose(model.predict(X), expected)


def test_frozen_members_are_not_refitted_and_stored_unwrapped(noisy_linear):
    X, y = noisy_linear
    ridge = Ridge().fit(X[:50], y[:50])  # fitted on other rows on purpose: a refit would change it
    model = EnsembleRegressor([("a", FrozenEstimator(ridge)), ("b", LinearRegression())]).fit(X, y)
    assert model.estimators_[0] is ridge
    np.testing.assert_allclose(model.member_predictions(X)[0], ridge.predict(X))


def test_zero_weight_members_are_not_fitted(noisy_linear):
    X, y = noisy_linear
    oof = np.stack([y, y + 50.0])
    model = EnsembleRegressor(MEMBERS, method="greedy", n_iterations=3).fit(X, y, oof_predictions=oof)
    assert model.member_weights() == {"memorizer": 1.0, "ridge": 0.0}
    assert model.estimators_[1] is None
    assert model.selection_.picks == (0, 0, 0)


def test_cross_fitted_predictions_never_use_the_rows_own_fold(noisy_linear):
    X, y = noisy_linear
    rng = np.random.default_rng(3)
    oof = np.stack([y + rng.normal(size=len(y)), y + rng.normal(scale=3.0, size=len(y))])
    folds = np.arange(len(y)) % 3
    model = EnsembleRegressor(MEMBERS, method="weighted").fit(X, y, oof_predictions=oof)
    honest = model.cross_fit_predictions(oof, y, folds)
    from mlflow_steward.ensemble import simplex_weights

    for fold in range(3):
        w = simplex_weights(oof[:, folds != fold], y[folds != fold])
        np.testing.assert_allclose(honest[folds == fold], w @ oof[:, folds == fold])
    mean = EnsembleRegressor(MEMBERS).fit(X, y)
    np.testing.assert_allclose(mean.cross_fit_predictions(oof, y, folds), oof.mean(axis=0))


@pytest.fixture(scope="module")
def adult_sample(adult_path):
    frame = pd.read_csv(adult_path, na_values=["?"]).sample(400, random_state=0).reset_index(drop=True)
    y = frame.pop("salary")
    return frame, y


def _pipeline(estimator):
    from mlflow_steward.cleaning import CleaningConfig, build_cleaning_pipeline, build_model_pipeline

    numeric = ["age", "hours-per-week"]
    categorical = ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex"]
    return build_model_pipeline(build_cleaning_pipeline(numeric, categorical, CleaningConfig()), estimator)


CLASSIFIERS = [
    ("logistic", LogisticRegression(max_iter=1000)),
    ("knn", KNeighborsClassifier(n_neighbors=7)),
    ("tree", DecisionTreeClassifier(max_depth=4, random_state=0)),
]


def test_classification_averages_probabilities(adult_sample):
    X, y = adult_sample
    members = [(name, _pipeline(est)) for name, est in CLASSIFIERS]
    model = EnsembleClassifier(members, method="mean").fit(X, y)
    probas = [clone(p).fit(X, y).predict_proba(X) for _, p in members]
    expected = np.mean(probas, axis=0)
    np.testing.assert_allclose(model.predict_proba(X), expected)
    np.testing.assert_array_equal(model.classes_, np.unique(np.asarray(y)))
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(expected, axis=1)])
    # soft voting, not a vote of labels: where the labels' majority and the mean probability
    # disagree, the probability wins
    votes = np.stack([np.argmax(p, axis=1) for p in probas])
    majority = (votes.sum(axis=0) >= 2).astype(int)
    disagree = majority != np.argmax(expected, axis=1)
    assert disagree.any()
    np.testing.assert_array_equal(model.predict(X)[disagree], model.classes_[np.argmax(expected[disagree], axis=1)])


def _plain_pipeline(estimator):
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    encode = make_column_transformer((SimpleImputer(), ["age", "hours-per-week"]))
    return make_pipeline(encode, estimator)


@pytest.mark.parametrize("method", ["weighted", "stacking", "greedy"])
def test_classifier_methods_give_probabilities(adult_sample, method):
    X, y = adult_sample
    members = [(name, _plain_pipeline(est)) for name, est in CLASSIFIERS[:2]]
    model = EnsembleClassifier(members, method=method, cv=3).fit(X, y)
    proba = model.predict_proba(X.head(20))
    assert proba.shape == (20, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X.head(20))) <= set(model.classes_)


def test_bad_parameters_name_the_class(noisy_linear):
    X, y = noisy_linear
    with pytest.raises(ValueError) as info:
        EnsembleRegressor(MEMBERS, method="vote").fit(X, y)
    assert str(info.value) == MSG_BAD_METHOD.format(
        cls="EnsembleRegressor", valid="mean, weighted, stacking, greedy", method="vote"
    )
    with pytest.raises(ValueError) as info:
        EnsembleRegressor([]).fit(X, y)
    assert str(info.value) == MSG_NO_ESTIMATORS.format(cls="EnsembleRegressor", value=[])
    with pytest.raises(ValueError) as info:
        EnsembleRegressor([("a", Ridge()), ("a", Ridge())]).fit(X, y)
    assert str(info.value) == MSG_DUPLICATE_NAME.format(cls="EnsembleRegressor", name="a")
    with pytest.raises(ValueError) as info:
        EnsembleRegressor(MEMBERS, method="weighted").fit(X, y, oof_predictions=np.zeros((2, 10)))
    assert str(info.value) == MSG_OOF_SHAPE.format(
        cls="EnsembleRegressor", expected=(2, 300), classes="", shape=(2, 10)
    )


def test_sklearn_params_protocol():
    model = EnsembleRegressor(MEMBERS, method="greedy", n_iterations=7)
    assert clone(model).get_params(deep=False)["n_iterations"] == 7
    assert clone(model).set_params(method="mean").method == "mean"
