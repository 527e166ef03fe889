"""The ensemble against its members: CV (out-of-fold) and test scores with intervals.

Compute → record: :func:`compare_members` returns a frozen :class:`Comparison` (no plotting), whose
:meth:`Comparison.frame` is ``ensemble/comparison.csv`` and which :func:`._plot.draw_comparison`
draws.

- **Metric**: the tuning's scoring (``rmse`` by default for regression, ``roc_auc`` for
  classification; classification scores probabilities).
- **CV score**: the metric on all out-of-fold rows at once, for members and ensemble alike. The
  ensemble's OOF predictions are *cross-fitted*: for each tuning fold, the combiner (weights, greedy
  selection or meta-learner) is fitted on the other folds' OOF rows and predicts this fold's rows
  (``cross_fit_predictions``). The mean needs no fitting. This is honest about the combiner; the
  members' OOF predictions of the combiner's training rows came from models that saw the held-out
  fold, a second-order effect that full nested CV (refitting each member K×(K-1) times) would remove.
- **Best member**: the member with the best CV score, chosen before looking at the test set.
- **Test**: each model's metric on the fixed test set with a percentile bootstrap interval, and for
  each member the paired bootstrap interval of ``metric(ensemble) - metric(member)`` on the same
  resamples (stratified by class for classification). The ensemble *beats its best member* when
  that interval lies entirely on the better side of zero.

The intervals come from the evaluation's sliced-metric engine (``metric_frame`` for one model,
``paired_metric_frame`` for the ensemble against a member; the whole test set, no slices), the
same one the evaluation report and the registry gate use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlflow_steward.exceptions import StewardInputError

from . import _messages as msg
from mlflow_steward._format import fmt  # noqa: F401 (the one number formatter; _build and _plot use it from here)

ENSEMBLE = "ensemble"


@dataclass(frozen=True)
class ComparisonRow:
    """One model of the comparison (a member or the ensemble)."""

    name: str
    is_ensemble: bool
    run_id: str
    family: str
    weight: float
    oof_source: str
    cv_score: float
    test_score: float
    test_low: float
    test_high: float
    diff: float = float("nan")  # metric(ensemble) - metric(this member), on the test set
    diff_low: float = float("nan")
    diff_high: float = float("nan")
    p_value: float = float("nan")


@dataclass(frozen=True)
class Comparison:
    """Members and ensemble side by side; the verdict against the best member."""

    metric: str
    greater_is_better: bool
    confidence: float
    rows: tuple[ComparisonRow, ...]  # members (in member order), then the ensemble
    best_member: str

    @property
    def ensemble(self) -> ComparisonRow:
        return next(r for r in self.rows if r.is_ensemble)

    @property
    def best(self) -> ComparisonRow:
        return next(r for r in self.rows if r.name == self.best_member and not r.is_ensemble)

    @property
    def beats_best_member(self) -> bool:
        """The difference interval against the best member lies wholly on the better side of 0."""
        best = self.best
        return bool(best.diff_low > 0) if self.greater_is_better else bool(best.diff_high < 0)

    def frame(self) -> Any:
        """One row per model: the numbers behind the plot (``ensemble/comparison.csv``)."""
        import pandas as pd

        m = self.metric
        return pd.DataFrame(
            [
                {
                    "model": r.name,
                    "kind": ENSEMBLE if r.is_ensemble else "member",
                    "run_id": r.run_id,
                    "family": r.family,
                    "weight": r.weight,
                    "oof_source": r.oof_source,
                    "best_member": r.name == self.best_member and not r.is_ensemble,
                    f"cv_{m}": r.cv_score,
                    f"test_{m}": r.test_score,
                    f"test_{m}_ci_low": r.test_low,
                    f"test_{m}_ci_high": r.test_high,
                    f"ensemble_minus_model_{m}": r.diff,
                    f"ensemble_minus_model_{m}_ci_low": r.diff_low,
                    f"ensemble_minus_model_{m}_ci_high": r.diff_high,
                    "p_value": r.p_value,
                }
                for r in self.rows
            ]
        )


def metric_value(metric: str, y: np.ndarray, pred: np.ndarray) -> float:
    """``metric`` (a name of :data:`mlflow_steward.stats.METRICS`) of ``pred`` against ``y``."""
    from mlflow_steward.evaluation._metric_frame import point_value

    return point_value(metric, y, pred)


def _test_interval(metric: str, y: np.ndarray, pred: np.ndarray, options: dict[str, Any]) -> Any:
    from mlflow_steward.evaluation._metric_frame import metric_frame

    measured = metric_frame(metric, y, pred, **options)
    if metric in measured.undefined:
        raise StewardInputError(msg.METRIC_UNDEFINED.format(metric=metric, error=measured.undefined[metric]))
    return measured.overall[metric]


def _test_difference(metric: str, y: np.ndarray, ensemble: np.ndarray, member: np.ndarray, options: dict[str, Any]) -> Any:
    from mlflow_steward.evaluation._paired_frame import paired_metric_frame

    paired = paired_metric_frame(metric, y, ensemble, member, **options)
    if paired.overall is None:
        raise StewardInputError(msg.METRIC_UNDEFINED.format(metric=metric, error=paired.undefined))
    return paired.overall


def compare_members(
    *,
    metric: str,
    greater_is_better: bool,
    y_train: np.ndarray,
    member_oof: Mapping[str, np.ndarray],
    ensemble_oof: np.ndarray,
    y_test: np.ndarray,
    member_test: Mapping[str, np.ndarray],
    ensemble_test: np.ndarray,
    members: Mapping[str, Mapping[str, Any]],
    weights: Mapping[str, float],
    confidence: float = 0.95,
    n_resamples: int = 2000,
    random_state: int = 0,
    classification: bool = False,
) -> Comparison:
    """Score every member and the ensemble on the OOF rows and on the test set (see module doc).

    ``members``: name -> ``{"run_id", "family", "oof_source"}``; predictions are 1-D (regression)
    or ``(n, k)`` probabilities (classification).
    """
    strata = y_test if classification else None
    options = {"n_resamples": n_resamples, "confidence": confidence, "random_state": random_state, "strata": strata}
    cv_scores = {name: metric_value(metric, y_train, pred) for name, pred in member_oof.items()}
    sign = 1.0 if greater_is_better else -1.0
    best = max(cv_scores, key=lambda name: (sign * cv_scores[name], -list(cv_scores).index(name)))
    rows = []
    for name, pred in member_test.items():
        test = _test_interval(metric, y_test, pred, options)
        paired = _test_difference(metric, y_test, ensemble_test, pred, options)
        info = members[name]
        rows.append(
            ComparisonRow(
                name=name, is_ensemble=False, run_id=info["run_id"], family=info["family"],
                weight=float(weights.get(name, float("nan"))), oof_source=info["oof_source"],
                cv_score=cv_scores[name], test_score=test.estimate, test_low=test.low, test_high=test.high,
                diff=paired.difference.estimate, diff_low=paired.difference.low,
                diff_high=paired.difference.high, p_value=float(paired.p_value),
            )
        )
    test = _test_interval(metric, y_test, ensemble_test, options)
    rows.append(
        ComparisonRow(
            name=ENSEMBLE, is_ensemble=True, run_id="", family="", weight=float("nan"), oof_source="cross-fitted",
            cv_score=metric_value(metric, y_train, ensemble_oof), test_score=test.estimate,
            test_low=test.low, test_high=test.high,
        )
    )
    return Comparison(
        metric=metric, greater_is_better=greater_is_better, confidence=confidence, rows=tuple(rows), best_member=best
    )
