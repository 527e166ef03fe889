"""The objective: one trial = one family + params, scored by k-fold CV of the caller's pipeline.

Each fold clones ``make_pipeline(estimator)`` and fits it (cleaning + estimator) on the fold's
training rows only, so nothing learnt from a validation fold leaks into its score. After each fold
the running mean is reported (``trial.report(mean, step=fold)``) and, between folds, the study's
pruner may stop the trial. The fold scores so far and the fit time are kept as the trial user attribute
:data:`ATTR_CV` (written once, also when the trial is pruned or fails), so a pruned trial's partial
folds are logged too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._families import FAMILY_PARAM, Family, suggest_params
from ._scoring import Scorer

ATTR_CV = "cv"  # trial user attribute: {"fold_scores": [...], "fit_time_s": seconds}
ATTR_FOLD_SCORES = "fold_scores"
ATTR_FIT_TIME = "fit_time_s"
MSG_NON_FINITE_SCORE = "fold {fold} of trial {number} scored {score!r} ({scoring}): not a finite number"
MSG_NOT_A_PIPELINE = "make_pipeline({estimator}) returned {type}, not an estimator with fit()"


class CrossValidatedObjective:
    """``objective(trial) -> mean CV score``, for the optuna and the grid strategy alike.

    With ``grid=True`` each family's params are suggested as categoricals over its grid (the grid
    strategy enqueues every combination as fixed params); otherwise from its Optuna space.
    """

    def __init__(
        self,
        *,
        X: Any,
        y: np.ndarray,
        families: Mapping[str, Family],
        make_pipeline: Callable[[Any], Any],
        splits: list[tuple[np.ndarray, np.ndarray]],
        scorer: Scorer,
        classes: np.ndarray | None,
        random_state: int | None,
        grid: bool = False,
    ) -> None:
        self.X = X
        self.y = y
        self.families = families
        self.make_pipeline = make_pipeline
        self.splits = splits
        self.scorer = scorer
        self.classes = classes
        self.random_state = random_state
        self.grid = grid

    def __call__(self, trial: Any) -> float:
        import optuna
        from sklearn.base import clone

        family = self.families[trial.suggest_categorical(FAMILY_PARAM, list(self.families))]
        params = suggest_params(trial, family, grid=self.grid)
        pipeline = self.make_pipeline(family.estimator(params, self.random_state))
        if not hasattr(pipeline, "fit"):
            raise TypeError(MSG_NOT_A_PIPELINE.format(estimator=family.name, type=type(pipeline).__name__))
        scores: list[float] = []
        fit_time = 0.0
        last = len(self.splits) - 1
        try:
            for fold, (train, valid) in enumerate(self.splits):
                model = clone(pipeline)
                start = time.perf_counter()
                model.fit(self.X.iloc[train], self.y[train])
                fit_time += time.perf_counter() - start
                score = self.scorer.score(model, self.X.iloc[valid], self.y[valid], self.classes)
                if not math.isfinite(score):
                    raise ValueError(
                        MSG_NON_FINITE_SCORE.format(
                            fold=fold, number=trial.number, score=score, scoring=self.scorer.name
                        )
                    )
                scores.append(score)
                trial.report(float(np.mean(scores)), step=fold)
                if fold < last and trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after fold {fold + 1} of {last + 1}")
        finally:  # one storage write per trial, also when pruned or failed
            trial.set_user_attr(ATTR_CV, {ATTR_FOLD_SCORES: scores, ATTR_FIT_TIME: fit_time})
        return float(np.mean(scores))
