"""The registry-held lock: acquire, verify, release, expiry takeover, and mutual exclusion across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError, StewardLockError
from mlflow_steward.registry import LockInfo, RegistryLock, full_history, read_lock, status
from mlflow_steward._process import ProcessId, pid_alive
from mlflow_steward.registry import _messages as msg


@pytest.fixture
def client(mlflow_store):
    import mlflow

    c = mlflow.MlflowClient()
    c.create_registered_model("locked")
    return c


def _foreign_lock(client, *, expires_in: float, owner: str = "alice@elsewhere pid 7") -> dict:
    now = time.time()
    payload = {"token": "f" * 32, "owner": owner, "purpose": "promote version 9",
               "acquired": now - 5, "expires": now + expires_in}
    client.set_registered_model_tag("locked", names.TAG_LOCK, json.dumps(payload))
    return payload


def test_acquire_writes_tag_and_release_deletes_it(client):
    with RegistryLock(client, "locked", purpose="test", settle=0.05) as lock:
        info = read_lock(client, "locked")
        assert info is not None and info.token == lock.token
        assert info.purpose == "test" and str(os.getpid()) in info.owner
        assert info.expires > time.time() + 100  # default ttl 120 s
        lock.verify()
    assert names.TAG_LOCK not in client.get_registered_model("locked").tags


def test_held_lock_raises_naming_owner_and_expiry(client):
    payload = _foreign_lock(client, expires_in=300)
    expires = LockInfo.parse(json.dumps(payload)).expires_text()
    with pytest.raises(StewardLockError) as err:
        RegistryLock(client, "locked", purpose="mine", wait=0, settle=0.01).acquire()
    assert str(err.value) == msg.LOCK_HELD.format(
        name="locked", owner=payload["owner"], expires=expires, purpose="promote version 9"
    )
    # the other owner's lock is left alone
    assert read_lock(client, "locked").token == payload["token"]


def test_waits_for_a_lock_that_is_released(client):
    _foreign_lock(client, expires_in=1.0)
    start = time.monotonic()
    with RegistryLock(client, "locked", purpose="mine", wait=10, settle=0.01) as lock:
        assert read_lock(client, "locked").token == lock.token
    assert time.monotonic() - start >= 0.5


def test_expired_lock_is_taken_over(client, caplog):
    _foreign_lock(client, expires_in=-10)
    with RegistryLock(client, "locked", purpose="mine", wait=0, settle=0.01) as lock:
        assert read_lock(client, "locked").token == lock.token
    assert "taking over the lock of 'locked' held by alice@elsewhere pid 7: its lease expired at" in caplog.text
    assert names.TAG_LOCK not in client.get_registered_model("locked").tags
    (entry,) = full_history(client, "locked")  # the take-over is in the production history
    assert entry.action == "break lock" and entry.to_version is None  # no production model yet
    assert entry.reason.startswith("took over the lock of alice@elsewhere pid 7 (promote version 9): its lease expired")


# --- a lock whose owner's process is gone (issue 12, defect 10) ----------------------------------


def _dead_pid() -> int:
    """The pid of a process that has ended (and was reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _lock_of(client, holder: dict) -> dict:
    now = time.time()
    payload = {"token": "d" * 32, "owner": f"bob@{holder['host']} pid {holder['pid']}", "purpose": "promote version 4",
               "acquired": now - 5, "expires": now + 600, **holder}
    client.set_registered_model_tag("locked", names.TAG_LOCK, json.dumps(payload))
    return payload


def test_lock_of_a_dead_process_on_this_machine_is_broken_at_once(client):
    here = ProcessId.current()
    pid = _dead_pid()
    _lock_of(client, {"host": here.host, "pid": pid, "pidns": here.pidns})
    assert "stale (its owner's process" in status("locked").notes[-1]
    start = time.monotonic()
    with RegistryLock(client, "locked", purpose="mine", wait=0, settle=0.01, run_id="r1") as lock:
        assert read_lock(client, "locked").token == lock.token
    assert time.monotonic() - start < 60  # not the 600 s lease: wait=0 would have raised anyway
    (entry,) = full_history(client, "locked")
    assert entry.action == "break lock" and entry.run_id == "r1"
    assert entry.reason == (
        f"took over the lock of bob@{here.host} pid {pid} (promote version 4): "
        f"its owner's process (pid {pid} on {here.host}) is gone"
    )


@pytest.mark.parametrize(
    "holder",
    [
        "alive",  # our own pid: alive
        "other host",  # a pid elsewhere cannot be checked
        "other namespace",  # same host name, another container
        "no namespace",  # written by an earlier release: host and pid only
    ],
)
def test_lock_of_a_process_that_may_be_alive_is_kept(client, holder):
    here = ProcessId.current()
    pid = os.getpid() if holder == "alive" else _dead_pid()
    fields = {
        "alive": {"host": here.host, "pid": pid, "pidns": here.pidns},
        "other host": {"host": "elsewhere", "pid": pid, "pidns": here.pidns},
        "other namespace": {"host": here.host, "pid": pid, "pidns": "pid:[1]"},
        "no namespace": {"host": here.host, "pid": pid},
    }[holder]
    payload = _lock_of(client, fields)
    with pytest.raises(StewardLockError):
        RegistryLock(client, "locked", purpose="mine", wait=0, settle=0.01).acquire()
    assert read_lock(client, "locked").token == payload["token"]
    assert full_history(client, "locked") == []


def test_pid_alive_sees_zombies_as_dead():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # exited, not yet reaped: a zombie
        with open(f"/proc/{proc.pid}/stat") as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.02)
    assert not pid_alive(proc.pid)
    proc.wait()
    assert not pid_alive(proc.pid) and pid_alive(os.getpid())


def test_overwritten_lock_is_lost_and_not_released(client):
    lock = RegistryLock(client, "locked", purpose="mine", settle=0.01).acquire()
    payload = _foreign_lock(client, expires_in=300)  # someone overwrote us (the documented race)
    with pytest.raises(StewardLockError) as err:
        lock.verify()
    assert str(err.value) == msg.LOCK_LOST.format(name="locked", owner=payload["owner"])
    lock.release()  # must not delete the other owner's lock
    assert read_lock(client, "locked").token == payload["token"]


def test_competitor_writing_during_settle_wins(client, monkeypatch):
    lock = RegistryLock(client, "locked", purpose="mine", wait=0, settle=0.01)
    real_sleep = time.sleep

    def competitor_writes(seconds):
        _foreign_lock(client, expires_in=300)
        real_sleep(seconds)

    monkeypatch.setattr("mlflow_steward.registry._lock.time.sleep", competitor_writes)
    with pytest.raises(StewardLockError, match="alice@elsewhere"):
        lock.acquire()
    assert not lock.acquired


def test_unreadable_tag_counts_as_free(client):
    client.set_registered_model_tag("locked", names.TAG_LOCK, "not json")
    assert read_lock(client, "locked") is None
    with RegistryLock(client, "locked", purpose="mine", wait=0, settle=0.01):  # wait=0: raises if held
        assert read_lock(client, "locked").purpose == "mine"
    assert read_lock(client, "locked") is None


@pytest.mark.parametrize("key,value", [("ttl", 0), ("wait", -1), ("settle", "x")])
def test_bad_timing_is_an_input_error(client, key, value):
    with pytest.raises(StewardInputError) as err:
        RegistryLock(client, "locked", purpose="x", **{key: value})
    assert str(err.value) == msg.LOCK_BAD_TIMING.format(key=key, value=value)


_WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import mlflow
    from mlflow_steward.registry import RegistryLock
    log, ready, go = sys.argv[1:4]
    client = mlflow.MlflowClient()
    client.get_registered_model("locked")  # warm up the store before saying ready
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.005)
    with RegistryLock(client, "locked", purpose="worker", wait=60, settle=0.3):
        entered = time.time()
        time.sleep(0.4)
        left = time.time()
    with open(log, "a") as fh:
        fh.write(f"{entered} {left}\\n")
    """
)


@pytest.mark.e2e
def test_processes_holding_the_lock_never_overlap(client, tmp_path):
    log, go = tmp_path / "held.txt", tmp_path / "go"
    ready = [tmp_path / f"ready{i}" for i in range(3)]
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(log), str(r), str(go)], env=dict(os.environ))
        for r in ready
    ]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready):  # every worker makes its first attempt at once
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.05)
    go.touch()
    for proc in procs:
        assert proc.wait(timeout=90) == 0
    spans = sorted(tuple(map(float, line.split())) for line in log.read_text().splitlines())
    assert len(spans) == 3
    for (_, left), (entered, _) in zip(spans, spans[1:]):
        assert entered >= left, spans
    assert names.TAG_LOCK not in client.get_registered_model("locked").tags


def test_failed_insert_counts_as_held(client, monkeypatch):
    """Two processes insert the absent tag at once: the store's unique key refuses the second."""
    from mlflow.exceptions import MlflowException

    real = client.set_registered_model_tag
    now = time.time()
    theirs = json.dumps({"token": "c" * 32, "owner": "carol@other pid 9", "purpose": "promote version 4",
                         "acquired": now, "expires": now + 300})

    def competitor_inserted_first(name, key, value):
        real(name, key, theirs)
        raise MlflowException("UNIQUE constraint failed: registered_model_tags")

    monkeypatch.setattr(client, "set_registered_model_tag", competitor_inserted_first)
    with pytest.raises(StewardLockError, match="carol@other"):
        RegistryLock(client, "locked", purpose="mine", wait=0, settle=0.01).acquire()


def test_failed_write_without_a_competitor_propagates(client, monkeypatch):
    from mlflow.exceptions import MlflowException

    def broken(*args, **kwargs):
        raise MlflowException("store is read-only")

    monkeypatch.setattr(client, "set_registered_model_tag", broken)
    with pytest.raises(MlflowException, match="read-only"):
        RegistryLock(client, "locked", purpose="mine", wait=0, settle=0.01).acquire()
