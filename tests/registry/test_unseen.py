"""The gate scores only test rows neither model was trained on (issue 12, defect 2): the records,
the fallbacks for versions registered without them, and the refusal when too few rows remain."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from mlflow_steward import names
from mlflow_steward.exceptions import StewardGateError, StewardInputError
from mlflow_steward.registry import _messages as msg
from mlflow_steward.registry import promote, register_candidate
from mlflow_steward.registry._unseen import FROM_DATA_RUN, RECORDED, row_keys, training_rows


MODEL = "housing"
TARGET = "median_house_value"


def _client():
    return mlflow.MlflowClient()


def _rmse(model, frame) -> float:
    features = [c for c in frame.columns if c != TARGET]
    return float(np.sqrt(np.mean((frame[TARGET].to_numpy() - model.predict(frame[features])) ** 2)))


def _gate_runs(version: str) -> list:
    experiment = mlflow.get_experiment_by_name("test").experiment_id
    return _client().search_runs(
        [experiment], filter_string=f"tags.`{names.TAG_STEP}` = 'gate' and tags.`{names.TAG_MODEL_VERSION}` = '{version}'"
    )


def test_rows_in_the_champions_training_set_are_not_scored(with_production, register_split, housing_split, housing_models, fast_gate):
    # v3's test set: 300 rows v1 (production) was trained on, then the 600 real test rows
    leaked = housing_split.train.iloc[:300]
    mixed = pd.concat([leaked, housing_split.test], ignore_index=True)
    register_split("forest2", train=housing_split.train.iloc[300:], test=mixed)
    decision = promote(MODEL, 3, config=fast_gate)
    assert decision.n_rows == 600
    check = next(c for c in decision.checks if c.name == "unseen rows")
    assert check.passed and check.detail == (
        "scored on the 600 of 900 test rows that neither model was trained on "
        "(0 in the training set of version 3; 300 in the training set of version 1)"
    )
    champion = _rmse(housing_models["linear"], housing_split.test)
    assert decision.overall.champion == pytest.approx(champion, rel=1e-9)  # v1's honest RMSE


def test_too_few_unseen_rows_refuse_and_write_nothing(with_production, register_split, housing_split, aliases, fast_gate):
    mixed = pd.concat([housing_split.train.iloc[:400], housing_split.test.iloc[:50]], ignore_index=True)
    mv = register_split("forest2", train=housing_split.train.iloc[400:], test=mixed)
    with pytest.raises(StewardGateError) as err:
        promote(MODEL, 3, config=fast_gate)
    assert str(err.value) == msg.TOO_FEW_UNSEEN.format(
        unseen=50, total=450, source=mv.tags[names.TAG_TEST_DATA_URI], models="version 3 or version 1",
        name=MODEL, detail="0 in the training set of version 3; 400 in the training set of version 1", minimum=100,
    )
    assert aliases() == {"production": "1", "staging": "3"}
    assert names.TAG_GATE not in _client().get_model_version(MODEL, "3").tags and _gate_runs("3") == []
    # a lower minimum lets the gate decide on those 50 rows
    decision = promote(MODEL, 3, config={**fast_gate, "min_unseen_rows": 40})
    assert decision.n_rows == 50


def test_too_few_unseen_rows_can_be_forced(with_production, register_split, housing_split, aliases, fast_gate):
    mixed = pd.concat([housing_split.train.iloc[:400], housing_split.test.iloc[:50]], ignore_index=True)
    register_split("forest2", train=housing_split.train.iloc[400:], test=mixed)
    decision = promote(MODEL, 3, config=fast_gate, force=True, reason="hotfix")
    assert decision.promoted and decision.forced and decision.checks[0].name == "scoring"
    assert "only 50 of the 450 test rows" in decision.checks[0].detail
    assert aliases()["production"] == "3"


def test_version_without_a_record_is_refused_unless_it_vouches(with_production, register_split, housing_split, aliases, fast_gate, tmp_path):
    """A champion registered like the previous release (no training rows recorded, its own test set
    file) against a challenger with another test set: the gate cannot know what v1 saw."""
    client = _client()
    client.delete_model_version_tag(MODEL, "1", names.TAG_TRAIN_DATA_URI)
    register_split("forest2")  # v3, another test-set URI
    with pytest.raises(StewardGateError) as err:
        promote(MODEL, 3, config=fast_gate)
    source = client.get_model_version(MODEL, "3").tags[names.TAG_TEST_DATA_URI]
    assert str(err.value) == msg.TRAINING_ROWS_UNKNOWN.format(
        version="1", name=MODEL, tag=names.TAG_TRAIN_DATA_URI, artifact=names.ARTIFACT_TRAIN_DATA, source=source
    )
    assert aliases() == {"production": "1", "staging": "3"}
    # a test set passed explicitly is the caller's word that neither model trained on it
    data = tmp_path / "holdout.csv"
    housing_split.test.to_csv(data, index=False)
    decision = promote(MODEL, 3, data=data, config=fast_gate)
    detail = next(c for c in decision.checks if c.name == "unseen rows").detail
    assert "version 1: training rows unknown, trusted on the test set passed in" in detail
    assert "0 in the training set of version 3" in detail and decision.n_rows == 600


def test_version_without_a_record_is_trusted_on_its_own_test_set(mlflow_store, register_split, fast_gate):
    mv = register_split("linear", record_training=False)
    assert names.TAG_TRAIN_DATA_URI not in mv.tags  # its test set is not the clean step's layout
    decision = promote(MODEL, 1, config=fast_gate)
    detail = next(c for c in decision.checks if c.name == "unseen rows").detail
    assert decision.promoted and "version 1: training rows unknown, trusted on its own recorded test set" in detail


def test_fallback_to_the_training_runs_data_run(mlflow_store, register_split, housing_split):
    """Versions of the previous release made by `steward run`: the training run names its data run."""
    client = _client()
    with mlflow.start_run() as data_run:
        housing_split.train.to_parquet("train.parquet")
        mlflow.log_artifact("train.parquet", "data")
    mv = register_split("linear", record_training=False)
    client.set_tag(mv.run_id, names.TAG_DATA_RUN, data_run.info.run_id)
    rows = training_rows(client, client.get_model_version(MODEL, mv.version))
    assert rows.how == FROM_DATA_RUN and rows.source == f"runs:/{data_run.info.run_id}/{names.ARTIFACT_TRAIN_DATA}"
    recorded = training_rows(client, register_split("forest"))
    assert recorded.how == RECORDED


def test_register_with_a_missing_training_set_registers_nothing(mlflow_store, housing_split):
    with mlflow.start_run() as run:
        pass
    uri = f"runs:/{run.info.run_id}/data/train.parquet"
    with pytest.raises(StewardInputError) as err:
        register_candidate(
            MODEL, "runs:/nope/model", run_id=run.info.run_id, spec_json=housing_split.spec_json(),
            test_data_uri="runs:/x/data/test.parquet", dataset_digest="", dataset_version="", metrics={},
            code_version="", task="regression", train_data_uri=uri,
        )
    assert str(err.value) == msg.TRAIN_DATA_MISSING.format(uri=uri, run_id=run.info.run_id, path="data/train.parquet")
    assert _client().search_registered_models() == []


def test_row_keys_ignore_how_a_file_typed_the_values():
    a = pd.DataFrame({"x": [1, 2, None], "c": ["u", "v", None], "y": [1.5, 2.0, 3.0]})
    b = pd.DataFrame({"x": pd.array([1, 2, None], dtype="Int64"), "c": pd.Categorical(["u", "v", None]),
                      "y": [1.5, 2.0, 3.0]})
    assert (row_keys(a, ["x", "c", "y"]) == row_keys(b, ["x", "c", "y"])).all()
    c = a.assign(y=[1.5, 2.0, 3.5])
    assert (row_keys(a, ["x", "c", "y"]) == row_keys(c, ["x", "c", "y"])).tolist() == [True, True, False]
