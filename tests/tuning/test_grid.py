"""The grid strategy: exactly the grid's combinations, once; designed pruning."""

from __future__ import annotations

import dataclasses

import mlflow
import optuna
import pytest

from mlflow_steward import names
from mlflow_steward.tuning import get_family, tune


def test_grid_runs_exactly_every_combination_once(mlflow_store, housing_xy, pipeline_factory, child_runs, load_study):
    X, y = housing_xy
    families = ["ridge", "knn"]
    expected = {("ridge", (("alpha", a),)) for a in (0.1, 1.0, 10.0, 100.0)} | {
        ("knn", (("n_neighbors", k), ("weights", w))) for k in (5, 15, 30) for w in ("uniform", "distance")
    }
    with mlflow.start_run() as parent:
        result = tune(X, y, task="regression", make_pipeline=pipeline_factory, families=families, strategy="grid",
                      cv=3)
    children = child_runs(parent.info.run_id)
    assert len(children) == len(expected) == 10 == result.n_trials.total
    logged = {
        (r.data.params["family"],
         tuple(sorted((k, float(v) if k == "alpha" else int(v) if k == "n_neighbors" else v)
                      for k, v in r.data.params.items() if k not in ("family", "trial_number"))))
        for r in children
    }
    assert logged == expected
    assert all(r.info.status == "FINISHED" for r in children)  # no pruning on a grid by default

    # calling again finds nothing pending: still 10 trials, no new child run
    with mlflow.start_run() as again:
        result2 = tune(X, y, task="regression", make_pipeline=pipeline_factory, families=families, strategy="grid",
                       cv=3)
    assert result2.study_name == result.study_name
    assert len(load_study(result2).trials) == 10
    assert child_runs(again.info.run_id) == []
    assert result2.best_params == result.best_params


def test_grid_in_chunks_covers_the_grid(mlflow_store, housing_xy, pipeline_factory, load_study):
    X, y = housing_xy
    tune(X, y, task="regression", make_pipeline=pipeline_factory, families=["ridge"], strategy="grid", cv=2,
         n_trials=3)
    result = tune(X, y, task="regression", make_pipeline=pipeline_factory, families=["ridge"], strategy="grid", cv=2,
                  n_trials=3)
    study = load_study(result)
    assert sorted(t.params["ridge.alpha"] for t in study.trials) == [0.1, 1.0, 10.0, 100.0]
    assert all(t.state.name == "COMPLETE" for t in study.trials)


def test_pruned_trials_are_killed_with_their_partial_folds(mlflow_store, housing_xy, pipeline_factory, child_runs,
                                                           load_study):
    # three sensible alphas complete first (the pruner's startup), then absurd ones: their first-fold
    # RMSE (a near-constant prediction) is far above the median first fold, so they stop there.
    X, y = housing_xy
    ridge = dataclasses.replace(get_family("regression", "ridge"), grid={"alpha": (0.1, 1.0, 10.0, 1e6, 1e7)})
    with mlflow.start_run() as parent:
        result = tune(X, y, task="regression", make_pipeline=pipeline_factory, families=[ridge], strategy="grid",
                      cv=4, pruner=optuna.pruners.MedianPruner(n_startup_trials=3))
    study = load_study(result)
    states = {t.params["ridge.alpha"]: t.state.name for t in study.trials}
    assert states == {0.1: "COMPLETE", 1.0: "COMPLETE", 10.0: "COMPLETE", 1e6: "PRUNED", 1e7: "PRUNED"}
    assert result.n_trials.pruned == 2
    for run in child_runs(parent.info.run_id):
        if float(run.data.params["alpha"]) >= 1e6:
            assert run.info.status == "KILLED"
            assert run.data.tags[names.TAG_TRIAL_STATE] == "PRUNED"
            assert run.data.metrics["n_folds"] == 1
            assert "cv_rmse_fold_0" in run.data.metrics and "cv_rmse_fold_1" not in run.data.metrics
            assert run.data.metrics["cv_rmse_mean"] == pytest.approx(run.data.metrics["cv_rmse_fold_0"])
        else:
            assert run.info.status == "FINISHED" and run.data.metrics["n_folds"] == 4
    assert result.best_params["alpha"] < 1e6
