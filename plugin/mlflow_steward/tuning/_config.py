"""``TuneConfig``: the search settings of :func:`~mlflow_steward.tuning.tune`, one default each.

The main job (``workflow.PipelineConfig``), the ``steward tune``/``steward run`` options and the
MLproject take their defaults from these fields, so the Python API and the command line agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlflow_steward.exceptions import StewardInputError, check_scalar, closest

STRATEGIES = ("optuna", "grid")

#: Optuna trials added by a call when ``n_trials`` is None (grid: every pending grid point).
DEFAULT_N_TRIALS = 24

MSG_BAD_STRATEGY = "strategy must be 'optuna' or 'grid', got {strategy!r}{hint}"
MSG_BAD_N_JOBS = "n_jobs must be a non-zero integer (-1: one thread per core), got {n_jobs!r}"


@dataclass(frozen=True)
class TuneConfig:
    """How :func:`~mlflow_steward.tuning.tune` searches; checked on construction.

    Parameters
    ----------
    strategy : "optuna" (seeded TPE + median pruning between folds) or "grid".
    n_trials : trials to add; None: :data:`DEFAULT_N_TRIALS` (optuna) or every pending grid point.
    cv : cross-validation folds.
    random_state : seeds the folds, the sampler and the estimators.
    n_jobs : trials in parallel threads (-1: one per core).
    timeout : stop starting new trials after this many seconds (None: no limit).
    """

    strategy: str = "optuna"
    n_trials: int | None = None
    cv: int = 3
    random_state: int = 42
    n_jobs: int = 1
    timeout: float | None = None

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            match = closest(str(self.strategy), STRATEGIES)
            hint = f"; did you mean {match!r}?" if match else ""
            raise StewardInputError(MSG_BAD_STRATEGY.format(strategy=self.strategy, hint=hint))
        check_scalar(self.n_trials, "n_trials", int, minimum=1, allow_none=True)
        check_scalar(self.cv, "cv (the number of folds)", int, minimum=2)
        check_scalar(self.random_state, "random_state (it fixes the folds)", int)
        check_scalar(self.n_jobs, "n_jobs", int)
        if self.n_jobs == 0:
            raise StewardInputError(MSG_BAD_N_JOBS.format(n_jobs=self.n_jobs))
        check_scalar(self.timeout, "timeout (seconds)", float, minimum=0, include_minimum=False, allow_none=True)

    @property
    def optuna_trials(self) -> int:
        """Trials an Optuna search adds."""
        return self.n_trials or DEFAULT_N_TRIALS
