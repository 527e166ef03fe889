"""Every failure path leaves the aliases (and the lock) as they were."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import mlflow
import pytest

from mlflow_steward import names
from mlflow_steward.exceptions import (
    StewardGateError,
    StewardInputError,
    StewardLockError,
    StewardRegistryError,
)
from mlflow_steward.registry import full_history, promote, read_lock, rollback, status
from mlflow_steward.registry import _messages as msg

MODEL = "housing"


def _client():
    return mlflow.MlflowClient()


def _unchanged(aliases):
    assert aliases() == {"production": "1", "staging": "2"}
    assert read_lock(_client(), MODEL) is None
    assert [e.to_version for e in full_history(_client(), MODEL)] == ["1"]


def test_unknown_model_and_version(mlflow_store, register):
    with pytest.raises(StewardRegistryError) as err:
        promote("nope", 1)
    assert str(err.value) == msg.UNKNOWN_MODEL.format(name="nope")
    register("linear")
    for version in (9, "abc", "-1"):
        with pytest.raises(StewardRegistryError) as err:
            promote(MODEL, version)
        assert str(err.value) == msg.UNKNOWN_VERSION.format(name=MODEL, version=str(version))
    with pytest.raises(StewardRegistryError) as err:
        rollback("nope", reason="x")
    assert str(err.value) == msg.UNKNOWN_MODEL.format(name="nope")
    with pytest.raises(StewardRegistryError) as err:
        status("nope")
    assert str(err.value) == msg.UNKNOWN_MODEL.format(name="nope")
    with pytest.raises(StewardInputError) as err:
        promote("", 1)
    assert str(err.value) == msg.BAD_MODEL_NAME.format(name="")


def test_already_production(with_production, fast_gate):
    with pytest.raises(StewardRegistryError) as err:
        promote(MODEL, 1, config=fast_gate)
    assert str(err.value) == msg.ALREADY_PRODUCTION.format(version="1", name=MODEL)


def test_version_without_records_needs_data(with_production, housing_split, aliases, tmp_path, fast_gate):
    client = _client()
    source = client.get_model_version(MODEL, "2").source
    bare = client.create_model_version(MODEL, source)  # registered outside steward: no tags
    with pytest.raises(StewardInputError) as err:
        promote(MODEL, bare.version, config=fast_gate)
    assert str(err.value) == msg.NO_TEST_DATA.format(version=bare.version, name=MODEL, tag=names.TAG_TEST_DATA_URI)
    data = tmp_path / "test.csv"
    housing_split.test.to_csv(data, index=False)
    with pytest.raises(StewardInputError) as err:
        promote(MODEL, bare.version, data=data, config=fast_gate)
    assert str(err.value) == msg.NO_SPEC.format(version=bare.version, name=MODEL, tag=names.TAG_SPEC)
    assert aliases() == {"production": "1", "staging": "2"}
    # with a test set and a spec, it is gated like any other version
    decision = promote(MODEL, bare.version, data=data, spec=housing_split.spec_json(), config=fast_gate)
    assert decision.promoted and aliases()["production"] == str(bare.version)
    assert decision.test_source.endswith("test.csv")


def test_bad_config_changes_nothing(with_production, aliases):
    with pytest.raises(StewardInputError, match="'margn'"):
        promote(MODEL, 2, config={"margn": 0.1})
    with pytest.raises(StewardInputError) as err:
        promote(MODEL, 2, config={"metric": "roc_auc", "n_resamples": 500})
    assert str(err.value) == msg.CONFIG_METRIC_TASK.format(
        key="metric", metric="roc_auc", task="regression", expected="rmse, mae, r2, mape"
    )
    _unchanged(aliases)


def test_different_signature_is_rejected_with_reason(with_production, register, aliases, fast_gate):
    register("narrow")  # v3: trained without total_bedrooms
    decision = promote(MODEL, 3, config=fast_gate)
    assert not decision.promoted and decision.verdict == "rejected"
    (check,) = decision.checks
    assert check.name == "signature" and not check.passed
    assert "missing columns total_bedrooms" in check.detail
    description = _client().get_model_version(MODEL, "3").description
    assert "missing columns total_bedrooms" in description and "REJECTED" in description
    assert aliases() == {"production": "1", "staging": "3"}
    assert read_lock(_client(), MODEL) is None


def test_scoring_error_writes_nothing(with_production, aliases, monkeypatch, fast_gate):
    def broken(*args, **kwargs):
        raise StewardGateError("injected scoring failure")

    monkeypatch.setattr("mlflow_steward.registry._evaluate.compare", broken)
    with pytest.raises(StewardGateError, match="injected scoring failure"):
        promote(MODEL, 2, config=fast_gate)
    _unchanged(aliases)
    assert names.TAG_GATE not in _client().get_model_version(MODEL, "2").tags


def test_force_promotes_even_when_scoring_fails(with_production, aliases, monkeypatch, fast_gate):
    def broken(*args, **kwargs):
        raise StewardGateError("injected scoring failure")

    monkeypatch.setattr("mlflow_steward.registry._evaluate.compare", broken)
    decision = promote(MODEL, 2, config=fast_gate, force=True, reason="hotfix")
    assert decision.promoted and decision.verdict == "forced" and not decision.passed
    assert decision.checks[0].name == "scoring" and "injected scoring failure" in decision.checks[0].detail
    assert aliases()["production"] == "2"
    assert full_history(_client(), MODEL)[-1].action == "force"


def test_model_that_cannot_predict_is_a_gate_error(with_production, aliases, monkeypatch, fast_gate):
    from mlflow_steward.registry._scoring import LoadedModel

    real = LoadedModel.predictions

    def failing(self, X, **kwargs):
        if self.version == "2":
            raise StewardGateError(msg.PREDICT_FAILED.format(version="2", name=MODEL, error="boom"))
        return real(self, X, **kwargs)

    monkeypatch.setattr(LoadedModel, "predictions", failing)
    with pytest.raises(StewardGateError) as err:
        promote(MODEL, 2, config=fast_gate)
    assert str(err.value) == msg.PREDICT_FAILED.format(version="2", name=MODEL, error="boom")
    _unchanged(aliases)


@pytest.mark.parametrize(
    "target",
    [
        "mlflow_steward.registry._promote._write_version_records",  # description/tags write
        "mlflow_steward.registry._promote.write_history",  # history write
        "mlflow_steward.registry._promote.set_alias",  # the alias write itself
    ],
)
def test_error_half_way_leaves_production_serving(with_production, aliases, monkeypatch, target, fast_gate):
    def explode(*args, **kwargs):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(target, explode)
    with pytest.raises(RuntimeError, match="injected failure"):
        promote(MODEL, 2, config=fast_gate)
    assert aliases()["production"] == "1"
    assert read_lock(_client(), MODEL) is None  # released in finally
    gate_runs = _client().search_runs(
        [mlflow.get_experiment_by_name("test").experiment_id],
        filter_string=f"tags.`{names.TAG_STEP}` = 'gate' and tags.`{names.TAG_MODEL_VERSION}` = '2'",
    )
    assert [r.info.status for r in gate_runs] == ["FAILED"]


def test_production_moved_while_scoring(with_production, register, aliases, monkeypatch, fast_gate):
    from mlflow_steward.registry import _promote

    register("forest2")  # v3
    real = _promote.evaluate_gate

    def racing(*args, **kwargs):
        decision = real(*args, **kwargs)
        _client().set_registered_model_alias(MODEL, "production", "3")  # someone else, meanwhile
        return decision

    monkeypatch.setattr(_promote, "evaluate_gate", racing)
    with pytest.raises(StewardRegistryError) as err:
        promote(MODEL, 2, config=fast_gate)
    assert str(err.value) == msg.PRODUCTION_CHANGED.format(
        name=MODEL, before="version 1", after="version 3", action="gating version 2"
    )
    assert aliases()["production"] == "3"  # not overwritten by us
    assert [e.to_version for e in full_history(_client(), MODEL)] == ["1"]
    assert names.TAG_GATE not in _client().get_model_version(MODEL, "2").tags


def test_lock_held_by_another_owner(with_production, aliases, fast_gate):
    now = time.time()
    foreign = {"token": "a" * 32, "owner": "bob@ci-7 pid 4242", "purpose": "promote version 5",
               "acquired": now, "expires": now + 600}
    _client().set_registered_model_tag(MODEL, names.TAG_LOCK, json.dumps(foreign))
    with pytest.raises(StewardLockError) as err:
        promote(MODEL, 2, config=fast_gate, lock_wait=0)
    info = read_lock(_client(), MODEL)
    assert str(err.value) == msg.LOCK_HELD.format(
        name=MODEL, owner="bob@ci-7 pid 4242", expires=info.expires_text(), purpose="promote version 5"
    )
    assert info.token == "a" * 32  # the other owner's lock is untouched
    assert aliases() == {"production": "1", "staging": "2"}


def test_stale_lock_is_taken_over(with_production, aliases, fast_gate):
    now = time.time()
    stale = {"token": "b" * 32, "owner": "crashed@host pid 1", "purpose": "promote version 9",
             "acquired": now - 1000, "expires": now - 880}
    _client().set_registered_model_tag(MODEL, names.TAG_LOCK, json.dumps(stale))
    assert "lock stale (its lease expired at" in status(MODEL).notes[0]
    decision = promote(MODEL, 2, config=fast_gate, lock_wait=0)
    assert decision.promoted and aliases()["production"] == "2"
    assert read_lock(_client(), MODEL) is None
    broken = full_history(_client(), MODEL)[-2]  # recorded, then the promotion itself
    assert broken.action == "break lock" and broken.run_id == decision.gate_run_id
    assert broken.reason.startswith("took over the lock of crashed@host pid 1 (promote version 9): its lease expired at")
    assert (broken.from_version, broken.to_version) == ("1", "1")  # production at the time


def test_rollback_errors(with_production, aliases):
    with pytest.raises(StewardInputError) as err:
        rollback(MODEL, reason="  ")
    assert str(err.value) == msg.EMPTY_REASON.format(name=MODEL)
    with pytest.raises(StewardRegistryError) as err:
        rollback(MODEL, to=2, reason="x")
    assert str(err.value) == msg.NOT_EARLIER.format(name=MODEL, to="2", current="1")
    with pytest.raises(StewardRegistryError) as err:
        rollback(MODEL, to=7, reason="x")
    assert str(err.value) == msg.UNKNOWN_VERSION.format(name=MODEL, version="7")
    _client().delete_registered_model_alias(MODEL, "production")
    with pytest.raises(StewardRegistryError) as err:
        rollback(MODEL, reason="x")
    assert str(err.value) == msg.NOTHING_TO_ROLL_BACK.format(name=MODEL, why=msg.WHY_NO_PRODUCTION)
    _client().set_registered_model_alias(MODEL, "production", "2")  # moved outside steward
    with pytest.raises(StewardRegistryError) as err:
        rollback(MODEL, reason="x")
    why = msg.WHY_NOT_RECORDED.format(version="2", tag=names.TAG_HISTORY)
    assert str(err.value) == msg.NOTHING_TO_ROLL_BACK.format(name=MODEL, why=why)
    assert any("does not match production" in n for n in status(MODEL).notes)


_KILLED = textwrap.dedent(
    """
    import os, sys
    from mlflow_steward.registry import _promote
    def killed(*args, **kwargs):
        os._exit(9)  # like SIGKILL: no finally, no lock release
    _promote.set_alias = killed
    _promote.promote("housing", 2, config={"n_resamples": 500, "slice_columns": ["ocean_proximity"]},
                     lock_ttl=2.0)
    """
)


@pytest.mark.e2e
def test_killed_promotion_leaves_previous_production_serving(with_production, aliases, fast_gate):
    proc = subprocess.run([sys.executable, "-c", _KILLED], env=dict(os.environ), timeout=120,
                          capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr[-2000:]
    assert aliases()["production"] == "1"  # the kill came right before the alias write
    assert read_lock(_client(), MODEL) is not None  # left behind by the killed process
    report = status(MODEL)
    assert any(n.startswith("never took effect: history #2 promote 1 -> 2") for n in report.notes)
    assert [e.to_version for e in report.history] == ["1"]
    decision = promote(MODEL, 2, config=fast_gate, lock_wait=0)  # the dead owner's lock is broken
    assert decision.promoted and aliases()["production"] == "2"
    assert read_lock(_client(), MODEL) is None
