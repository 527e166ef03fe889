"""Safe from cron: a retrain killed with SIGKILL at several points leaves production, the production
history and the dataset pointer as they were, and the next retrain succeeds at once (the dead
holder's lease is broken, its runs closed, its finished steps reused); two retrains started together
run one after the other and the second registers nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import mlflow
import pytest

from mlflow_steward import data, names
from mlflow_steward.data._versions import ENV_KILL_POINT as KILL
from mlflow_steward.registry import full_history
from mlflow_steward.retrain import retrain

from .conftest import FAST, quiet

_RETRAIN = textwrap.dedent(
    """
    import json, sys
    from mlflow_steward.retrain import RetrainConfig, retrain
    config = RetrainConfig(**json.loads(sys.argv[1]))
    outcome = retrain(config, echo=lambda line: print(line, flush=True))
    print("OUTCOME", json.dumps(outcome.to_dict(), default=str), flush=True)
    """
)


def _config(**overrides) -> str:
    config = {"dataset": "housing", **FAST, **overrides}
    config["families"] = list(config["families"])
    return json.dumps(config)


def _spawn(kill_point: str | None = None, **overrides) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != KILL}
    if kill_point:
        env[KILL] = kill_point
    return subprocess.Popen([sys.executable, "-c", _RETRAIN, _config(**overrides)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _state():
    """What must not change: aliases, the production history, the dataset's current version."""
    client = mlflow.MlflowClient()
    try:
        model = client.get_registered_model("housing")
        aliases = {k: str(v) for k, v in (model.aliases or {}).items() if k == "production"}
        history = [(e.action, e.to_version, e.state) for e in full_history(client, "housing")]
    except Exception:
        aliases, history = {}, []
    return aliases, history, data.get_version("housing").version


def _outcome(output: str) -> dict:
    line = next(line for line in output.splitlines() if line.startswith("OUTCOME "))
    return json.loads(line[len("OUTCOME "):])


@pytest.mark.e2e
@pytest.mark.parametrize(
    "point",
    ["retrain: locked", "retrain: data step done", "retrain: tuned", "retrain: registered"],
)
def test_a_killed_retrain_changes_nothing_and_the_next_one_succeeds(housing_v1, batches, fast, point):
    # production exists (model v1 on dataset v1); a new batch arrives; the retrain of it is killed
    assert retrain(fast(), echo=quiet).promoted
    data.commit_batch(data.plan_batch("housing", batches[1]), verdict="accepted")
    before = _state()
    process = _spawn(point)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == -9, output[-3000:]
    assert _state() == before  # production, its history and the dataset pointer untouched
    experiment = mlflow.get_experiment_by_name("steward-datasets/housing").experiment_id
    assert names.TAG_RETRAIN_LOCK in mlflow.MlflowClient().get_experiment(experiment).tags  # left by the dead process
    client = mlflow.MlflowClient()
    left = [mv for mv in client.search_model_versions("name = 'housing'") if int(mv.version) != 1]
    if point == "retrain: registered":
        assert [int(mv.version) for mv in left] == [2] and names.TAG_GATE not in left[0].tags  # registered, not gated
    else:
        assert left == []
    # the next retrain breaks the dead lease at once, closes the killed runs, reuses the finished steps
    outcome = retrain(fast(lock_wait=0), echo=quiet)
    assert outcome.candidate == "2" and outcome.promoted  # never a duplicate version
    assert sorted(int(mv.version) for mv in client.search_model_versions("name = 'housing'")) == [1, 2]
    runs = mlflow.search_runs(search_all_experiments=True, filter_string="attributes.status = 'RUNNING'")
    assert runs.empty
    killed = mlflow.search_runs(search_all_experiments=True,
                                filter_string=f"tags.`{names.TAG_STEP}` = 'retrain' and attributes.status = 'FAILED'")
    assert len(killed) == (0 if point == "retrain: locked" else 1)
    assert names.TAG_RETRAIN_LOCK not in client.get_experiment(experiment).tags


@pytest.mark.e2e
def test_a_version_left_by_a_killed_retrain_is_marked_not_deployable_when_not_adopted(housing_v1, batches, fast):
    from mlflow_steward.exceptions import StewardRegistryError
    from mlflow_steward.registry import promote

    assert retrain(fast(), echo=quiet).promoted
    data.commit_batch(data.plan_batch("housing", batches[1]), verdict="accepted")
    process = _spawn("retrain: registered")
    output, _ = process.communicate(timeout=600)
    assert process.returncode == -9, output[-3000:]
    data.commit_batch(data.plan_batch("housing", batches[2]), verdict="accepted")  # new data: v2 is not adopted
    outcome = retrain(fast(lock_wait=0), echo=quiet)
    assert outcome.candidate == "3"
    client = mlflow.MlflowClient()
    orphan = client.get_model_version("housing", "2")
    assert orphan.tags[names.TAG_DEPLOYABLE] == "false" and "Not deployable" in orphan.description
    assert "staging" not in (client.get_registered_model("housing").aliases or {}) or \
        str(client.get_registered_model("housing").aliases["staging"]) != "2"
    with pytest.raises(StewardRegistryError, match="marked not deployable"):
        promote("housing", 2)


@pytest.mark.e2e
def test_two_concurrent_retrains_run_one_after_the_other(housing_v1, fast):
    first, second = _spawn(), _spawn()
    outputs = [p.communicate(timeout=900)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    outcomes = sorted((_outcome(o) for o in outputs), key=lambda o: o["reused"])
    assert [o["reused"] for o in outcomes] == [False, True]
    assert outcomes[1]["run_id"] == outcomes[0]["run_id"]  # the second found the first's finished retrain
    assert [int(mv.version) for mv in mlflow.MlflowClient().search_model_versions("name = 'housing'")] == [1]
    retrains = mlflow.search_runs(search_all_experiments=True, filter_string=f"tags.`{names.TAG_STEP}` = 'retrain'")
    assert list(retrains["status"]) == ["FINISHED"]
