"""Dataset versions through ``mlflow server`` (REST, proxied artifacts): what cron jobs on other
machines see. Versions, the pointer, its history and the lock work through the server's API alone."""

from __future__ import annotations

import mlflow
import pytest

from mlflow_steward import data, names
from mlflow_steward.data import DatasetSpec

from .test_dataset_versions import batches  # noqa: F401  (the module's batch files)

SPEC = DatasetSpec(target="median_house_value", task="regression")


@pytest.mark.e2e
def test_versions_pointer_history_and_lock_through_the_tracking_server(tmp_path, monkeypatch, batches,  # noqa: F811
                                                                       start_tracking_server):
    with start_tracking_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path) as url:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        mlflow.set_tracking_uri(url)
        v1 = data.commit_batch(data.plan_batch("housing", batches[0], spec=SPEC), verdict="accepted")
        v2 = data.commit_batch(data.plan_batch("housing", batches[1]), verdict="accepted")
        record, parts = data.load_version("housing", 2)
        assert parts.digest() == record.digest == v2.digest and parts.n_rows == 600
        data.rollback_dataset("housing", to=1, reason="through the server")
        info = data.dataset_info("housing")
        assert info.current == v1.version == 1
        assert [(e.action, e.to_version, e.state) for e in info.history] == [
            ("create", 1, "confirmed"), ("add", 2, "confirmed"), ("rollback", 1, "confirmed")]
        with data.dataset_lock("housing", purpose="test", wait=0) as lease:
            lease.verify()
            assert names.TAG_LOCK in mlflow.MlflowClient().get_experiment(info.experiment_id).tags
        assert names.TAG_LOCK not in mlflow.MlflowClient().get_experiment(info.experiment_id).tags
