"""Median pruning within a model family.

Optuna's ``MedianPruner`` compares a trial with every completed trial. When one family is far ahead
(boosted trees on housing), every trial of a weaker family (ridge) is pruned after its first fold, so
that family never completes a trial: it has no best parameters, no out-of-fold predictions and no
place in a per-family ensemble. Comparing a trial only with completed trials of its own family
prunes bad hyper-parameters without pruning whole families.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from mlflow_steward.tuning._families import FAMILY_PARAM


class FamilyMedianPruner(optuna.pruners.BasePruner):
    """Prune a trial whose running CV score is worse than the median of its family at that fold.

    ``n_startup_trials`` completed trials of the same family are needed before any of that family's
    trials can be pruned; folds before ``n_warmup_steps`` are never pruned.
    """

    def __init__(self, n_startup_trials: int = 3, n_warmup_steps: int = 0) -> None:
        self.n_startup_trials = n_startup_trials
        self.n_warmup_steps = n_warmup_steps

    def prune(self, study: optuna.Study, trial: Any) -> bool:
        step = trial.last_step
        if step is None or step < self.n_warmup_steps:
            return False
        value = trial.intermediate_values[step]
        if np.isnan(value):
            return True
        family = trial.params.get(FAMILY_PARAM)
        peers = [
            t.intermediate_values[step]
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.params.get(FAMILY_PARAM) == family and step in t.intermediate_values
        ]
        if len(peers) < self.n_startup_trials:
            return False
        median = float(np.nanmedian(peers))
        if study.direction == optuna.study.StudyDirection.MINIMIZE:
            return value > median
        return value < median
