"""A promotion killed with SIGKILL at each point of its write sequence (issue 12, defects 9 and 10).

After each kill: production is the old or the new version, never anything else; the history shows
only what took effect; a version whose promotion never moved the alias does not read as promoted.
Then a promotion right away (``lock_wait=0``: no waiting for the dead owner's 120 s lease) breaks the
lock, records the break in the history, decides the unconfirmed intent, closes the killed gate run as
FAILED, and succeeds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import mlflow
import pytest
from click.testing import CliRunner

from mlflow_steward import names
from mlflow_steward.cli import main
from mlflow_steward.registry import full_history, promote, read_lock, status
from mlflow_steward.registry._history import history_records

MODEL = "housing"

_KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from mlflow_steward.registry import _promote

    point = sys.argv[1]
    calls = {"n": 0}

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)  # no finally, no lock release, no run closed

    real_set_alias = _promote.set_alias
    if point == "before intent":  # the gate decided, nothing of the promotion written yet
        _promote.write_history = die
    elif point == "after intent":  # the history intent, no version tag yet
        _promote.set_promotion_tag = die
    elif point == "before alias move":  # intent, version tagged pending and passed
        _promote.set_alias = die
    elif point == "after alias move":  # production moved, the intent not confirmed
        def moved(*args, **kwargs):
            real_set_alias(*args, **kwargs)
            die()
        _promote.set_alias = moved
    elif point == "after confirmation":  # confirmed; lock and gate run left behind
        _promote._after_move = die
    _promote.promote("housing", 2, config={"n_resamples": 500, "slice_columns": ["ocean_proximity"]})
    """
)

# point: (production after the kill, the intent took effect?, history written?)
POINTS = {
    "before intent": ("1", None),
    "after intent": ("1", False),
    "before alias move": ("1", False),
    "after alias move": ("2", True),
    "after confirmation": ("2", True),
}


def _client():
    return mlflow.MlflowClient()


def _gate_run(version: str, status_: str):
    experiment = mlflow.get_experiment_by_name("test").experiment_id
    runs = _client().search_runs(
        [experiment],
        filter_string=f"tags.`{names.TAG_STEP}` = 'gate' and tags.`{names.TAG_MODEL_VERSION}` = '{version}'",
    )
    return [r for r in runs if r.info.status == status_]


def _status_cli() -> tuple[str, dict]:
    runner = CliRunner()
    text = runner.invoke(main, ["status", MODEL], catch_exceptions=False).output
    data = json.loads(runner.invoke(main, ["status", MODEL, "--json"], catch_exceptions=False).output)
    return text, data


@pytest.mark.e2e
@pytest.mark.parametrize("point", list(POINTS))
def test_killed_promotion_then_a_successful_one(with_production, register, aliases, fast_gate, point):
    production, took_effect = POINTS[point]
    proc = subprocess.run([sys.executable, "-c", _KILLED, point], env=dict(os.environ), timeout=300,
                          capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr[-2000:]  # killed by SIGKILL
    assert aliases()["production"] == production
    lock = read_lock(_client(), MODEL)
    assert lock is not None and lock.owner_gone()  # left behind; its process is gone
    [killed_run] = _gate_run("2", "RUNNING")

    # right after the kill: the history shows only what took effect, v2 does not read as promoted
    report = status(MODEL)
    moves = [(e.action, e.to_version) for e in report.history]
    assert moves == ([("promote", "1"), ("promote", "2")] if took_effect else [("promote", "1")])
    v2 = next(v for v in report.versions if v.version == "2")
    text, data = _status_cli()
    if took_effect is False:
        assert v2.promotion.startswith("not applied: history #2")
        assert v2.gate in ("", "passed (not applied)")  # never "passed" alone
        assert "never took effect: history #2 promote 1 -> 2" in " ".join(report.notes)
        assert "never took effect: history #2 promote 1 -> 2" in text
    elif took_effect:
        assert v2.gate == "passed" and "production" in v2.aliases
    else:  # killed before anything of the promotion was written
        assert v2.gate == "" and v2.promotion == ""
    assert [e["seq"] for e in data["history"]] == [e.seq for e in report.history]
    assert f"stale (its owner's process (pid {lock.holder.pid} on" in text.replace("\n", " ")

    # then a promotion right away: the dead owner's lock is broken, not waited for (v3 where v2 is
    # production already, and after "before alias move", so that v2 keeps its "not applied")
    follow_up = "3" if production == "2" or point == "before alias move" else "2"
    if follow_up == "3":
        register("forest2")
    decision = promote(MODEL, follow_up, config=fast_gate, lock_wait=0)
    assert decision.promoted and aliases()["production"] == follow_up
    assert read_lock(_client(), MODEL) is None

    records = history_records(_client(), MODEL)
    states = [(e.seq, e.action, e.to_version, e.state) for e in records]
    expected = [(1, "promote", "1", "confirmed")]
    if took_effect is not None:
        expected.append((2, "promote", "2", "confirmed" if took_effect else "not applied"))
    seq = len(expected) + 1
    expected += [(seq, "break lock", production, "confirmed"),
                 (seq + 1, "promote", follow_up, "confirmed")]
    assert states == expected
    broken = records[seq - 1]
    assert broken.reason.endswith(f"its owner's process (pid {lock.holder.pid} on {lock.holder.host}) is gone")
    assert broken.run_id == decision.gate_run_id

    # the killed gate run is closed as FAILED, saying whether its promotion took effect
    closed = _client().get_run(killed_run.info.run_id)
    assert closed.info.status == "FAILED"
    reason = closed.data.tags[names.TAG_CLOSED_REASON]
    assert f"its process (pid {lock.holder.pid} on {lock.holder.host}) is gone" in reason
    assert reason.endswith(
        "it recorded no move of production" if took_effect is None
        else f"its history entry #2 {'took effect' if took_effect else 'did not take effect'}"
    )

    # status: only what took effect, the intent decided for good, v2's tags say what happened
    report = status(MODEL)
    assert [(e.action, e.to_version) for e in report.history if e.is_move] == [
        ("promote", "1"), *([("promote", "2")] if took_effect else []), ("promote", follow_up)
    ]
    assert not [n for n in report.notes if "in progress" in n or "confirmation was interrupted" in n]
    v2 = _client().get_model_version(MODEL, "2")
    if follow_up == "2" or took_effect:
        promoted_at = 2 if took_effect else seq + 1
        assert v2.tags[names.TAG_PROMOTION].startswith(f"promoted: history #{promoted_at}")
    else:  # decided by the follow-up's reconciliation and written on the version for good
        assert v2.tags[names.TAG_PROMOTION].startswith("not applied: history #2 (promote 1 -> 2) was interrupted")
        assert v2.tags[names.TAG_GATE] == "passed"  # the gate's verdict stands ...
        assert next(v for v in report.versions if v.version == "2").gate == "passed (not applied)"  # ... shown so
    assert [e.to_version for e in full_history(_client(), MODEL) if e.is_move][-1] == follow_up
    text, _ = _status_cli()
    assert "break lock" in text and "Traceback" not in text


_KILLED_ROLLBACK = textwrap.dedent(
    """
    import os, signal, sys
    from mlflow_steward.registry import _rollback

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    _rollback.set_alias = die  # the intent is written, the alias does not move
    _rollback.rollback("housing", reason="bad launch")
    """
)


@pytest.mark.e2e
def test_killed_rollback_then_a_successful_one(with_production, aliases, fast_gate):
    assert promote(MODEL, 2, config=fast_gate).promoted
    proc = subprocess.run([sys.executable, "-c", _KILLED_ROLLBACK], env=dict(os.environ), timeout=300,
                          capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert aliases()["production"] == "2"
    report = status(MODEL)
    assert [(e.action, e.to_version) for e in report.history] == [("promote", "1"), ("promote", "2")]
    assert any(n.startswith("never took effect: history #3 rollback 2 -> 1") for n in report.notes)
    [killed_run] = [r for r in _client().search_runs([mlflow.get_experiment_by_name("test").experiment_id],
                                                     filter_string=f"tags.`{names.TAG_STEP}` = 'rollback'")]

    from mlflow_steward.registry import rollback

    result = rollback(MODEL, reason="bad launch, again", lock_wait=0)
    assert (result.from_version, result.to_version) == ("2", "1") and aliases()["production"] == "1"
    states = [(e.seq, e.action, e.to_version, e.state) for e in history_records(_client(), MODEL)]
    assert states == [(1, "promote", "1", "confirmed"), (2, "promote", "2", "confirmed"),
                      (3, "rollback", "1", "not applied"), (4, "break lock", "2", "confirmed"),
                      (5, "rollback", "1", "confirmed")]
    closed = _client().get_run(killed_run.info.run_id)
    assert closed.info.status == "FAILED"
    assert closed.data.tags[names.TAG_CLOSED_REASON].endswith("its history entry #3 did not take effect")
