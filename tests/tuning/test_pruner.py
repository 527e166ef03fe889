"""Pruning compares a trial with its own family only, so a weak family keeps its trials."""

from __future__ import annotations

import optuna
import pytest

from mlflow_steward.tuning._pruner import FamilyMedianPruner


def _study_with(direction: str, completed: list[tuple[str, float]]) -> optuna.Study:
    study = optuna.create_study(direction=direction)
    distributions = {"family": optuna.distributions.CategoricalDistribution(["ridge", "hgb"])}
    for family, value in completed:
        study.add_trial(
            optuna.trial.create_trial(
                params={"family": family}, distributions=distributions, value=value,
                intermediate_values={0: value},
            )
        )  # fmt: skip
    return study


def _running(study: optuna.Study, family: str, fold0: float) -> optuna.trial.FrozenTrial:
    """A running trial of ``family`` that has reported ``fold0`` after its first fold."""
    return optuna.trial.create_trial(
        state=optuna.trial.TrialState.RUNNING, params={"family": family},
        distributions={"family": optuna.distributions.CategoricalDistribution(["ridge", "hgb"])},
        intermediate_values={0: fold0},
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _quiet():
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_weak_family_is_judged_against_itself_not_the_leader():
    study = _study_with("minimize", [("hgb", 45_000.0)] * 3 + [("ridge", 70_000.0), ("ridge", 69_000.0), ("ridge", 71_000.0)])
    pruner = FamilyMedianPruner(n_startup_trials=3)
    assert optuna.pruners.MedianPruner(n_startup_trials=3).prune(study, _running(study, "ridge", 68_000.0))
    assert not pruner.prune(study, _running(study, "ridge", 68_000.0))  # best ridge so far
    assert pruner.prune(study, _running(study, "ridge", 90_000.0))  # worse than the ridge median


def test_no_pruning_before_the_family_has_its_startup_trials():
    study = _study_with("minimize", [("hgb", 45_000.0)] * 5 + [("ridge", 70_000.0)])
    assert not FamilyMedianPruner(n_startup_trials=3).prune(study, _running(study, "ridge", 500_000.0))


def test_direction_is_respected_for_scores_to_maximise():
    study = _study_with("maximize", [("hgb", 0.9)] * 3)
    pruner = FamilyMedianPruner(n_startup_trials=3)
    assert pruner.prune(study, _running(study, "hgb", 0.7))
    assert not pruner.prune(study, _running(study, "hgb", 0.95))
