"""Study plots: records computed from the study, drawn as figures without pyplot."""

from __future__ import annotations

import optuna
from matplotlib.figure import Figure

from mlflow_steward.tuning import (
    draw_optimization_history,
    draw_param_importances,
    optimization_history,
    param_importances,
)
from mlflow_steward.tuning._plots import MIN_TRIALS_FOR_IMPORTANCE, MSG_TOO_FEW_TRIALS


def _study(n: int, direction: str = "minimize") -> optuna.Study:
    def objective(trial):
        family = trial.suggest_categorical("family", ["a", "b"])
        x = trial.suggest_float(f"{family}.x", 0.0, 1.0)
        if x > 0.9:
            raise optuna.TrialPruned()
        return x + (0.5 if family == "b" else 0.0)

    study = optuna.create_study(direction=direction, sampler=optuna.samplers.RandomSampler(seed=3))
    study.optimize(objective, n_trials=n)
    return study


def test_history_best_so_far_is_the_running_best():
    study = _study(25)
    for direction, better in (("minimize", min), ("maximize", max)):
        record = optimization_history(study, scoring="rmse", direction=direction)
        complete = [t for t in study.trials if t.state.name == "COMPLETE"]
        assert record.numbers == tuple(t.number for t in complete)
        running = [better(t.value for t in complete[: i + 1]) for i in range(len(complete))]
        assert list(record.best_so_far) == running
        assert set(record.families) <= {"a", "b"}
        assert record.n_pruned == sum(t.state.name == "PRUNED" for t in study.trials)
        assert list(record.frame().columns) == ["trial", "value", "family", "best_so_far"]
        assert isinstance(draw_optimization_history(record), Figure)


def test_importances_sum_to_one_and_are_drawn():
    record = param_importances(_study(30))
    assert set(record.params) <= {"family", "a.x", "b.x"}
    assert abs(sum(record.importances) - 1.0) < 1e-9
    assert list(record.importances) == sorted(record.importances, reverse=True)
    assert isinstance(draw_param_importances(record), Figure)


def test_too_few_trials_give_an_empty_record_with_a_note():
    record = param_importances(_study(1))
    assert record.params == ()
    assert record.note == MSG_TOO_FEW_TRIALS.format(n=MIN_TRIALS_FOR_IMPORTANCE, have=1)
    assert isinstance(draw_param_importances(record), Figure)
    empty = optimization_history(optuna.create_study(), scoring="rmse", direction="minimize")
    assert isinstance(draw_optimization_history(empty), Figure)
