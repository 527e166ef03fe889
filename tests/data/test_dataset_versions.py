"""Named dataset versions in a real tracking store: add, reconstruct exactly, quarantine, roll back,
history with intent/confirm, the lock, and kills at each write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import mlflow
import numpy as np
import pandas as pd
import pytest

from mlflow_steward import data, names
from mlflow_steward.data import DatasetSpec
from mlflow_steward.data._versions import _messages as msg
from mlflow_steward.data._versions import _store
from mlflow_steward.exceptions import StewardInputError, StewardLockError

SPEC = DatasetSpec(target="median_house_value", task="regression")


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """Three disjoint 300-row batches of housing in a fixed random order, as CSV files."""
    frame = pd.read_csv(data.demo_dataset_path())
    order = np.random.default_rng(0).permutation(len(frame))
    root = tmp_path_factory.mktemp("batches")
    paths = []
    for i in range(3):
        path = root / f"batch{i + 1}.csv"
        frame.iloc[order[i * 300:(i + 1) * 300]].to_csv(path, index=False)
        paths.append(path)
    return paths


def _add(name, path, verdict="accepted", lock_wait=60.0, **kwargs):
    return data.commit_batch(data.plan_batch(name, path, **kwargs), verdict=verdict, lock_wait=lock_wait)


def _experiment_id(name="housing"):
    return mlflow.get_experiment_by_name(f"steward-datasets/{name}").experiment_id


def test_versions_chain_and_reconstruct_exactly(mlflow_store, batches):
    v1 = _add("housing", batches[0], spec=SPEC)
    v2 = _add("housing", batches[1])
    assert (v1.version, v1.parent, v1.action, v2.version, v2.parent, v2.action) == (1, None, "create", 2, 1, "add")
    assert v2.n_rows == 600 and v2.batch_rows == 300 and v2.rows["test"] > 0
    record, parts = data.load_version("housing")
    assert record.version == 2 and parts.digest() == record.digest == v2.digest
    original = pd.concat([pd.read_csv(b) for b in batches[:2]], ignore_index=True)
    stored = parts.all_data()
    assert len(stored) == len(original)
    key = list(original.columns)
    merged = stored.merge(original, on=key, how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()  # every row of both batches, nothing else
    _, old = data.load_version("housing", 1)
    assert old.digest() == v1.digest  # v1 is still there, unchanged
    tags = mlflow.MlflowClient().get_run(v2.run_id).data.tags
    assert tags[names.TAG_DATASET_VERSION] == "2" and tags[names.TAG_DATASET_PARENT] == "1"
    assert tags[names.TAG_BATCH_DIGEST] == data.dataset_digest(data.load_dataset(batches[1], SPEC).frame.reset_index(drop=True))
    assert json.loads(tags[names.TAG_DATASET_SCHEMA])[0] == ["longitude", "float64"]
    info = data.dataset_info("housing")
    assert [(e.action, e.from_version, e.to_version, e.state) for e in info.history] == [
        ("create", None, 1, "confirmed"), ("add", 1, 2, "confirmed")]
    assert [s.name for s in data.list_datasets()] == ["housing"]


def test_a_test_row_stays_a_test_row_in_every_later_version(mlflow_store, batches):
    _add("housing", batches[0], spec=SPEC)
    _, v1 = data.load_version("housing", 1)
    _add("housing", batches[1])
    _add("housing", batches[2])
    _, v3 = data.load_version("housing", 3)
    cols = [c for c in v1.test.columns if c != data.BATCH_COLUMN]
    assert len(v1.test.merge(v3.test, on=cols)) == len(v1.test)
    assert v1.test.merge(v3.train, on=cols).empty


def test_quarantine_keeps_the_pointer_and_rollback_moves_it_with_history(mlflow_store, batches):
    _add("housing", batches[0], spec=SPEC)
    _add("housing", batches[1])
    quarantined = _add("housing", batches[2], verdict="quarantined")
    assert quarantined.version == 3 and data.get_version("housing").version == 2
    entry, target = data.rollback_dataset("housing", to=1, reason="batch 2 was bad")
    assert (entry.action, entry.from_version, entry.to_version, entry.reason) == ("rollback", 2, 1, "batch 2 was bad")
    assert data.get_version("housing").version == 1
    v4 = _add("housing", batches[1])  # the next batch builds on the current version (1)
    assert (v4.version, v4.parent) == (4, 1)
    history = data.dataset_info("housing").history
    assert [(e.action, e.to_version) for e in history] == [("create", 1), ("add", 2), ("rollback", 1), ("add", 4)]
    assert all(e.by and e.at for e in history)


def test_bad_input_writes_nothing(mlflow_store, batches, tmp_path):
    with pytest.raises(StewardInputError) as err:
        data.plan_batch("housing", batches[0])
    assert str(err.value) == msg.SPEC_NEEDED.format(name="housing")
    with pytest.raises(StewardInputError) as err:
        data.get_version("housing")
    assert str(err.value) == msg.UNKNOWN_DATASET.format(name="housing", uri=mlflow.get_tracking_uri())
    with pytest.raises(StewardInputError) as err:
        data.plan_batch("no way", batches[0], spec=SPEC)
    assert str(err.value) == msg.BAD_NAME.format(name="no way")
    assert mlflow.get_experiment_by_name("steward-datasets/housing") is None
    _add("housing", batches[0], spec=SPEC)
    runs_before = len(mlflow.search_runs([_experiment_id()]))
    wrong = pd.read_csv(batches[1]).drop(columns=["ocean_proximity"]).assign(median_income=lambda f: "x")
    wrong.to_csv(tmp_path / "wrong.csv", index=False)
    with pytest.raises(StewardInputError, match="missing columns ocean_proximity; column 'median_income' holds text"):
        data.plan_batch("housing", tmp_path / "wrong.csv")
    (tmp_path / "empty.csv").write_text(",".join(pd.read_csv(batches[0]).columns) + "\n")
    with pytest.raises(StewardInputError, match="no data rows"):
        data.plan_batch("housing", tmp_path / "empty.csv")
    with pytest.raises(StewardInputError) as err:
        data.plan_batch("housing", batches[1], id_column="longitude")
    assert str(err.value) == msg.SPEC_DIFFERS.format(name="housing", key="id column", stored=None, given="longitude")
    with pytest.raises(StewardInputError) as err:
        data.rollback_dataset("housing", to=1, reason="x")
    assert str(err.value) == msg.ROLLBACK_SAME.format(name="housing", version=1)
    with pytest.raises(StewardInputError, match="has no version 7"):
        data.rollback_dataset("housing", to=7, reason="x")
    with pytest.raises(StewardInputError):
        data.rollback_dataset("housing", to=1, reason=" ")
    assert len(mlflow.search_runs([_experiment_id()])) == runs_before
    assert data.get_version("housing").version == 1


def test_a_pointer_moved_meanwhile_is_refused(mlflow_store, batches):
    _add("housing", batches[0], spec=SPEC)
    plan = data.plan_batch("housing", batches[1])
    _add("housing", batches[2])  # someone else, meanwhile
    with pytest.raises(StewardInputError) as err:
        data.commit_batch(plan, verdict="accepted")
    assert str(err.value) == msg.POINTER_MOVED.format(name="housing", before="version 1", after="version 2")
    assert data.get_version("housing").version == 2


def test_a_held_lock_blocks_and_an_expired_one_is_taken_over_and_recorded(mlflow_store, batches):
    _add("housing", batches[0], spec=SPEC)
    client = mlflow.MlflowClient()
    now = time.time()
    held = {"token": "a" * 32, "owner": "bob@ci pid 4", "purpose": "add x.csv", "acquired": now, "expires": now + 600,
            "host": "elsewhere", "pid": 4, "pidns": None}
    client.set_experiment_tag(_experiment_id(), names.TAG_LOCK, json.dumps(held))
    plan = data.plan_batch("housing", batches[1])
    with pytest.raises(StewardLockError, match=r"locked by bob@ci pid 4 \(add x.csv\)"):
        data.commit_batch(plan, verdict="accepted", lock_wait=0)
    held.update(expires=now - 1)
    client.set_experiment_tag(_experiment_id(), names.TAG_LOCK, json.dumps(held))
    assert data.commit_batch(plan, verdict="accepted", lock_wait=0).version == 2
    history = data.dataset_info("housing").history
    assert history[-2].action == "break lock" and "bob@ci pid 4" in history[-2].reason
    assert names.TAG_LOCK not in client.get_experiment(_experiment_id()).tags


_KILLED = textwrap.dedent(
    """
    import sys
    from mlflow_steward import data
    plan = data.plan_batch("housing", sys.argv[1])
    data.commit_batch(plan, verdict="accepted")
    """
)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("point", "current_after"),
    [
        ("dataset: version run started", 1),
        ("dataset: version written", 1),
        ("dataset: before pointer move", 1),
        ("dataset: after pointer move", 2),
    ],
)
def test_a_kill_at_each_write_leaves_the_pointer_where_it_was_or_where_it_went(mlflow_store, batches, point,
                                                                              current_after):
    _add("housing", batches[0], spec=SPEC)
    env = {**os.environ, data._versions.ENV_KILL_POINT: point}
    done = subprocess.run([sys.executable, "-c", _KILLED, str(batches[1])], env=env, capture_output=True, timeout=300)
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    client = mlflow.MlflowClient()
    assert data.get_version("housing").version == current_after
    assert names.TAG_LOCK in client.get_experiment(_experiment_id()).tags  # the dead writer's lease
    history = data.dataset_info("housing").history
    moves = [(e.action, e.to_version) for e in history if e.action != "break lock" and e.state == "confirmed"]
    assert moves == [("create", 1)] + ([("add", 2)] if current_after == 2 else [])
    # the next writer breaks the dead lease at once, closes the orphan run, and adds on the current version
    nxt = _add("housing", batches[2], lock_wait=0)
    assert nxt.parent == current_after and data.get_version("housing").version == nxt.version
    running = [r for r in _store.version_runs(client, _experiment_id(), finished_only=False)
               if r.info.status == "RUNNING"]
    assert running == []
    history = data.dataset_info("housing").history
    assert "intent" not in {e.state for e in history}  # the open intent was decided by the next writer
    assert history[-2].action == "break lock" and "its owner process is gone" in history[-2].reason


def test_a_long_holder_keeps_its_lease_alive_with_the_heartbeat(mlflow_store, batches):
    _add("housing", batches[0], spec=SPEC)
    with data.dataset_lock("housing", key=names.TAG_RETRAIN_LOCK, purpose="retrain", ttl=1.5, heartbeat=0.3) as lease:
        first = data._versions.read_lease(mlflow.MlflowClient(), _experiment_id(), names.TAG_RETRAIN_LOCK)
        time.sleep(2.5)  # longer than the ttl: only the renewals keep it
        lease.verify()
        renewed = data._versions.read_lease(mlflow.MlflowClient(), _experiment_id(), names.TAG_RETRAIN_LOCK)
        assert renewed.token == first.token and renewed.expires > first.expires + 0.5
        with pytest.raises(StewardLockError, match="locked by"):
            data.dataset_lock("housing", key=names.TAG_RETRAIN_LOCK, purpose="second", wait=0).acquire()
    assert names.TAG_RETRAIN_LOCK not in mlflow.MlflowClient().get_experiment(_experiment_id()).tags
