"""What a promotion or rollback tidies up first, holding the lock: what killed processes left behind.

* unconfirmed history intents are decided and written (``confirmed`` when the alias move happened,
  ``not applied`` when it did not; see :mod:`._history`), and the version's ``steward.promotion``
  tag follows, so a version whose promotion never took effect does not read as promoted;
* gate and rollback runs still RUNNING although their process is gone (same machine, see
  ``ProcessId``), or RUNNING for more than :data:`ORPHAN_AGE` seconds (another machine, or a run
  written by an earlier release), are closed as FAILED with the reason in ``steward.closed_reason``.

Stale locks are broken by the lock itself (:mod:`._lock`).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from mlflow_steward import names
from mlflow_steward.registry._client import get_model
from mlflow_steward.registry._history import (
    ACTION_FORCE,
    ACTION_PROMOTE,
    STATE_CONFIRMED,
    HistoryEntry,
    history_records,
    now_iso,
    parse_history,
    resolve,
    write_history,
)
from mlflow_steward._process import ProcessId

if TYPE_CHECKING:
    from mlflow import MlflowClient

_logger = logging.getLogger(__name__)

#: A gate or rollback run lives seconds to minutes after it starts (scoring happens before): one
#: still RUNNING after an hour, whose process cannot be checked, was abandoned.
ORPHAN_AGE = 3600.0
_STEPS = (names.STEP_GATE, names.STEP_ROLLBACK)


def pending_text(entry: HistoryEntry) -> str:
    return (
        f"pending: history #{entry.seq} ({entry.action} {entry.from_version or '–'} -> {entry.to_version}), "
        f"gate run {entry.run_id}; not in production until confirmed"
    )


def promoted_text(entry: HistoryEntry) -> str:
    return f"promoted: history #{entry.seq} at {entry.at}"


def not_applied_text(entry: HistoryEntry, by: str) -> str:
    return (
        f"not applied: history #{entry.seq} ({entry.action} {entry.from_version or '–'} -> {entry.to_version}) "
        f"was interrupted before the production alias moved (found by {by} at {now_iso()})"
    )


def reconcile_history(client: MlflowClient, name: str, *, by: str) -> list[HistoryEntry]:
    """Decide and persist every unconfirmed intent; returns all records. Call it holding the lock
    (an intent is unconfirmed only while its writer holds the lock, or after that writer died).

    The versions' ``steward.promotion`` tags are written before the history, so a kill in between
    leaves the intent to the next call, which writes the same tags again.
    """
    model = get_model(client, name)
    records = history_records(client, name, tagged=parse_history(model.tags.get(names.TAG_HISTORY)))
    production = (model.aliases or {}).get(names.ALIAS_PRODUCTION)
    resolved = resolve(records, None if production is None else str(production))
    changed = [new for old, new in zip(records, resolved) if old.state != new.state]
    if not changed:
        return records
    for entry in changed:
        _logger.warning("history #%s of %r: %s (an interrupted %s)", entry.seq, name, entry.state, entry.action)
        if entry.action in (ACTION_PROMOTE, ACTION_FORCE):
            text = promoted_text(entry) if entry.state == STATE_CONFIRMED else not_applied_text(entry, by)
            set_promotion_tag(client, name, entry.to_version, text)
    write_history(client, name, resolved)
    return resolved


def settle_after_error(client: MlflowClient, name: str, *, by: str) -> None:
    """The alias write raised (the lock is still held): decide the intent now from where production
    is. Best effort: the next registry operation does it otherwise."""
    try:
        reconcile_history(client, name, by=by)
    except Exception as exc:
        _logger.warning("could not settle the history of %r after a failed alias move: %s", name, exc)


def set_promotion_tag(client: MlflowClient, name: str, version: str | None, text: str) -> None:
    """The version's ``steward.promotion`` tag (a deleted version is skipped with a warning)."""
    from mlflow.exceptions import MlflowException

    if version is None:
        return
    try:
        client.set_model_version_tag(name, str(version), names.TAG_PROMOTION, text[:5000])
    except MlflowException as exc:
        _logger.warning("could not tag version %s of %r: %s", version, name, exc)


def close_orphan_runs(
    client: MlflowClient, name: str, experiment_ids: list[str], *, keep: str | None, by: str,
    history: list[HistoryEntry],
) -> list[str]:
    """Close the orphaned gate/rollback runs of ``name`` in ``experiment_ids`` as FAILED (``keep``:
    the caller's own run). Returns the run ids closed."""
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    runs = client.search_runs(
        experiment_ids,
        filter_string=f"tags.`{names.TAG_MODEL_NAME}` = '{escaped}' and attributes.status = 'RUNNING'",
        max_results=500,
    )
    closed = []
    now = time.time()
    for run in runs:
        run_id = run.info.run_id
        if run_id == keep or run.data.tags.get(names.TAG_STEP) not in _STEPS:
            continue
        owner = ProcessId.parse(run.data.tags.get(names.TAG_OWNER))
        age = now - (run.info.start_time or 0) / 1000.0
        if owner is not None and owner.is_gone():
            why = f"its process ({owner}) is gone"
        elif age > ORPHAN_AGE:
            why = f"still RUNNING {age / 3600:.1f} h after it started"
        else:
            continue
        entry = next((e for e in history if e.run_id == run_id and e.is_move), None)
        if entry is None:
            outcome = "it recorded no move of production"
        else:
            took = "took effect" if entry.took_effect else "did not take effect"
            outcome = f"its history entry #{entry.seq} {took}"
        reason = f"closed as FAILED by {by} at {now_iso()}: {why}; {outcome}"
        _logger.warning("run %s of %r: %s", run_id, name, reason)
        client.set_tag(run_id, names.TAG_CLOSED_REASON, reason)
        client.set_terminated(run_id, status="FAILED")
        closed.append(run_id)
    return closed


def tidy_up(client: MlflowClient, name: str, *, experiment_id: str, run_id: str, by: str) -> list[HistoryEntry]:
    """Both of the above, for a promotion or rollback that holds the lock; returns all records."""
    records = reconcile_history(client, name, by=by)
    try:
        close_orphan_runs(client, name, [experiment_id], keep=run_id, by=by, history=records)
    except Exception as exc:  # closing old runs must never stop the operation itself
        _logger.warning("could not close orphaned runs of %r: %s", name, exc)
    return records
