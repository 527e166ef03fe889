"""Every check on :func:`tune`'s inputs, in one place; messages name the parameter."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from mlflow_steward.exceptions import StewardInputError

STRATEGIES = ("optuna", "grid")

MSG_BAD_STRATEGY = "strategy must be 'optuna' or 'grid', got {strategy!r}"
MSG_BAD_N_TRIALS = "n_trials must be an integer >= 1, got {n_trials!r}"
MSG_BAD_CV = "cv must be an integer >= 2 (the number of folds), got {cv!r}"
MSG_BAD_N_JOBS = "n_jobs must be a non-zero integer (-1: one thread per core), got {n_jobs!r}"
MSG_BAD_RANDOM_STATE = (
    "random_state must be an integer (it fixes the folds, so resumed trials and the out-of-fold "
    "predictions use the same ones), got {random_state!r}"
)
MSG_BAD_TIMEOUT = "timeout must be a positive number of seconds or None, got {timeout!r}"
MSG_X_NOT_FRAME = "X must be a pandas DataFrame (the raw feature frame make_pipeline cleans), got {type}"
MSG_EMPTY_X = "X is empty ({rows} rows, {columns} columns): tuning needs feature rows to cross-validate"
MSG_Y_LENGTH = "y has {n_y} values but X has {n_x} rows: give one target value per row of X"
MSG_Y_NOT_1D = "y must be one-dimensional (one target value per row), got shape {shape}"
MSG_Y_NAN = "y contains {count} missing value(s) (NaN); drop those rows or impute the target before tuning"
MSG_Y_NOT_NUMERIC = "y must be numeric for task 'regression', got dtype {dtype}"
MSG_ONE_CLASS = "y has a single class {label!r}; task 'classification' needs at least two"
MSG_CV_TOO_LARGE = "cv={cv} folds need at least {cv} rows in X (or members of every class in y), got {have}"
MSG_NOT_CALLABLE = "make_pipeline must be a callable estimator -> sklearn Pipeline, got {type}"


def _plain(value: Any) -> Any:
    """numpy scalar -> Python scalar, so messages read ``'a'``, not ``np.str_('a')``."""
    return value.item() if isinstance(value, np.generic) else value


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_options(
    *, strategy: Any, n_trials: Any, cv: Any, n_jobs: Any, timeout: Any, make_pipeline: Any, random_state: Any
) -> None:
    if strategy not in STRATEGIES:
        raise StewardInputError(MSG_BAD_STRATEGY.format(strategy=strategy))
    if n_trials is not None and (not _is_int(n_trials) or n_trials < 1):
        raise StewardInputError(MSG_BAD_N_TRIALS.format(n_trials=n_trials))
    if not _is_int(cv) or cv < 2:
        raise StewardInputError(MSG_BAD_CV.format(cv=cv))
    if not _is_int(n_jobs) or n_jobs == 0:
        raise StewardInputError(MSG_BAD_N_JOBS.format(n_jobs=n_jobs))
    if not _is_int(random_state):
        raise StewardInputError(MSG_BAD_RANDOM_STATE.format(random_state=random_state))
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or timeout <= 0):
        raise StewardInputError(MSG_BAD_TIMEOUT.format(timeout=timeout))
    if not callable(make_pipeline):
        raise StewardInputError(MSG_NOT_CALLABLE.format(type=type(make_pipeline).__name__))


def check_data(X: Any, y: Any, *, task: str, cv: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate ``X``/``y``; return ``y`` as an array and the sorted classes (classification)."""
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        raise StewardInputError(MSG_X_NOT_FRAME.format(type=type(X).__name__))
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise StewardInputError(MSG_EMPTY_X.format(rows=X.shape[0], columns=X.shape[1]))
    target = y.to_numpy() if isinstance(y, (pd.Series, pd.Index)) else np.asarray(y)
    if target.ndim != 1:
        raise StewardInputError(MSG_Y_NOT_1D.format(shape=target.shape))
    if len(target) != len(X):
        raise StewardInputError(MSG_Y_LENGTH.format(n_y=len(target), n_x=len(X)))
    missing = int(pd.isna(target).sum())
    if missing:
        raise StewardInputError(MSG_Y_NAN.format(count=missing))
    if task == "regression":
        if not np.issubdtype(target.dtype, np.number) or np.issubdtype(target.dtype, np.bool_):
            raise StewardInputError(MSG_Y_NOT_NUMERIC.format(dtype=target.dtype))
        if len(target) < cv:
            raise StewardInputError(MSG_CV_TOO_LARGE.format(cv=cv, have=f"{len(target)} rows"))
        return target.astype(float), None
    if target.dtype == object or isinstance(getattr(y, "dtype", None), pd.StringDtype):
        target = target.astype(str).astype(object)
    classes, counts = np.unique(target, return_counts=True)
    if len(classes) < 2:
        raise StewardInputError(MSG_ONE_CLASS.format(label=_plain(classes[0])))
    if counts.min() < cv:
        raise StewardInputError(
            MSG_CV_TOO_LARGE.format(cv=cv, have=f"{counts.min()} rows of class {_plain(classes[counts.argmin()])!r}")
        )
    return target, classes
