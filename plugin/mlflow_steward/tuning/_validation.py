"""Every check on :func:`tune`'s inputs, in one place; messages name the parameter."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlflow_steward.exceptions import StewardInputError

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


def check_options(
    *, strategy: Any, n_trials: Any, cv: Any, n_jobs: Any, timeout: Any, make_pipeline: Any, random_state: Any
) -> None:
    """The search settings (:class:`TuneConfig`) and ``make_pipeline``."""
    from ._config import TuneConfig

    TuneConfig(strategy=strategy, n_trials=n_trials, cv=cv, random_state=random_state, n_jobs=n_jobs, timeout=timeout)
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


def check_tune_inputs(X: Any, y: Any, *, task: str, families: Any = None, cv: int | None = None) -> None:
    """What :func:`tune` checks of its data and families, without opening a study or a run.

    Lets a job refuse bad input (a family of another task, more folds than rows...) before it
    starts any run. ``cv``: :class:`TuneConfig`'s default when None.
    """
    from ._config import TuneConfig
    from ._families import resolve_families

    resolve_families(task, families)
    check_data(X, y, task=task, cv=TuneConfig.cv if cv is None else cv)
