"""The same page data on a PostgreSQL tracking store and registry (any backend: only MlflowClient)."""

from __future__ import annotations

import datetime

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

NAME = "housing-pg"


def test_model_page_on_postgresql(make_database, tmp_path, monkeypatch, housing_split, housing_models,
                                  register_housing, fast_gate_config, monitor_runs):
    import mlflow

    from mlflow_steward.app import model_page, models_page
    from mlflow_steward.app._cache import ServerCache
    from mlflow_steward.registry import promote, rollback

    uri = make_database("app").replace("postgresql://", "postgresql+psycopg2://", 1)
    previous = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    monkeypatch.chdir(tmp_path)
    try:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        mlflow.set_experiment(experiment_id=mlflow.create_experiment("pg", artifact_location=(tmp_path / "a").as_uri()))
        for key in ("linear", "forest"):
            promote(NAME, register_housing(housing_split, housing_models[key], name=NAME).version, config=fast_gate_config)
        rollback(NAME, reason="back to the linear model")
        client = mlflow.MlflowClient()
        monitor_runs(client, NAME, "1", windows=4, drift_at=3)
        cache = ServerCache()
        page = model_page(client, NAME, cache=cache)
        assert [(m.action, m.to_version) for m in page.moves] == [("promote", "1"), ("promote", "2"), ("rollback", "1")]
        assert [g.version for g in page.gates] == ["2", "1"] and page.gate_details[0].forest is not None
        assert [w.state for w in page.windows] == ["healthy"] * 3 + ["drift"]
        monitor_runs(client, NAME, "1", windows=1, start=datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc))
        assert len(model_page(client, NAME, cache=cache).windows) == 5  # the incremental look works on PostgreSQL
        summary = models_page(client, cache=cache).models[0]
        assert summary.production.version == "1" and summary.last_gate.version == "2"
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
