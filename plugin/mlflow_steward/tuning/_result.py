"""What a tuning run hands on: the best family and params, each family's best, the study's address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlflow_steward.exceptions import StewardError, StewardInputError

from ._families import Family, split_params
from ._objective import ATTR_CV, ATTR_FOLD_SCORES
from ._scoring import MAXIMIZE
from ._trial_logging import ATTR_ERROR, ATTR_RUN_ID

MSG_NO_COMPLETE_TRIAL = (
    "no trial of study {study!r} completed ({failed} failed, {pruned} pruned); first failure: {reason}"
)
MSG_FAMILY_WITHOUT_RESULT = "family {name!r} has no completed trial in this study; families with results: {valid}"


@dataclass(frozen=True)
class TrialCounts:
    """Trials of the whole study (all calls) by final state."""

    finished: int
    pruned: int
    failed: int

    @property
    def total(self) -> int:
        return self.finished + self.pruned + self.failed


@dataclass(frozen=True)
class FamilyResult:
    """The best completed trial of one family."""

    family: str
    params: Mapping[str, Any]
    score: float  # mean over folds
    score_std: float  # population std over folds
    trial_number: int
    run_id: str | None  # the trial's child run


@dataclass(frozen=True)
class TuningResult:
    """The outcome of :func:`tune`: scores are CV means of ``scoring`` (``direction`` says which way).

    ``per_family`` holds every family with at least one completed trial, best first.
    ``oof_predictions`` is the frame logged as ``tuning/oof_predictions.parquet`` (``None`` when
    ``oof=False``); its folds are ``make_cv(task, cv, random_state)`` over the rows of ``X``.
    """

    best_family: str
    best_params: Mapping[str, Any]
    best_score: float
    best_score_std: float
    direction: str
    scoring: str
    task: str
    strategy: str
    per_family: Mapping[str, FamilyResult]
    study_name: str
    storage: str
    parent_run_id: str
    n_trials: TrialCounts
    cv: int
    random_state: int
    families: Mapping[str, Family] = field(repr=False, compare=False, default_factory=dict)
    oof_predictions: Any = field(repr=False, compare=False, default=None)

    def estimator_for(self, family: str) -> Any:
        """An unfitted estimator of ``family`` with that family's best params."""
        if family not in self.per_family:
            raise StewardInputError(
                MSG_FAMILY_WITHOUT_RESULT.format(name=family, valid=", ".join(self.per_family))
            )
        return self.families[family].estimator(self.per_family[family].params, self.random_state)

    def best_estimator(self) -> Any:
        """An unfitted estimator of the best family with the best params (wrap it with your pipeline)."""
        return self.estimator_for(self.best_family)


def summarize_study(study: Any, families: Mapping[str, Family], *, direction: str) -> tuple[
    dict[str, FamilyResult], TrialCounts
]:
    """Each family's best completed trial (best family first) and the study's trial counts."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    counts = TrialCounts(
        finished=len(complete),
        pruned=sum(t.state == TrialState.PRUNED for t in trials),
        failed=sum(t.state == TrialState.FAIL for t in trials),
    )
    if not complete:
        failures = [t for t in trials if t.state == TrialState.FAIL]
        raise StewardError(
            MSG_NO_COMPLETE_TRIAL.format(
                study=study.study_name, failed=counts.failed, pruned=counts.pruned,
                reason=failures[0].user_attrs.get(ATTR_ERROR, "unknown") if failures else "none",
            )
        )
    sign = -1.0 if direction == MAXIMIZE else 1.0
    best: dict[str, Any] = {}
    for trial in sorted(complete, key=lambda t: (sign * t.value, t.number)):
        family, _ = split_params(trial.params)
        if family in families and family not in best:
            best[family] = trial
    per_family = {}
    for family, trial in best.items():
        _, params = split_params(trial.params)
        folds = trial.user_attrs.get(ATTR_CV, {}).get(ATTR_FOLD_SCORES, [trial.value])
        per_family[family] = FamilyResult(
            family=family,
            params=params,
            score=float(trial.value),
            score_std=float(np.std(folds)),
            trial_number=trial.number,
            run_id=trial.user_attrs.get(ATTR_RUN_ID),
        )
    return per_family, counts
