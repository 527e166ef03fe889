"""Two processes promote different versions at the same moment: one wins or they serialise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import mlflow
import pytest

from mlflow_steward.registry import full_history, read_lock
from mlflow_steward.registry import _messages as msg

_WORKER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    # warm up every heavy import before saying "ready", so both start scoring together
    import mlflow, mlflow.sklearn, sklearn.ensemble, pandas, matplotlib.figure
    from mlflow_steward import evaluation, stats, data
    from mlflow_steward.exceptions import StewardError
    from mlflow_steward.registry import promote
    version, ready, go, out = sys.argv[1:5]
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.005)
    try:
        d = promote("housing", version, config={"n_resamples": 500, "slice_columns": ["ocean_proximity"]},
                    lock_wait=60)
        result = {"ok": True, "promoted": d.promoted, "champion": d.champion_version}
    except StewardError as exc:
        result = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    Path(out).write_text(json.dumps(result))
    """
)


def race(tmp_path: Path, versions: tuple[str, ...], env: dict[str, str]) -> dict[str, dict]:
    """Start one promotion per version, release them at once, return each one's outcome."""
    go = tmp_path / "go"
    procs = {}
    for v in versions:
        args = [sys.executable, "-c", _WORKER, v, str(tmp_path / f"ready{v}"), str(go), str(tmp_path / f"out{v}")]
        procs[v] = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{v}").exists() for v in versions):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in procs.values()), [p.communicate()[0] for p in procs.values()]
        time.sleep(0.05)
    go.touch()
    for v, proc in procs.items():
        output = proc.communicate(timeout=180)[0]
        assert proc.returncode == 0, output[-3000:]
    return {v: json.loads((tmp_path / f"out{v}").read_text()) for v in versions}


def check_consistent(outcomes: dict[str, dict], client, name: str = "housing") -> None:
    """Exactly one winner (the other lost the re-check), or both in sequence; aliases, history, lock agree."""
    promoted = [v for v, o in outcomes.items() if o["ok"] and o["promoted"]]
    production = str(client.get_registered_model(name).aliases["production"])
    history = full_history(client, name)
    moves = [(e.from_version, e.to_version) for e in history]
    assert moves[0] == (None, "1")
    for (_, previous_to), (this_from, _) in zip(moves, moves[1:]):
        assert this_from == previous_to, moves  # an unbroken chain
    assert history[-1].to_version == production
    assert read_lock(client, name) is None
    if len(promoted) == 1:
        (winner,) = promoted
        (loser,) = [v for v in outcomes if v != winner]
        assert production == winner and moves == [(None, "1"), ("1", winner)]
        assert outcomes[loser]["error"] == "StewardRegistryError"
        assert outcomes[loser]["message"] == msg.PRODUCTION_CHANGED.format(
            name=name, before="version 1", after=f"version {winner}", action=f"gating version {loser}"
        )
    else:  # serialised: the second was gated against the first winner
        assert len(promoted) == 2, outcomes
        second = next(v for v in promoted if outcomes[v]["champion"] != "1")
        assert production == second and len(moves) == 3


@pytest.mark.e2e
def test_two_processes_promote_at_once(with_production, register, tmp_path):
    register("forest2")  # v3; v2 (forest) is already registered
    outcomes = race(tmp_path, ("2", "3"), dict(os.environ))
    check_consistent(outcomes, mlflow.MlflowClient())


@pytest.mark.e2e
def test_two_processes_promote_at_once_through_a_server(server_store, log_candidate, tmp_path):
    log_candidate("linear")
    promote_first = __import__("mlflow_steward.registry", fromlist=["promote"]).promote
    promote_first("housing", 1, config={"n_resamples": 500, "slice_columns": ["ocean_proximity"]})
    log_candidate("forest")
    log_candidate("forest2")
    outcomes = race(tmp_path, ("2", "3"), dict(os.environ))
    check_consistent(outcomes, mlflow.MlflowClient())
