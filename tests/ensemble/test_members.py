"""Choosing members: by id, best N, per family; every bad input names the run (exact messages)."""

from __future__ import annotations

import mlflow
import pytest

from mlflow_steward import names
from mlflow_steward.ensemble import build_and_compare, read_tune_run, select_members
from mlflow_steward.ensemble import _messages as msg
from mlflow_steward.ensemble._members import parse_param
from mlflow_steward.exceptions import StewardInputError


def _trials(tune_run_id: str) -> list:
    runs = mlflow.search_runs(
        filter_string=f"tags.`{names.MLFLOW_PARENT_RUN_ID}` = '{tune_run_id}'", output_format="list"
    )
    return sorted(runs, key=lambda r: int(r.data.params["trial_number"]))


def _error(call) -> str:
    with pytest.raises(StewardInputError) as info:
        call()
    return str(info.value)


def test_per_family_members_are_the_tunings_family_bests(ensemble_store, tuned_housing):
    context = read_tune_run(tuned_housing.tune_run_id)
    assert context.task == "regression" and context.scoring == "rmse" and context.cv == 3
    members = select_members(context, per_family=True)
    families = context.best_params["families"]
    assert [m.name for m in members] == list(families)
    for member in members:
        assert member.run_id == families[member.family]["run_id"]
        assert dict(member.params) == families[member.family]["params"]


def test_best_n_orders_by_cv_score_and_names_repeated_families(ensemble_store, tuned_housing):
    context = read_tune_run(tuned_housing.tune_run_id)
    members = select_members(context, best_n=4)
    scores = [m.cv_score for m in members]
    assert scores == sorted(scores)
    complete = [r for r in _trials(tuned_housing.tune_run_id) if r.data.tags[names.TAG_TRIAL_STATE] == "COMPLETE"]
    assert scores[0] == min(r.data.metrics["cv_rmse_mean"] for r in complete)
    families = [m.family for m in members]
    for member in members:
        if families.count(member.family) > 1:
            assert member.name == f"{member.family}-{member.trial_number:04d}"
        else:
            assert member.name == member.family


def test_members_by_run_id_parse_their_params(ensemble_store, tuned_housing):
    context = read_tune_run(tuned_housing.tune_run_id)
    trials = [r for r in _trials(tuned_housing.tune_run_id) if r.data.tags[names.TAG_TRIAL_STATE] == "COMPLETE"]
    chosen = [trials[0].info.run_id, trials[1].info.run_id]
    members = select_members(context, runs=chosen)
    assert [m.run_id for m in members] == chosen
    for member, run in zip(members, trials):
        assert {k: str(v) for k, v in member.params.items()} == {
            k: v for k, v in run.data.params.items() if k not in ("family", "trial_number")
        }


def test_parse_param():
    assert parse_param("12") == 12 and isinstance(parse_param("12"), int)
    assert parse_param("0.25") == 0.25
    assert parse_param("distance") == "distance"
    assert parse_param("True") is True and parse_param("None") is None


def test_a_run_that_does_not_exist(ensemble_store, tuned_housing):
    context = read_tune_run(tuned_housing.tune_run_id)
    trial = _trials(tuned_housing.tune_run_id)[0].info.run_id
    missing = "0123456789abcdef0123456789abcdef"
    assert _error(lambda: select_members(context, runs=[trial, missing])) == msg.RUN_NOT_FOUND.format(
        run_id=missing, uri=mlflow.get_tracking_uri()
    )
    assert _error(lambda: build_and_compare(missing, method="mean")) == msg.TUNE_RUN_NOT_FOUND.format(
        run_id=missing, uri=mlflow.get_tracking_uri()
    )


def test_a_run_of_another_task(ensemble_store, tuned_housing, classified_adult):
    context = read_tune_run(tuned_housing.tune_run_id)
    housing_trial = _trials(tuned_housing.tune_run_id)[0].info.run_id
    adult_trial = _trials(classified_adult.tune_run_id)[0].info.run_id
    assert _error(lambda: select_members(context, runs=[housing_trial, adult_trial])) == msg.WRONG_TASK.format(
        run_id=adult_trial, other="classification", tune_run_id=tuned_housing.tune_run_id, task="regression"
    )


def test_a_run_on_other_feature_columns(ensemble_store, tuned_housing, tuned_fewer_columns):
    context = read_tune_run(tuned_housing.tune_run_id)
    housing_trial = _trials(tuned_housing.tune_run_id)[0].info.run_id
    narrow_trial = _trials(tuned_fewer_columns.tune_run_id)[0].info.run_id
    assert _error(lambda: select_members(context, runs=[housing_trial, narrow_trial])) == msg.DIFFERENT_FEATURES.format(
        run_id=narrow_trial,
        theirs=["median_income", "housing_median_age", "total_rooms"],
        ours=list(context.features),
        tune_run_id=tuned_housing.tune_run_id,
    )


def test_runs_that_are_not_trials_or_tunings(ensemble_store, tuned_housing):
    context = read_tune_run(tuned_housing.tune_run_id)
    trial = _trials(tuned_housing.tune_run_id)[0].info.run_id
    data_run = tuned_housing.data_run_id
    assert _error(lambda: select_members(context, runs=[trial, data_run])) == msg.NOT_A_TRIAL.format(run_id=data_run)
    assert _error(lambda: read_tune_run(trial)) == msg.NOT_A_TUNE_RUN.format(run_id=trial)
    assert _error(lambda: select_members(context, runs=[trial, trial])) == msg.DUPLICATE_RUN.format(run_id=trial)
    assert _error(lambda: select_members(context, runs=[trial])) == msg.TOO_FEW_MEMBERS.format(n=1, members=trial)


def test_a_tune_run_without_data_run(ensemble_store, tuned_housing):
    with mlflow.start_run() as bare:
        pass
    client = mlflow.MlflowClient()
    document = client.download_artifacts(tuned_housing.tune_run_id, names.ARTIFACT_BEST_PARAMS)
    client.log_artifact(bare.info.run_id, document, names.ARTIFACT_TUNING_DIR)
    assert _error(lambda: read_tune_run(bare.info.run_id)) == msg.NO_DATA_RUN.format(run_id=bare.info.run_id)
    assert read_tune_run(bare.info.run_id, data_run_id=tuned_housing.data_run_id).task == "regression"


def test_a_pruned_or_failed_trial(ensemble_store, tuned_housing):
    context = read_tune_run(tuned_housing.tune_run_id)
    trials = _trials(tuned_housing.tune_run_id)
    client = mlflow.MlflowClient()
    with mlflow.start_run(
        tags={names.MLFLOW_PARENT_RUN_ID: tuned_housing.tune_run_id, names.TAG_TRIAL_STATE: "PRUNED"}
    ) as pruned:
        mlflow.log_params({"family": "knn", "n_neighbors": 5, "trial_number": 99})
    client.set_terminated(pruned.info.run_id, status="KILLED")
    assert _error(lambda: select_members(context, runs=[trials[0].info.run_id, pruned.info.run_id])) == (
        msg.TRIAL_NOT_COMPLETE.format(run_id=pruned.info.run_id, state="PRUNED")
    )


def test_selection_and_option_errors(ensemble_store, tuned_housing):
    context = read_tune_run(tuned_housing.tune_run_id)
    trial = _trials(tuned_housing.tune_run_id)[0].info.run_id
    assert _error(lambda: select_members(context, runs=[trial], best_n=2)) == msg.SELECTION.format(given="runs, best_n")
    assert _error(lambda: select_members(context)) == msg.SELECTION.format(given="none")
    assert _error(lambda: select_members(context, best_n=1)) == msg.BAD_BEST_N.format(value=1)
    assert _error(lambda: select_members(context, best_n=50)) == msg.NOT_ENOUGH_TRIALS.format(
        n=50, run_id=tuned_housing.tune_run_id, have=len({
            (r.data.params["family"], tuple(sorted(r.data.params.items())[:-1]))
            for r in _trials(tuned_housing.tune_run_id) if r.data.tags[names.TAG_TRIAL_STATE] == "COMPLETE"
        })
    )
    assert _error(lambda: build_and_compare(tuned_housing.tune_run_id, method="vote")) == msg.BAD_METHOD.format(
        valid="mean, weighted, stacking, greedy", method="vote"
    )
    assert _error(lambda: build_and_compare(tuned_housing.tune_run_id, method="greedi")) == msg.BAD_METHOD.format(
        valid="mean, weighted, stacking, greedy", method="greedi"
    ) + "; did you mean 'greedy'?"
    assert _error(lambda: build_and_compare(tuned_housing.tune_run_id, confidence=1.5)) == (
        "confidence must be a number above 0 and below 1, got 1.5"
    )
    assert _error(lambda: build_and_compare(tuned_housing.tune_run_id, n_resamples=10)) == (
        "n_resamples must be an integer >= 100, got 10"
    )
    assert _error(lambda: build_and_compare(tuned_housing.tune_run_id, n_iterations=0)) == (
        "n_iterations (greedy selection steps) must be an integer >= 1, got 0"
    )


def test_a_trial_of_a_tuning_without_data_run(ensemble_store, tuned_housing):
    context = read_tune_run(tuned_housing.tune_run_id)
    trial = _trials(tuned_housing.tune_run_id)[0].info.run_id
    with mlflow.start_run() as parent:
        pass
    with mlflow.start_run(
        tags={names.MLFLOW_PARENT_RUN_ID: parent.info.run_id, names.TAG_TRIAL_STATE: "COMPLETE"}
    ) as orphan:
        mlflow.log_params({"family": "ridge", "alpha": 1.0, "trial_number": 0})
    assert _error(lambda: select_members(context, runs=[trial, orphan.info.run_id])) == msg.UNKNOWN_DATA.format(
        run_id=orphan.info.run_id, parent=parent.info.run_id
    )
