"""A study's trial budget, shared by every worker process on every machine: exactly the target.

The coordinator sets the study's target (user attribute ``steward.trial_target``): the trials the
study already holds plus ``n_trials``. Workers then ask Optuna for trials as usual; a *fresh* trial
(not one popped from the queue, nor a retry) is created only while the study has room, that is
while its slots are fewer than the target. Slots are all trials except retries: a trial that lost
its worker (heartbeat) ends FAIL and its retry takes its slot, so a killed worker costs no budget.

The count and the creation run under one lock held across processes and machines: PostgreSQL, a
transaction-level advisory lock; MySQL, ``GET_LOCK``; SQLite (one machine), a file lock beside the
database. Two workers therefore never both take the last slot. A worker refused a trial gets
:class:`BudgetReached` out of ``study.optimize``; it keeps waiting (and reaping dead workers' trials)
while others' trials run, because one of them may still die and be retried.

Optuna's ``MaxTrialsCallback`` is not enough here: it counts after each trial, so N workers
overshoot by up to N-1 trials, and it does not know that a retry replaces the trial that died.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from optuna.storages import RDBStorage
from optuna.trial import TrialState

from mlflow_steward import names
from mlflow_steward._compat.optuna import GatedTrialStorage, is_retry, stale_trial_callback_argument

from ._study import driver_url, sqlite_engine_kwargs, sqlite_file

ATTR_TARGET = names.STUDY_ATTR_TARGET  # study user attribute: slots the study should end with
_PG_LOCK_NAMESPACE = 0x53747764  # first key of pg_advisory_xact_lock(int, int); the second: study id
_LOCAL_LOCK = threading.Lock()

MSG_BUDGET_REACHED = "study {study_id}: {slots} of {target} trial slots taken"


class BudgetReached(Exception):
    """No room for a fresh trial: the study holds its target of trials (running ones included)."""


@dataclass(frozen=True)
class BudgetStatus:
    """Where a study stands against its target."""

    target: int | None
    slots: int  # trials that count: all but retries (see module docstring)
    running: int
    waiting: int
    complete: int
    pruned: int
    failed: int

    @property
    def room(self) -> bool:
        return self.target is None or self.slots < self.target

    @property
    def done(self) -> bool:
        """Target reached and nothing left running or queued."""
        return not self.room and self.running == 0 and self.waiting == 0


def count_status(trials: list[Any], target: int | None) -> BudgetStatus:
    states = [t.state for t in trials]
    return BudgetStatus(
        target=target,
        slots=sum(not is_retry(t) for t in trials),
        running=states.count(TrialState.RUNNING),
        waiting=states.count(TrialState.WAITING),
        complete=states.count(TrialState.COMPLETE),
        pruned=states.count(TrialState.PRUNED),
        failed=states.count(TrialState.FAIL),
    )


def budget_status(storage: Any, study_id: int) -> BudgetStatus:
    target = storage.get_study_user_attrs(study_id).get(ATTR_TARGET)
    return count_status(storage.get_all_trials(study_id, deepcopy=False), target)


@contextlib.contextmanager
def budget_lock(storage: RDBStorage, study_id: int) -> Iterator[None]:
    """Held by one process (and thread) at a time per study, across machines for PostgreSQL and MySQL."""
    dialect = storage.engine.dialect.name
    if dialect == "postgresql":
        from sqlalchemy import text

        with storage.engine.connect() as connection:  # closing rolls back, which releases the lock
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:namespace, :study)"),
                {"namespace": _PG_LOCK_NAMESPACE, "study": int(study_id)},
            )
            yield
        return
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy import text

        name = f"steward_budget_{study_id}"
        with storage.engine.connect() as connection:
            connection.execute(text("SELECT GET_LOCK(:name, -1)"), {"name": name})
            try:
                yield
            finally:
                connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
        return
    path = sqlite_file(storage.url)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: one process only
        fcntl = None  # type: ignore[assignment]
    if path is None or fcntl is None:
        with _LOCAL_LOCK:  # other dialects: exact within this process only
            yield
        return
    with open(f"{path}.steward-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class BudgetedStorage(GatedTrialStorage):
    """:class:`optuna.storages.RDBStorage` whose fresh trials respect the study's target.

    The gate is Optuna's private trial-creation hook, wrapped in :mod:`mlflow_steward._compat.optuna`
    (``tests/scaleout/test_budget.py`` checks that it holds through ``optuna.load_study``, and
    ``tests/compat`` that the hook exists, so an Optuna release moving it fails loudly). Enqueued
    and retried trials pass: their slot is already counted.
    """

    @contextlib.contextmanager
    def fresh_trial_gate(self, study_id: int) -> Iterator[None]:
        with budget_lock(self, study_id):
            status = budget_status(self, study_id)
            if not status.room:
                raise BudgetReached(
                    MSG_BUDGET_REACHED.format(study_id=study_id, slots=status.slots, target=status.target)
                )
            yield


def set_target(storage: BudgetedStorage, study_id: int, n_more: int) -> BudgetStatus:
    """Target = slots now + ``n_more``; returns the status it was set from."""
    with budget_lock(storage, study_id):
        status = budget_status(storage, study_id)
        storage.set_study_user_attr(study_id, ATTR_TARGET, status.slots + int(n_more))
    return BudgetStatus(**{**status.__dict__, "target": status.slots + int(n_more)})


def budgeted_storage(
    url: str,
    *,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    stale_trial_callback: Callable[[Any, Any], None] | None = None,
) -> BudgetedStorage:
    """The storage a worker (or the coordinator) opens: SQLite files in WAL mode, heartbeat if asked."""
    import warnings

    from optuna.exceptions import ExperimentalWarning

    kwargs: dict[str, Any] = {"heartbeat_interval": heartbeat_interval, "grace_period": grace_period}
    if stale_trial_callback is not None:
        kwargs[stale_trial_callback_argument()] = stale_trial_callback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return BudgetedStorage(driver_url(url), engine_kwargs=sqlite_engine_kwargs(url), **kwargs)
