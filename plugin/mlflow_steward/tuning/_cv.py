"""The cross-validation folds, reproducible from three numbers.

Regression: ``KFold(n_splits=cv, shuffle=True, random_state=random_state)``; classification:
``StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)``, both split over the rows
of ``X`` as passed to :func:`tune` (positions ``0..n-1``). Every trial, every family and the
out-of-fold predictions use these same folds, so anyone (the ensemble step, a test) rebuilds them
with :func:`make_cv` and gets the ``fold`` column of ``tuning/oof_predictions.parquet``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._families import CLASSIFICATION, check_task


def make_cv(task: str, cv: int = 5, random_state: int | None = 42) -> Any:
    """The splitter :func:`tune` uses for ``task`` (unfitted scikit-learn CV object)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if check_task(task) == CLASSIFICATION:
        return StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    return KFold(n_splits=cv, shuffle=True, random_state=random_state)


def fold_splits(task: str, y: np.ndarray, cv: int, random_state: int | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(train_positions, valid_positions), ...]`` for the rows of ``y``."""
    splitter = make_cv(task, cv, random_state)
    return [(train, valid) for train, valid in splitter.split(np.zeros((len(y), 1)), y)]


def fold_of_row(splits: list[tuple[np.ndarray, np.ndarray]], n_rows: int) -> np.ndarray:
    """The fold (0-based) in which each row is held out."""
    folds = np.full(n_rows, -1, dtype=np.int64)
    for k, (_, valid) in enumerate(splits):
        folds[valid] = k
    return folds
