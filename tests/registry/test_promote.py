"""register_candidate → promote → reject → force → rollback, on the embedded SQLite store."""

from __future__ import annotations

import json

import mlflow
import pytest

from mlflow_steward import names
from mlflow_steward.exceptions import StewardRegistryError
from mlflow_steward.registry import full_history, promote, rollback, status
from mlflow_steward.registry import _messages as msg

MODEL = "housing"


def _client():
    return mlflow.MlflowClient()


def _gate_run(decision):
    return _client().get_run(decision.gate_run_id)


def test_register_candidate_records_where_it_came_from(register, aliases):
    mv = register("linear")
    assert str(mv.version) == "1"
    tags = mv.tags
    assert tags[names.TAG_TASK] == "regression" and tags[names.TAG_TARGET] == "median_house_value"
    assert tags[names.TAG_TEST_DATA_URI].startswith("runs:/")
    assert tags[names.TAG_DATASET_VERSION] == "dddddddddddd" and tags[names.TAG_CODE_VERSION] == "test"
    assert json.loads(tags[names.TAG_SPEC])["categorical"] == ["ocean_proximity"]
    assert tags[names.TAG_TRAIN_RUN] == mv.run_id
    rmse = tags[names.metric_tag("rmse")]
    assert rmse.count("[") == 1 and rmse.count(",") >= 3  # "68,123 [64,716, 71,529]"
    assert not any("slice/" in k for k in tags)  # slice metrics stay on the run
    assert aliases() == {"staging": "1"}
    assert mv.current_stage == "Staging"
    assert "steward: candidate" in mv.description and "| rmse |" in mv.description


def test_metric_tag_format():
    from mlflow_steward.registry import metric_tags

    tags = metric_tags({"rmse": 49100.2, "rmse_ci_low": 48200, "rmse_ci_high": 50100, "r2": 0.81234, "n/x": 1})
    assert tags == {"steward.metric.rmse": "49,100 [48,200, 50,100]", "steward.metric.r2": "0.8123"}


def test_lifecycle_first_better_worse_forced_rollback(register, aliases, fast_gate):
    # v1: the first candidate meets the absolute threshold (r2 lower bound >= 0) and becomes production
    register("linear")
    first = promote(MODEL, 1, config=fast_gate)
    assert first.passed and first.promoted and first.champion_version is None
    assert [c.name for c in first.checks] == ["thresholds", "unseen rows"]
    assert first.checks[1].detail == (
        "scored on the 600 of 600 test rows that neither model was trained on "
        "(0 in the training set of version 1)"
    )
    assert aliases() == {"production": "1"}  # staging cleared: it pointed at the promoted version
    v1 = _client().get_model_version(MODEL, "1")
    assert v1.tags[names.TAG_GATE] == "passed" and v1.current_stage == "Production"
    assert "steward gate: ✅ PASSED" in v1.description and "absolute thresholds" in v1.description
    run = _gate_run(first)
    assert run.data.tags[names.TAG_STEP] == names.STEP_GATE and run.info.status == "FINISHED"
    decision = json.loads(mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/{names.ARTIFACT_GATE_DECISION}"))
    assert decision["verdict"] == "passed" and decision["promoted"] is True

    # v2: a random forest, clearly better on the same test set, passes the gate
    register("forest")
    second = promote(MODEL, "2", config=fast_gate)
    assert second.passed and second.promoted and second.champion_version == "1"
    assert {c.name for c in second.checks} == {"overall", "slices", "signature", "unseen rows"}
    overall = second.overall
    assert overall.difference.high < 0 and overall.challenger < overall.champion
    assert {r.column for r in second.slices} == {"ocean_proximity", "median_income"}
    assert aliases() == {"production": "2"}
    assert _client().get_model_version(MODEL, "1").current_stage == "Archived"
    run = _gate_run(second)
    assert run.data.metrics["difference/rmse_ci_high"] < 0
    assert run.data.tags[names.TAG_CHAMPION_VERSION] == "1"
    artifacts = {a.path for a in _client().list_artifacts(run.info.run_id, "gate")}
    assert {names.ARTIFACT_GATE_DECISION, names.ARTIFACT_GATE_HISTORY, names.ARTIFACT_GATE_FOREST} <= artifacts

    # v3: trained on a shuffled target; rejected with its reason in the description
    register("shuffled")
    third = promote(MODEL, 3, config=fast_gate)
    assert not third.passed and not third.promoted and third.verdict == "rejected"
    assert "overall rmse difference" in third.reasons[0] and "is beyond" in third.reasons[0]
    assert aliases() == {"production": "2", "staging": "3"}
    v3 = _client().get_model_version(MODEL, "3")
    assert v3.tags[names.TAG_GATE] == "rejected" and third.reasons[0] in v3.tags[names.TAG_GATE_REASON]
    assert "❌ REJECTED" in v3.description and "is beyond" in v3.description
    assert "steward: candidate" in v3.description  # the registration section is kept
    assert len(full_history(_client(), MODEL)) == 2

    # forcing v3 promotes it anyway and says so everywhere
    forced = promote(MODEL, 3, config=fast_gate, force=True, reason="incident 42: need the new features")
    assert forced.forced and forced.promoted and not forced.passed and forced.verdict == "forced"
    v3 = _client().get_model_version(MODEL, "3")
    assert v3.tags[names.TAG_GATE] == "forced" and "incident 42" in v3.tags[names.TAG_FORCED]
    assert "⚠️ FORCED" in v3.description and "would have **rejected**" in v3.description
    assert v3.description.count("steward gate:") == 1  # the gate section was replaced, not appended
    assert aliases() == {"production": "3"}

    # rollback goes to the version production had before v3: 2
    back = rollback(MODEL, reason="v3 is broken")
    assert (back.from_version, back.to_version) == ("3", "2") and aliases()["production"] == "2"
    assert _client().get_model_version(MODEL, "2").current_stage == "Production"
    assert _client().get_model_version(MODEL, "3").current_stage == "Archived"
    # to= an earlier version
    back = rollback(MODEL, to=1, reason="back to basics")
    assert back.to_version == "1" and aliases()["production"] == "1"
    # v1 was the first production model: nothing further back
    with pytest.raises(StewardRegistryError) as err:
        rollback(MODEL, reason="again")
    assert str(err.value) == msg.NOTHING_TO_ROLL_BACK.format(name=MODEL, why=msg.WHY_FIRST.format(version="1"))

    history = full_history(_client(), MODEL)
    assert [(e.action, e.from_version, e.to_version) for e in history] == [
        ("promote", None, "1"), ("promote", "1", "2"), ("force", "2", "3"),
        ("rollback", "3", "2"), ("rollback", "2", "1"),
    ]
    assert history[2].reason == "incident 42: need the new features" and history[3].reason == "v3 is broken"
    assert all(e.by and e.at and e.run_id for e in history)
    rollback_run = _client().get_run(history[3].run_id)
    assert rollback_run.data.tags[names.TAG_STEP] == names.STEP_ROLLBACK

    report = status(MODEL)
    assert report.production == "1" and [v.version for v in report.versions] == ["3", "2", "1"]
    assert [v.gate for v in report.versions] == ["forced", "passed", "passed"]
    assert "rmse" in report.versions[0].metrics and report.notes == ()
    assert len(report.history) == 5 and report.lock is None
    assert list(report.frame()["version"]) == ["3", "2", "1"]
    # old versions are never deleted
    assert len(_client().search_model_versions(f"name='{MODEL}'")) == 3


def test_gate_scores_steward_pyfunc_models_without_capturing(
    mlflow_store, housing_split, housing_models, aliases, fast_gate, tmp_path, monkeypatch
):
    """Versions logged by ``serving.log_pipeline_model`` (a pyfunc wrapper) are gated on their
    fitted pipeline: same predictions, and the gate's scoring is not recorded as inference traffic."""
    from mlflow_steward.registry import register_candidate
    from mlflow_steward.serving import log_pipeline_model

    capture = tmp_path / "capture.sqlite"
    monkeypatch.setenv("STEWARD_CAPTURE_PATH", str(capture))
    test = housing_split.test
    features = [c for c in test.columns if c != "median_house_value"]
    for key in ("linear", "forest"):
        with mlflow.start_run() as run:
            packaged = log_pipeline_model(housing_models[key], input_example=test[features].head(5))
            test.to_parquet("test.parquet")
            mlflow.log_artifact("test.parquet", "data")
            housing_split.train.to_parquet("train.parquet")  # the clean step's layout: recorded
            mlflow.log_artifact("train.parquet", "data")
        register_candidate(
            MODEL, packaged.model_uri, run_id=run.info.run_id, spec_json=housing_split.spec_json(),
            test_data_uri=f"runs:/{run.info.run_id}/data/test.parquet", dataset_digest="", dataset_version="",
            metrics={}, code_version="", task="regression",
        )
    from mlflow_steward.registry._scoring import load_version

    loaded = load_version(mlflow.MlflowClient(), MODEL, "1")
    assert type(loaded.model).__name__ == "Pipeline"  # unwrapped from the pyfunc
    assert ("ocean_proximity", "categorical") in loaded.signature_inputs  # from steward_features
    assert ("median_income", "numeric") in loaded.signature_inputs
    assert promote(MODEL, 1, config=fast_gate).promoted
    second = promote(MODEL, 2, config=fast_gate)
    assert second.promoted and second.overall.difference.high < 0
    assert aliases() == {"production": "2"}
    if capture.exists():
        import sqlite3

        with sqlite3.connect(capture) as conn:
            tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
            for table in tables:
                assert conn.execute(f"select count(*) from {table}").fetchone()[0] == 0, table


def test_gate_run_nests_under_the_callers_run(with_production, fast_gate):
    with mlflow.start_run() as parent:
        decision = promote(MODEL, 2, config=fast_gate)
    gate = _client().get_run(decision.gate_run_id)
    assert gate.data.tags[names.MLFLOW_PARENT_RUN_ID] == parent.info.run_id
    assert _client().get_run(parent.info.run_id).data.metrics == {}  # nothing logged into the caller's run
