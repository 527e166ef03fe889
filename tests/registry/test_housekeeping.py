"""Deciding unconfirmed history intents, and closing gate runs whose process is gone (issue 12)."""

from __future__ import annotations

import subprocess
import sys
import time

import mlflow
import pytest

from mlflow_steward import names
from mlflow_steward.registry._history import (
    ACTION_BREAK_LOCK,
    ACTION_PROMOTE,
    ACTION_ROLLBACK,
    STATE_INTENT,
    new_entry,
    resolve,
)
from mlflow_steward.registry._housekeeping import ORPHAN_AGE, close_orphan_runs
from mlflow_steward._process import ProcessId


def _chain(moves):
    entries = []
    for action, src, dst, state in moves:
        entries.append(new_entry(entries, action=action, from_version=src, to_version=dst, by="me@host",
                                 reason="x", run_id=None, state=state))
    return entries


C, I = "confirmed", STATE_INTENT


@pytest.mark.parametrize(
    "moves,production,expected",
    [
        # the newest intent: decided by where production is now
        ([(ACTION_PROMOTE, None, "1", C), (ACTION_PROMOTE, "1", "2", I)], "1", [C, "not applied"]),
        ([(ACTION_PROMOTE, None, "1", C), (ACTION_PROMOTE, "1", "2", I)], "2", [C, C]),
        ([(ACTION_PROMOTE, None, "1", I)], None, ["not applied"]),
        # an older intent: decided by where the next move that took effect started
        ([(ACTION_PROMOTE, None, "1", C), (ACTION_PROMOTE, "1", "2", I), (ACTION_PROMOTE, "1", "3", C)],
         "3", [C, "not applied", C]),
        ([(ACTION_PROMOTE, None, "1", C), (ACTION_PROMOTE, "1", "2", I), (ACTION_BREAK_LOCK, "2", "2", C),
          (ACTION_PROMOTE, "2", "3", I)], "3", [C, C, C, C]),
        ([(ACTION_PROMOTE, None, "1", C), (ACTION_PROMOTE, "1", "2", C), (ACTION_ROLLBACK, "2", "1", I)],
         "2", [C, C, "not applied"]),
        # entries already decided are left as they are
        ([(ACTION_PROMOTE, None, "1", C), (ACTION_PROMOTE, "1", "2", "not applied")], "2", [C, "not applied"]),
    ],
)
def test_resolve(moves, production, expected):
    assert [e.state for e in resolve(_chain(moves), production)] == expected


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_orphaned_gate_runs_are_closed_and_live_ones_kept(mlflow_store):
    client = mlflow.MlflowClient()
    experiment = mlflow.get_experiment_by_name("test").experiment_id
    here = ProcessId.current()
    old = int((time.time() - ORPHAN_AGE - 60) * 1000)
    cases = {  # name: (owner, step, model, start time, closed?)
        "dead here": (ProcessId(here.host, _dead_pid(), here.pidns), "gate", "m", None, True),
        "alive here": (here, "gate", "m", None, False),
        "elsewhere, recent": (ProcessId("elsewhere", 1, None), "rollback", "m", None, False),
        "elsewhere, old": (ProcessId("elsewhere", 1, None), "rollback", "m", old, True),
        "no owner, old": (None, "gate", "m", old, True),  # written by an earlier release
        "no owner, recent": (None, "gate", "m", None, False),
        "another model": (ProcessId(here.host, _dead_pid(), here.pidns), "gate", "other", None, False),
        "not a gate run": (ProcessId(here.host, _dead_pid(), here.pidns), "train", "m", None, False),
    }
    runs = {}
    for case, (owner, step, model, start, _) in cases.items():
        tags = {names.TAG_STEP: step, names.TAG_MODEL_NAME: model}
        if owner is not None:
            tags[names.TAG_OWNER] = owner.to_json()
        runs[case] = client.create_run(experiment, start_time=start, tags=tags, run_name=case).info.run_id
    closed = close_orphan_runs(client, "m", [experiment], keep=None, by="me@host", history=[])
    assert sorted(closed) == sorted(runs[c] for c, spec in cases.items() if spec[4])
    for case, run_id in runs.items():
        run = client.get_run(run_id)
        assert run.info.status == ("FAILED" if cases[case][4] else "RUNNING"), case
    reason = client.get_run(runs["dead here"]).data.tags[names.TAG_CLOSED_REASON]
    assert reason.startswith("closed as FAILED by me@host at ")
    assert reason.endswith(f"its process ({cases['dead here'][0]}) is gone; it recorded no move of production")
    assert "still RUNNING 1.0 h after it started" in client.get_run(runs["elsewhere, old"]).data.tags[names.TAG_CLOSED_REASON]
