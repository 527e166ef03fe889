"""``tune`` with the optuna strategy: child runs, the parent's summary, plots, threads, failures."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone

from mlflow_steward import names
from mlflow_steward.exceptions import StewardError
from mlflow_steward.tuning import Family, TuningResult, tune
from mlflow_steward.tuning._result import MSG_FAMILY_WITHOUT_RESULT, MSG_NO_COMPLETE_TRIAL


def _artifacts(run_id: str, path: str = "tuning") -> set[str]:
    return {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, path)}


def test_every_trial_is_a_child_run_and_the_parent_has_the_summary(mlflow_store, housing_xy, pipeline_factory,
                                                                   child_runs, load_study):
    X, y = housing_xy
    with mlflow.start_run() as parent:
        result = tune(X, y, task="regression", make_pipeline=pipeline_factory, n_trials=6, cv=3)
    assert isinstance(result, TuningResult)
    assert result.parent_run_id == parent.info.run_id
    study = load_study(result)
    assert len(study.trials) == 6 == result.n_trials.total

    children = child_runs(parent.info.run_id)
    assert len(children) == 6
    by_number = {int(r.data.params["trial_number"]): r for r in children}
    assert sorted(by_number) == list(range(6))
    for trial in study.trials:
        run = by_number[trial.number]
        assert run.data.tags[names.MLFLOW_PARENT_RUN_ID] == parent.info.run_id
        assert run.data.tags[names.TAG_STUDY_NAME] == result.study_name
        assert run.data.tags[names.TAG_TRIAL_STATE] == trial.state.name
        assert run.info.status == {"COMPLETE": "FINISHED", "PRUNED": "KILLED"}[trial.state.name]
        family = trial.params["family"]
        assert run.data.params["family"] == family
        assert run.info.run_name == f"{family}-{trial.number:04d}"
        for key, value in trial.params.items():
            if key != "family":
                assert run.data.params[key.split(".", 1)[1]] == str(value)
        folds = [run.data.metrics[f"cv_rmse_fold_{k}"] for k in range(int(run.data.metrics["n_folds"]))]
        assert run.data.metrics["cv_rmse_mean"] == pytest.approx(np.mean(folds))
        assert run.data.metrics["cv_rmse_std"] == pytest.approx(np.std(folds))
        assert run.data.metrics["fit_time_s"] > 0
        if trial.state.name == "COMPLETE":
            assert trial.value == pytest.approx(np.mean(folds))
            assert len(folds) == 3

    parent_run = mlflow.get_run(parent.info.run_id)
    params = parent_run.data.params
    assert params["best_family"] == result.best_family
    for key, value in result.best_params.items():
        assert params[f"best_{key}"] == str(value)
    assert params["study_name"] == result.study_name
    assert params["study_storage"] == result.storage
    assert parent_run.data.metrics["best_cv_rmse_mean"] == pytest.approx(result.best_score)
    assert parent_run.data.metrics["best_cv_rmse_std"] == pytest.approx(result.best_score_std)
    assert parent_run.data.tags[names.TAG_STEP] == names.STEP_TUNE
    best_tag = json.loads(parent_run.data.tags[names.TAG_BEST_PARAMS])
    assert best_tag == {"family": result.best_family, **result.best_params}
    assert _artifacts(parent.info.run_id) == {
        names.ARTIFACT_OPTIMIZATION_HISTORY, names.ARTIFACT_PARAM_IMPORTANCES, names.ARTIFACT_BEST_PARAMS,
        names.ARTIFACT_OOF_PREDICTIONS,
    }
    local = Path(mlflow.artifacts.download_artifacts(run_id=parent.info.run_id, artifact_path="tuning"))
    for png in ("optimization_history.png", "param_importances.png"):
        assert (local / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    document = json.loads((local / "best_params.json").read_text())
    assert document["best_family"] == result.best_family
    assert document["cv"] == {"splitter": "KFold", "n_splits": 3, "shuffle": True, "random_state": 42}
    for family, best in result.per_family.items():
        assert document["families"][family]["params"] == dict(best.params)
        assert document["families"][family]["run_id"] == best.run_id
        assert mlflow.get_run(best.run_id).data.metrics["cv_rmse_mean"] == pytest.approx(best.score)

    # the best of the study, per family, best first
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert result.best_score == pytest.approx(min(t.value for t in complete))
    scores = [best.score for best in result.per_family.values()]
    assert scores == sorted(scores)
    assert result.direction == "minimize" and result.scoring == "rmse"


def test_best_estimator_is_unfitted_with_the_best_params(mlflow_store, housing_xy, pipeline_factory):
    X, y = housing_xy
    result = tune(X, y, task="regression", make_pipeline=pipeline_factory, families=["ridge", "knn"], n_trials=4, cv=3)
    estimator = result.best_estimator()
    assert not hasattr(estimator, "n_features_in_")
    for key, value in result.best_params.items():
        assert estimator.get_params()[key] == value
    for family, best in result.per_family.items():
        assert result.estimator_for(family).get_params()[next(iter(best.params))] == next(iter(best.params.values()))
    missing = "random_forest"
    with pytest.raises(ValueError) as error:
        result.estimator_for(missing)
    assert str(error.value) == MSG_FAMILY_WITHOUT_RESULT.format(name=missing, valid=", ".join(result.per_family))


def test_without_an_active_run_a_parent_run_is_created_and_finished(mlflow_store, housing_xy, pipeline_factory,
                                                                    child_runs, capsys):
    X, y = housing_xy
    result = tune(X, y, task="regression", make_pipeline=pipeline_factory, families=["ridge"], n_trials=2, cv=2,
                  show_progress_bar=True)
    assert "2/2" in capsys.readouterr().err  # optuna's (tqdm) progress bar
    assert mlflow.active_run() is None
    parent = mlflow.get_run(result.parent_run_id)
    assert parent.info.status == "FINISHED"
    assert parent.info.run_name == f"tune-{result.study_name}"
    assert len(child_runs(result.parent_run_id)) == 2
    # default storage: ./.steward/optuna.db (the fixture runs in tmp_path)
    assert Path(".steward/optuna.db").is_file()
    assert result.storage == f"sqlite:///{Path('.steward/optuna.db').resolve()}"


def test_two_threads_log_every_trial_exactly_once(mlflow_store, housing_xy, pipeline_factory, child_runs, load_study):
    X, y = housing_xy
    with mlflow.start_run() as parent:
        result = tune(X, y, task="regression", make_pipeline=pipeline_factory, families=["ridge", "knn"],
                      n_trials=8, cv=3, n_jobs=2)
    study = load_study(result)
    children = child_runs(parent.info.run_id)
    numbers = sorted(int(r.data.tags[names.TAG_TRIAL_NUMBER]) for r in children)
    assert numbers == [t.number for t in study.trials] == list(range(8))
    assert all(r.info.status in ("FINISHED", "KILLED") for r in children)
    assert {r.info.run_id for r in children} == {t.user_attrs["mlflow_run_id"] for t in study.trials}


class _Exploding(RegressorMixin, BaseEstimator):
    def __init__(self, mode: str = "ok"):
        self.mode = mode

    def fit(self, X, y):
        if self.mode == "bad":
            raise ArithmeticError("this mode always fails")
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def _flaky(modes):
    return Family("flaky", "regression", build=lambda params, rs: _Exploding(**params),
                  space=lambda t: {"mode": t.suggest_categorical("mode", list(modes))}, grid={"mode": tuple(modes)})


def test_a_failing_trial_is_logged_failed_and_the_study_goes_on(mlflow_store, housing_xy, pipeline_factory, child_runs):
    X, y = housing_xy
    with mlflow.start_run() as parent:
        result = tune(X, y, task="regression", make_pipeline=pipeline_factory, families=[_flaky(["ok", "bad"])],
                      strategy="grid", cv=2)
    assert result.n_trials.failed == 1 and result.n_trials.finished == 1
    failed = [r for r in child_runs(parent.info.run_id) if r.data.params["mode"] == "bad"]
    assert len(failed) == 1
    assert failed[0].info.status == "FAILED"
    assert failed[0].data.tags[names.TAG_TRIAL_STATE] == "FAIL"
    assert failed[0].data.tags[names.TAG_TRIAL_ERROR] == "ArithmeticError: this mode always fails"
    assert result.best_estimator().mode == "ok"


def test_when_no_trial_completes_the_error_says_why(mlflow_store, housing_xy, pipeline_factory):
    X, y = housing_xy
    with pytest.raises(StewardError) as error:
        tune(X, y, task="regression", make_pipeline=pipeline_factory, families=[_flaky(["bad"])], strategy="grid",
             cv=2, study_name="all-bad")
    assert str(error.value) == MSG_NO_COMPLETE_TRIAL.format(
        study="all-bad", failed=1, pruned=0, reason="ArithmeticError: this mode always fails"
    )
    assert mlflow.active_run() is None
    runs = mlflow.search_runs(filter_string="tags.mlflow.runName = 'tune-all-bad'", output_format="list")
    assert [r.info.status for r in runs] == ["FAILED"]


def test_default_families_classification_scored_by_roc_auc(mlflow_store, adult_xy, pipeline_factory, child_runs):
    X, y = adult_xy
    with mlflow.start_run() as parent:
        result = tune(X, y, task="classification", make_pipeline=pipeline_factory, n_trials=4, cv=3)
    assert result.scoring == "roc_auc" and result.direction == "maximize"
    scores = [best.score for best in result.per_family.values()]
    assert scores == sorted(scores, reverse=True)
    assert all(0.5 < s <= 1.0 for s in scores)
    assert all("cv_roc_auc_mean" in r.data.metrics for r in child_runs(parent.info.run_id))
    assert mlflow.get_run(parent.info.run_id).data.params["cv_splitter"] == "StratifiedKFold"


def test_the_fold_pipeline_is_fitted_on_training_rows_only(mlflow_store, housing_xy):
    X, y = housing_xy
    seen: list[int] = []

    class _Recorder(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            seen.append(len(X))
            self.mean_ = float(np.mean(y))
            return self

        def predict(self, X):
            return np.full(len(X), self.mean_)

    recorder = Family("recorder", "regression", build=lambda p, rs: _Recorder(), space=lambda t: {}, grid={})
    tune(X, y, task="regression", make_pipeline=lambda est: clone(est), families=[recorder], strategy="grid",
         cv=4, oof=False)
    assert seen == [len(X) * 3 // 4] * 4
