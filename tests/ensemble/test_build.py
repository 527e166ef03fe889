"""build_and_compare on a small tuned housing sample: the run, its records, the logged model."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from mlflow_steward import names
from mlflow_steward.ensemble import EnsembleRegressor, build_and_compare, read_tune_run, select_members
from mlflow_steward.ensemble._oof import SOURCE_RECOMPUTED, SOURCE_TUNING, load_training_data, members_oof
from mlflow_steward.steps import STEP_PARAM_PREFIX


def _artifact(run_id: str, path: str) -> Path:
    return Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path))


def test_the_run_names_members_and_method(ensemble_store, tuned_housing, stacked_housing):
    outcome = stacked_housing
    run = mlflow.get_run(outcome.run_id)
    tags, params, metrics = run.data.tags, run.data.params, run.data.metrics
    assert tags[names.TAG_STEP] == names.STEP_ENSEMBLE
    assert tags[names.TAG_ENSEMBLE_METHOD] == params[f"{STEP_PARAM_PREFIX}method"] == "stacking"
    assert params[f"{STEP_PARAM_PREFIX}tune_run_id"] == tuned_housing.tune_run_id
    assert tags[names.TAG_TUNE_RUN] == tuned_housing.tune_run_id
    assert tags[names.TAG_DATA_RUN] == tuned_housing.data_run_id
    assert tags[names.TAG_MODEL_URI] == outcome.model_uri
    assert tags[names.TAG_SERIALIZATION].startswith("skops")  # our estimator classes are trusted types
    members = json.loads(tags[names.TAG_ENSEMBLE_MEMBERS])
    assert members == outcome.members and set(members) == {"ridge", "knn", "random_forest"}
    for name, run_id in members.items():
        assert params[f"member.{name}.run_id"] == run_id
        assert params[f"member.{name}.family"] == name
    assert metrics["rmse_ci_low"] < metrics["rmse"] < metrics["rmse_ci_high"]
    assert metrics["rmse"] == pytest.approx(outcome.test_score)
    assert metrics["diff_rmse"] == pytest.approx(outcome.difference)
    assert metrics["beats_best_member"] == float(outcome.beats_best_member)
    assert outcome.beats_best_member == (outcome.difference_ci_high < 0)


def test_the_comparison_table_and_plot(ensemble_store, stacked_housing):
    outcome = stacked_housing
    frame = pd.read_csv(_artifact(outcome.run_id, names.ARTIFACT_ENSEMBLE_COMPARISON))
    assert list(frame["model"]) == [*outcome.members, "ensemble"]
    assert list(frame["kind"]) == ["member"] * len(outcome.members) + ["ensemble"]
    best = frame[frame["best_member"]]
    assert list(best["model"]) == [outcome.best_member]
    assert best["cv_rmse"].iloc[0] == frame.loc[frame.kind == "member", "cv_rmse"].min()
    ensemble = frame[frame.kind == "ensemble"].iloc[0]
    assert ensemble["test_rmse"] == pytest.approx(outcome.test_score)
    assert best["ensemble_minus_model_rmse"].iloc[0] == pytest.approx(outcome.difference)
    np.testing.assert_allclose(
        frame.loc[frame.kind == "member", "ensemble_minus_model_rmse"],
        ensemble["test_rmse"] - frame.loc[frame.kind == "member", "test_rmse"],
    )
    assert (frame["test_rmse_ci_low"] < frame["test_rmse"]).all()
    png = _artifact(outcome.run_id, names.ARTIFACT_ENSEMBLE_PLOT).read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    document = json.loads(_artifact(outcome.run_id, names.ARTIFACT_ENSEMBLE_MEMBERS).read_text())
    assert [m["name"] for m in document["members"]] == list(outcome.members)
    assert {m["oof_source"] for m in document["members"]} == {SOURCE_TUNING}


def test_loaded_model_predicts_like_the_in_memory_one(ensemble_store, tuned_housing, stacked_housing):
    context = read_tune_run(tuned_housing.tune_run_id)
    data = load_training_data(context)
    expected = stacked_housing.model.predict(data.X_test)
    loaded = mlflow.pyfunc.load_model(stacked_housing.model_uri)
    np.testing.assert_array_equal(np.asarray(loaded.predict(data.X_test)).ravel(), expected)
    assert isinstance(stacked_housing.model, EnsembleRegressor)


def test_same_request_reuses_the_finished_run(ensemble_store, tuned_housing, stacked_housing):
    again = build_and_compare(tuned_housing.tune_run_id, method="stacking", n_resamples=500, echo=lambda _: None)
    assert again.reused and again.run_id == stacked_housing.run_id and again.model is None
    assert again.to_dict() == {**stacked_housing.to_dict(), "reused": True}


def test_stored_oof_are_the_ones_recomputed_over_tunings_folds(ensemble_store, tuned_housing, monkeypatch):
    """The stored OOF columns and a recomputation over make_cv's folds agree: same folds."""
    from mlflow_steward.ensemble import _oof

    context = read_tune_run(tuned_housing.tune_run_id)
    members = select_members(context, per_family=True)
    data = load_training_data(context)
    stored = members_oof(context, data, members)
    monkeypatch.setattr(_oof, "_stored_frame", lambda context: None)
    recomputed = members_oof(context, data, members)
    assert set(stored.sources.values()) == {SOURCE_TUNING}
    assert set(recomputed.sources.values()) == {SOURCE_RECOMPUTED}
    np.testing.assert_allclose(stored.predictions, recomputed.predictions, rtol=1e-9)


def test_stored_oof_of_other_rows_are_rejected(ensemble_store, tuned_housing, monkeypatch):
    from mlflow_steward.ensemble import _messages as msg
    from mlflow_steward.ensemble import _oof
    from mlflow_steward.exceptions import StewardInputError

    context = read_tune_run(tuned_housing.tune_run_id)
    members = select_members(context, per_family=True)
    data = load_training_data(context)
    frame = _oof._stored_frame(context)
    shifted = frame.assign(fold=np.roll(frame["fold"].to_numpy(), 1))
    monkeypatch.setattr(_oof, "_stored_frame", lambda context: shifted)
    with pytest.raises(StewardInputError) as info:
        members_oof(context, data, members)
    assert str(info.value) == msg.OOF_MISALIGNED.format(
        run_id=context.run_id, data_run_id=context.data_run_id, what="the fold column differs from the tuning's folds"
    )
    monkeypatch.setattr(_oof, "_stored_frame", lambda context: frame.head(10))
    with pytest.raises(StewardInputError) as info:
        members_oof(context, data, members)
    assert str(info.value) == msg.OOF_MISALIGNED.format(
        run_id=context.run_id, data_run_id=context.data_run_id, what=f"10 rows, the training split has {len(data.y_train)}"
    )
