"""The trial budget: fresh trials stop at the target, across threads and processes; retries are free."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import optuna
import pytest
from mlflow_steward.tuning._budget import (
    ATTR_TARGET,
    BudgetReached,
    budget_status,
    budgeted_storage,
    count_status,
    set_target,
)
from mlflow_steward.tuning._study import driver_url
from optuna.trial import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _new_study(url: str, name: str, n: int):
    storage = budgeted_storage(url)
    study = optuna.create_study(study_name=name, storage=storage)
    study_id = storage.get_study_id_from_name(name)
    set_target(storage, study_id, n)
    return study, storage, study_id


def test_fresh_trials_stop_at_the_target_through_optunas_cache(tmp_path):
    study, storage, study_id = _new_study(f"sqlite:///{tmp_path / 'o.db'}", "s", 3)
    for _ in range(3):
        study.tell(study.ask(), 1.0)
    with pytest.raises(BudgetReached, match="3 of 3 trial slots taken"):
        study.ask()
    study.enqueue_trial({"x": 1.0})  # queued trials were counted when queued: not refused
    assert len(study.trials) == 4 and study.trials[-1].state == TrialState.WAITING
    status = budget_status(storage, study_id)
    assert (status.target, status.slots, status.complete, status.waiting, status.done) == (3, 4, 3, 1, False)


def test_target_counts_trials_already_in_the_study(tmp_path):
    url = f"sqlite:///{tmp_path / 'o.db'}"
    study, storage, study_id = _new_study(url, "s", 2)
    for _ in range(2):
        study.tell(study.ask(), 0.5)
    status = set_target(storage, study_id, 4)
    assert status.target == 6 == storage.get_study_user_attrs(study_id)[ATTR_TARGET]


def test_threads_never_take_more_than_the_target(tmp_path):
    study, _, _ = _new_study(f"sqlite:///{tmp_path / 'o.db'}", "s", 7)
    created: list[int] = []

    def ask_until_refused() -> None:
        while True:
            try:
                trial = study.ask()
            except BudgetReached:
                return
            created.append(trial.number)
            study.tell(trial, 0.0)

    threads = [threading.Thread(target=ask_until_refused) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created) == list(range(7)) and len(study.trials) == 7


_RACE = textwrap.dedent(
    """
    import sys, optuna
    from mlflow_steward.tuning._budget import BudgetReached, budgeted_storage
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="race", storage=budgeted_storage(sys.argv[1]))
    n = 0
    while True:
        try:
            trial = study.ask()
        except BudgetReached:
            break
        study.tell(trial, 0.0)
        n += 1
    print(n)
    """
)


def _race(url: str, processes: int, target: int) -> list[int]:
    _new_study(url, "race", target)
    procs = [subprocess.Popen([sys.executable, "-c", _RACE, url], stdout=subprocess.PIPE, text=True)
             for _ in range(processes)]
    return [int(p.communicate(timeout=120)[0]) for p in procs]


def test_processes_share_one_budget_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'o.db'}"
    counts = _race(url, processes=3, target=12)
    assert sum(counts) == 12
    assert len(optuna.load_study(study_name="race", storage=url).trials) == 12


@pytest.mark.postgres
def test_processes_share_one_budget_on_postgres(optuna_postgres):
    counts = _race(optuna_postgres, processes=3, target=15)  # a fresh database per session: "race" is new
    assert sum(counts) == 15
    assert len(optuna.load_study(study_name="race", storage=driver_url(optuna_postgres)).trials) == 15


def test_a_retry_takes_the_slot_of_the_trial_it_replaces():
    def trial(state, **system):
        return optuna.trial.create_trial(state=state, value=None if state != TrialState.COMPLETE else 1.0,
                                         system_attrs=system)

    trials = [
        trial(TrialState.COMPLETE),
        trial(TrialState.FAIL),  # its worker died ...
        # ... this retry replaces it (the system attributes Optuna's retry callback writes)
        trial(TrialState.RUNNING, **{"failed_trial": 1, "retry_history": [1]}),
        trial(TrialState.WAITING),
    ]
    status = count_status(trials, target=3)
    assert (status.slots, status.running, status.waiting, status.failed, status.room, status.done) == (
        3, 1, 1, 1, False, False
    )
    assert count_status(trials[:2], target=2).done


def test_plain_postgresql_urls_name_an_installed_driver():
    import importlib.util

    driver = "psycopg" if importlib.util.find_spec("psycopg") else "psycopg2"
    assert driver_url("postgresql://u@h:5/db") == f"postgresql+{driver}://u@h:5/db"
    assert driver_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert driver_url("sqlite:///x.db") == "sqlite:///x.db"
