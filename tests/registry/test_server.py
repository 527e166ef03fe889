"""The same registry flow against a real ``mlflow server`` over HTTP (SQLite backend, proxied artifacts)."""

from __future__ import annotations

import json

import mlflow
import pytest

from mlflow_steward import names
from mlflow_steward.registry import RegistryLock, promote, read_lock, rollback, status

GATE = {"n_resamples": 500, "slice_columns": ["ocean_proximity", "median_income"]}


@pytest.mark.e2e
def test_lifecycle_over_http(server_store, log_candidate, aliases):
    name = "housing-http"
    client = mlflow.MlflowClient()
    assert client.tracking_uri.startswith("http://")
    log_candidate("linear", name=name)
    assert promote(name, 1, config=GATE).promoted
    log_candidate("forest", name=name)
    second = promote(name, 2, config=GATE)
    assert second.promoted and second.overall.difference.high < 0
    log_candidate("shuffled", name=name)
    third = promote(name, 3, config=GATE)
    assert not third.promoted and "is beyond" in third.reasons[0]
    assert aliases(name) == {"production": "2", "staging": "3"}
    assert "❌ REJECTED" in client.get_model_version(name, "3").description
    decision = json.loads(
        mlflow.artifacts.load_text(f"runs:/{second.gate_run_id}/{names.ARTIFACT_GATE_DECISION}")
    )
    assert decision["promoted"] is True and decision["champion_version"] == "1"

    back = rollback(name, reason="over http")
    assert (back.from_version, back.to_version) == ("2", "1") and aliases(name)["production"] == "1"
    report = status(name)
    assert [e.action for e in report.history] == ["promote", "promote", "rollback"]
    assert [v.gate for v in report.versions] == ["rejected", "passed", "passed"]
    assert report.lock is None and report.notes == ()


@pytest.mark.e2e
def test_lock_over_http(server_store, log_candidate):
    name = "housing-lock"
    log_candidate("linear", name=name)
    client = mlflow.MlflowClient()
    with RegistryLock(client, name, purpose="http", settle=0.1) as lock:
        assert read_lock(client, name).token == lock.token
        other = RegistryLock(client, name, purpose="other", wait=0, settle=0.1)
        with pytest.raises(Exception, match="is locked by"):
            other.acquire()
    assert read_lock(client, name) is None
