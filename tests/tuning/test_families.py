"""Families: spaces, grids, defaults and the errors naming ``families``."""

from __future__ import annotations

import optuna
import pytest
from sklearn.base import clone

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.tuning import FAMILIES, Family, default_families, get_family
from mlflow_steward.tuning._families import (
    MSG_BAD_FAMILY_NAME,
    MSG_DUPLICATE_FAMILY,
    MSG_FAMILY_WRONG_TASK,
    MSG_NO_FAMILIES,
    MSG_UNKNOWN_FAMILY,
    MSG_UNKNOWN_TASK,
    optuna_params,
    resolve_families,
    split_params,
    suggest_params,
)

ALL = [(task, name) for task, families in FAMILIES.items() for name in families]


def test_family_names_per_task():
    assert list(FAMILIES["regression"]) == ["ridge", "random_forest", "hist_gradient_boosting", "knn", "svr"]
    assert list(FAMILIES["classification"]) == ["logistic_regression", "random_forest", "hist_gradient_boosting", "knn"]
    assert default_families("regression") == ("ridge", "random_forest", "hist_gradient_boosting", "knn")
    assert default_families("classification") == tuple(FAMILIES["classification"])


@pytest.mark.parametrize(("task", "name"), ALL)
def test_space_builds_a_valid_estimator_with_prefixed_study_params(task, name):
    family = get_family(task, name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        trial = study.ask()
        params = suggest_params(trial, family, grid=False)
        assert set(trial.params) == {f"{name}.{k}" for k in params}
        estimator = family.estimator(params, random_state=0)
        clone(estimator)  # a proper sklearn estimator: get_params round-trips
        study.tell(trial, 0.0)


@pytest.mark.parametrize(("task", "name"), ALL)
def test_grid_points_are_every_combination(task, name):
    family = get_family(task, name)
    points = family.grid_points()
    expected = 1
    for values in family.grid.values():
        expected *= len(values)
    assert len(points) == expected
    assert len({tuple(sorted(p.items())) for p in points}) == expected
    for point in points:
        family.estimator(point, random_state=0)


def test_forest_space_stays_small_for_two_cores():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    family = get_family("regression", "random_forest")
    for _ in range(50):
        params = suggest_params(study.ask(), family, grid=False)
        assert 20 <= params["n_estimators"] <= 150
        assert params["max_depth"] <= 20


def test_param_names_round_trip():
    params = {"n_neighbors": 5, "weights": "distance"}
    assert split_params(optuna_params("knn", params)) == ("knn", params)


def test_svr_standardises_the_target():
    estimator = get_family("regression", "svr").estimator({"C": 1.0, "epsilon": 0.1})
    assert type(estimator).__name__ == "TransformedTargetRegressor"
    assert estimator.regressor.C == 1.0


def test_random_state_reaches_the_estimator():
    forest = get_family("classification", "random_forest").estimator({"n_estimators": 20}, random_state=7)
    assert forest.random_state == 7


def test_unknown_family_lists_the_valid_ones():
    with pytest.raises(StewardInputError) as error:
        resolve_families("regression", ["xgboost"])
    assert str(error.value) == MSG_UNKNOWN_FAMILY.format(
        name="xgboost", task="regression", valid="ridge, random_forest, hist_gradient_boosting, knn, svr"
    )


def test_family_of_the_other_task():
    with pytest.raises(StewardInputError) as error:
        resolve_families("classification", ["svr"])
    assert str(error.value) == MSG_FAMILY_WRONG_TASK.format(
        name="svr", other="regression", task="classification",
        valid="logistic_regression, random_forest, hist_gradient_boosting, knn",
    )


def test_custom_family_of_the_other_task():
    custom = Family("my_ridge", "regression", lambda p, rs: None, lambda t: {})
    with pytest.raises(StewardInputError) as error:
        resolve_families("classification", [custom])
    assert str(error.value) == MSG_FAMILY_WRONG_TASK.format(
        name="my_ridge", other="regression", task="classification",
        valid="logistic_regression, random_forest, hist_gradient_boosting, knn",
    )


def test_duplicate_and_empty_and_bad_names():
    with pytest.raises(StewardInputError) as error:
        resolve_families("regression", ["knn", "knn"])
    assert str(error.value) == MSG_DUPLICATE_FAMILY.format(name="knn")
    with pytest.raises(StewardInputError) as error:
        resolve_families("regression", [])
    assert str(error.value) == MSG_NO_FAMILIES.format(
        task="regression", valid="ridge, random_forest, hist_gradient_boosting, knn, svr"
    )
    with pytest.raises(StewardInputError) as error:
        resolve_families("regression", [3])
    assert str(error.value) == MSG_BAD_FAMILY_NAME.format(sep=".", name=3)


def test_a_single_name_is_accepted():
    assert list(resolve_families("regression", "knn")) == ["knn"]


def test_unknown_task():
    with pytest.raises(StewardInputError) as error:
        default_families("ranking")
    assert str(error.value) == MSG_UNKNOWN_TASK.format(task="ranking")
