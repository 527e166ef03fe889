"""``rollback``: move ``production`` back to an earlier version, with lock, re-check and history.

A rollback is an operator's emergency action: it is not gated (the version it returns to served
before). Without ``to`` it goes to the version production had before the current one was last
promoted; rollback entries are skipped, so rolling back twice walks further back instead of
toggling between two versions. Nothing is deleted; the version rolled away from is archived in the
stage mirror. Like a promotion, the move is written as a history intent and confirmed after the
alias moved (see :mod:`._history`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError, StewardRegistryError
from mlflow_steward.registry import _messages as msg
from mlflow_steward.registry._client import (
    get_client,
    get_model,
    get_version,
    mirror_stage,
    production_version,
    recheck_production,
    set_alias,
)
from mlflow_steward.registry._history import (
    ACTION_ROLLBACK,
    STATE_CONFIRMED,
    STATE_INTENT,
    HistoryEntry,
    full_history,
    new_entry,
    previous_production,
    write_history,
)
from mlflow_steward.registry._housekeeping import settle_after_error, tidy_up
from mlflow_steward._process import whoami
from mlflow_steward.registry._lock import DEFAULT_TTL, DEFAULT_WAIT, RegistryLock
from mlflow_steward.registry._records import experiment_for, finish_run, log_history, log_json, start_run

if TYPE_CHECKING:
    from mlflow import MlflowClient

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RollbackResult:
    """What a rollback did."""

    model_name: str
    from_version: str
    to_version: str
    reason: str
    run_id: str
    entry: HistoryEntry


def rollback_target(client: MlflowClient, name: str, current: str | None, to: int | str | None) -> str:
    """The version a rollback from ``current`` goes to (validated), or StewardRegistryError."""
    if current is None:
        raise StewardRegistryError(msg.NOTHING_TO_ROLL_BACK.format(name=name, why=msg.WHY_NO_PRODUCTION))
    if to is not None:
        target = str(get_version(client, name, to).version)
        if int(target) >= int(current):
            raise StewardRegistryError(msg.NOT_EARLIER.format(name=name, to=target, current=current))
        return target
    previous, entry = previous_production(full_history(client, name), current)
    if entry is None:
        why = msg.WHY_NOT_RECORDED.format(version=current, tag=names.TAG_HISTORY)
        raise StewardRegistryError(msg.NOTHING_TO_ROLL_BACK.format(name=name, why=why))
    if previous is None:
        raise StewardRegistryError(
            msg.NOTHING_TO_ROLL_BACK.format(name=name, why=msg.WHY_FIRST.format(version=current))
        )
    return str(get_version(client, name, previous).version)


def rollback(
    name: str,
    *,
    reason: str,
    to: int | str | None = None,
    client: MlflowClient | None = None,
    lock_wait: float = DEFAULT_WAIT,
    lock_ttl: float = DEFAULT_TTL,
) -> RollbackResult:
    """Move ``production`` of ``name`` back to the previous production version, or to version ``to``.

    ``to`` must exist and be earlier (a smaller version number) than the current production
    version; moving forward is :func:`promote`'s job, through the gate. ``reason`` is required and
    goes into the history. The move is recorded in the ``steward.history`` tag and, in full, as
    ``rollback/history.json`` of a run tagged ``steward.step=rollback``. Errors
    (:class:`StewardRegistryError`): unknown model or version, no production model, nothing
    recorded to roll back to, a target that is not earlier, production moved meanwhile;
    :class:`StewardLockError` when the lock stays held.
    """
    client = get_client(client)
    get_model(client, name)
    if not isinstance(reason, str) or not reason.strip():
        raise StewardInputError(msg.EMPTY_REASON.format(name=name))
    current = production_version(client, name)
    target = rollback_target(client, name, current, to)
    assert current is not None  # rollback_target raised otherwise
    target_mv = client.get_model_version(name, target)
    experiment_id = experiment_for(client, target_mv)
    run_id = start_run(
        client, experiment_id=experiment_id, step=names.STEP_ROLLBACK, name=name,
        version=target, run_name=f"rollback {name} v{current} -> v{target}",
    )
    ok = False
    try:
        with RegistryLock(
            client, name, purpose=f"roll back to version {target}", wait=lock_wait, ttl=lock_ttl, run_id=run_id
        ) as lock:
            records = tidy_up(client, name, experiment_id=experiment_id, run_id=run_id, by=whoami())
            recheck_production(client, name, current, f"rolling back to version {target}")
            entry = new_entry(
                records, action=ACTION_ROLLBACK, from_version=current, to_version=target, by=whoami(),
                reason=reason.strip(), run_id=run_id, state=STATE_INTENT,
            )
            log_json(client, run_id, entry.to_dict(), names.ARTIFACT_ROLLBACK_DECISION)
            log_history(client, run_id, [*records, entry], names.ARTIFACT_ROLLBACK_HISTORY)
            client.set_model_version_tag(name, current, names.TAG_ROLLBACK_RUN, run_id)
            write_history(client, name, [*records, entry])  # the intent
            lock.verify()
            recheck_production(client, name, current, f"rolling back to version {target}")
            try:
                set_alias(client, name, names.ALIAS_PRODUCTION, target)
            except BaseException:
                settle_after_error(client, name, by=whoami())
                raise
            entry = replace(entry, state=STATE_CONFIRMED)
            try:
                write_history(client, name, [*records, entry])  # the confirmation
            except Exception as exc:  # the move happened; the next registry operation confirms it
                _logger.warning("rolled back %r, but the confirmation was not written: %s", name, exc)
            mirror_stage(client, name, target, names.STAGE_PRODUCTION, archive_existing=True)
        ok = True
    finally:
        finish_run(client, run_id, ok=ok)
    return RollbackResult(name, current, target, reason.strip(), run_id, entry)

