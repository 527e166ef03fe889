"""Error analysis: the worst-predicted rows and permutation feature importance.

``sklearn.inspection.permutation_importance`` needs an estimator; we only have a predict
function (any pyfunc model), so the permutation is done here over the *raw input columns*: shuffle
one column (seeded), predict, and record how much the primary metric worsens. Repeated
``importance_repeats`` times per column; mean and standard deviation reported, sorted descending.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from mlflow_steward.evaluation._metrics import GREATER_IS_BETTER, Predictions, point_value, row_losses

IMPORTANCE_COLUMNS = ["feature", "importance_mean", "importance_std", "metric", "baseline"]


def worst_rows(
    features: pd.DataFrame, target: str, y_true_raw: np.ndarray, preds: Predictions, n: int
) -> pd.DataFrame:
    """The ``n`` rows with the largest absolute error (regression) or log loss (classification).

    Classification without probabilities ranks misclassified rows first. Columns: ``row`` (the
    frame's index label), the features, the target, ``prediction`` and ``error`` (or
    ``proba_true`` and ``log_loss``).
    """
    out = features.copy()
    out.insert(0, "row", features.index.to_numpy())
    out[target] = y_true_raw
    if preds.task == "regression":
        out["prediction"] = preds.y_pred
        out["error"] = preds.y_pred - preds.y_true
        score = np.abs(out["error"].to_numpy())
    else:
        out["prediction"] = [preds.classes[c] if c < len(preds.classes) else None for c in preds.y_pred]
        if preds.proba is not None:
            loss = row_losses("log_loss", preds)
            out["proba_true"] = np.exp(-loss)
            out["log_loss"] = loss
            score = loss
        else:
            score = row_losses("accuracy", preds)
            out["error"] = score
    order = np.argsort(-score, kind="stable")[:n]
    return out.iloc[order].reset_index(drop=True)


def importance_metric(preds: Predictions) -> str:
    if preds.task == "regression":
        return "rmse"
    return "log_loss" if preds.proba is not None else "accuracy"


def permutation_importance(
    features: pd.DataFrame,
    score: Callable[[pd.DataFrame], Predictions],
    baseline: Predictions,
    *,
    repeats: int,
    random_state: int | None,
) -> pd.DataFrame:
    """Increase in the primary metric's loss when each input column is shuffled.

    ``score(frame)`` predicts on ``frame`` and returns its :class:`Predictions`. Positive
    importance = the model got worse without the column's information.
    """
    metric = importance_metric(baseline)
    sign = -1.0 if metric in GREATER_IS_BETTER else 1.0
    base = point_value(metric, baseline)
    rng = np.random.default_rng(random_state)
    rows = []
    for column in features.columns:
        deltas = []
        for _ in range(repeats):
            shuffled = features.copy()
            permutation = rng.permutation(len(features))
            shuffled[column] = features[column].iloc[permutation].set_axis(features.index)  # keeps dtype
            deltas.append(sign * (point_value(metric, score(shuffled)) - base))
        rows.append(
            {
                "feature": column,
                "importance_mean": float(np.mean(deltas)),
                "importance_std": float(np.std(deltas, ddof=1)) if repeats > 1 else 0.0,
                "metric": metric,
                "baseline": base,
            }
        )
    table = pd.DataFrame(rows, columns=IMPORTANCE_COLUMNS)
    return table.sort_values("importance_mean", ascending=False, kind="stable").reset_index(drop=True)
