"""Every bad input of ``tune`` raises StewardInputError with a message naming the parameter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.tuning import tune
from mlflow_steward.tuning import _validation as v
from mlflow_steward.tuning._families import MSG_FAMILY_WRONG_TASK, MSG_UNKNOWN_FAMILY, MSG_UNKNOWN_TASK
from mlflow_steward.tuning._scoring import MSG_BAD_SCORING
from mlflow_steward.tuning._study import MSG_BAD_STORAGE
from mlflow_steward.tuning._tune import MSG_UNKNOWN_PARENT_RUN

REG_VALID = "ridge, random_forest, hist_gradient_boosting, knn, svr"


def _raise(X, y, expected, **kwargs):
    options = {"task": "regression", "make_pipeline": lambda est: est, "n_trials": 1, "cv": 2, **kwargs}
    with pytest.raises(StewardInputError) as error:
        tune(X, y, **options)
    assert str(error.value) == expected


@pytest.fixture
def xy():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"]})
    return X, pd.Series([1.0, 2.0, 3.0, 4.0])


def test_unknown_family(xy, mlflow_store):
    _raise(*xy, MSG_UNKNOWN_FAMILY.format(name="xgboost", task="regression", valid=REG_VALID), families=["xgboost"])


def test_family_not_valid_for_the_task(xy, mlflow_store):
    X, _ = xy
    _raise(X, ["a", "b", "a", "b"], MSG_FAMILY_WRONG_TASK.format(
        name="ridge", other="regression", task="classification",
        valid="logistic_regression, random_forest, hist_gradient_boosting, knn"), families=["ridge"],
        task="classification")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("strategy", "random", "strategy must be 'optuna' or 'grid', got 'random'"),
        ("n_trials", 0, "n_trials must be an integer >= 1 or null, got 0"),
        ("n_trials", 2.5, "n_trials must be an integer >= 1 or null, got 2.5"),
        ("n_trials", True, "n_trials must be an integer >= 1 or null, got True"),
        ("cv", 1, "cv (the number of folds) must be an integer >= 2, got 1"),
        ("cv", "5", "cv (the number of folds) must be an integer >= 2, got '5'"),
        ("n_jobs", 0, "n_jobs must be a non-zero integer (-1: one thread per core), got 0"),
        ("timeout", -1, "timeout (seconds) must be a number > 0 or null, got -1"),
        ("random_state", None, "random_state (it fixes the folds) must be an integer, got None"),
        ("make_pipeline", "cleaning", v.MSG_NOT_CALLABLE.format(type="str")),
        ("task", "ranking", MSG_UNKNOWN_TASK.format(task="ranking")),
        ("scoring", "roc_auc", MSG_BAD_SCORING.format(scoring="roc_auc", task="regression", valid="rmse, mae, r2")),
        ("storage", "optuna.db", MSG_BAD_STORAGE.format(storage="optuna.db")),
    ],
)
def test_bad_option(xy, mlflow_store, option, value, message):
    _raise(*xy, message, **{option: value})


def test_a_misspelt_strategy_gets_the_close_one_suggested(xy, mlflow_store):
    _raise(*xy, "strategy must be 'optuna' or 'grid', got 'optna'; did you mean 'optuna'?", strategy="optna")


def test_tune_takes_its_defaults_from_tune_config():
    import inspect

    from mlflow_steward.tuning import TuneConfig

    defaults = {k: p.default for k, p in inspect.signature(tune).parameters.items()}
    config = TuneConfig()
    for name in ("strategy", "n_trials", "cv", "random_state", "n_jobs", "timeout"):
        assert defaults[name] == getattr(config, name), name


def test_empty_x(mlflow_store):
    _raise(pd.DataFrame({"a": pd.Series([], dtype=float)}), pd.Series([], dtype=float),
           v.MSG_EMPTY_X.format(rows=0, columns=1))


def test_x_not_a_frame(xy, mlflow_store):
    _raise(np.zeros((4, 2)), xy[1], v.MSG_X_NOT_FRAME.format(type="ndarray"))


def test_y_with_nan(xy, mlflow_store):
    _raise(xy[0], pd.Series([1.0, np.nan, 3.0, np.nan]), v.MSG_Y_NAN.format(count=2))


def test_string_y_with_missing_labels(xy, mlflow_store):
    y = pd.Series(["a", None, "b", "a"], dtype="string")
    _raise(xy[0], y, v.MSG_Y_NAN.format(count=1), task="classification")


def test_y_length(xy, mlflow_store):
    _raise(xy[0], [1.0, 2.0], v.MSG_Y_LENGTH.format(n_y=2, n_x=4))


def test_y_two_dimensional(xy, mlflow_store):
    _raise(xy[0], np.zeros((4, 2)), v.MSG_Y_NOT_1D.format(shape=(4, 2)))


def test_regression_y_not_numeric(xy, mlflow_store):
    _raise(xy[0], ["a", "b", "c", "d"], v.MSG_Y_NOT_NUMERIC.format(dtype="<U1"))


def test_single_class(xy, mlflow_store):
    _raise(xy[0], ["a"] * 4, v.MSG_ONE_CLASS.format(label="a"), task="classification")


def test_more_folds_than_rows(xy, mlflow_store):
    _raise(*xy, v.MSG_CV_TOO_LARGE.format(cv=5, have="4 rows"), cv=5)


def test_more_folds_than_class_members(xy, mlflow_store):
    _raise(xy[0], ["a", "a", "a", "b"], v.MSG_CV_TOO_LARGE.format(cv=2, have="1 rows of class 'b'"),
           task="classification")


def test_unknown_parent_run(xy, mlflow_store):
    import mlflow

    _raise(*xy, MSG_UNKNOWN_PARENT_RUN.format(run_id="nope", uri=mlflow.get_tracking_uri()), parent_run_id="nope")


def test_bad_input_leaves_no_trace(xy, mlflow_store, tmp_path):
    with pytest.raises(StewardInputError):
        tune(*xy, task="regression", make_pipeline=lambda e: e, strategy="bogus")
    assert not (tmp_path / ".steward").exists()
