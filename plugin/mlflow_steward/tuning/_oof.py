"""Out-of-fold predictions of each family's best trial, aligned with the training rows.

After the study, each family's best params are refitted with ``cross_val_predict`` over the very
folds the trials used (:func:`make_cv` with the same ``cv`` and ``random_state``), so every row gets
a prediction from a model that never saw it. The frame (logged as
``tuning/oof_predictions.parquet``) has one row per row of ``X``, in order, with columns:

- ``row``: the row's position in ``X`` (0..n-1); ``fold``: the fold that held it out;
- ``y_true``: the target;
- one column per family: regression, the prediction; binary classification, the probability of the
  positive class (the larger label); more classes, one column ``<family>[<class>]`` per class
  (scikit-learn's sorted class order).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._cv import fold_of_row
from ._families import REGRESSION, Family
from ._result import FamilyResult


def out_of_fold_predictions(
    X: Any,
    y: np.ndarray,
    *,
    task: str,
    per_family: Mapping[str, FamilyResult],
    families: Mapping[str, Family],
    make_pipeline: Callable[[Any], Any],
    splits: list[tuple[np.ndarray, np.ndarray]],
    classes: np.ndarray | None,
    random_state: int | None,
) -> Any:
    """The OOF frame described in the module docstring (families in ``per_family`` order)."""
    import pandas as pd
    from sklearn.model_selection import cross_val_predict

    columns: dict[str, Any] = {
        "row": np.arange(len(y), dtype=np.int64),
        "fold": fold_of_row(splits, len(y)),
        "y_true": y,
    }
    for name, best in per_family.items():
        pipeline = make_pipeline(families[name].estimator(best.params, random_state))
        method = "predict" if task == REGRESSION else "predict_proba"
        pred = np.asarray(cross_val_predict(pipeline, X, y, cv=splits, method=method), dtype=float)
        if task == REGRESSION:
            columns[name] = pred
        elif pred.shape[1] == 2:
            columns[name] = pred[:, 1]
        else:
            for k, label in enumerate(classes):  # type: ignore[arg-type]
                columns[f"{name}[{label}]"] = pred[:, k]
    return pd.DataFrame(columns)
