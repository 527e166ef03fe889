"""The current version of a dataset and the history of its moves (who, when, from, to, why).

The design of the registry's production history, on the dataset's experiment:

* ``steward.dataset_current`` (experiment tag) holds the current version number: moving it is
  one tag write, the one write that changes what the next retrain trains on;
* ``steward.dataset_history`` (experiment tag) holds the newest entries that fit in
  :data:`HISTORY_TAG_MAX_CHARS` characters (experiment tags are TEXT, validated up to 20,000);
  every run that moved the pointer also logs the *full* history as ``dataset/history.json``, and
  :func:`full_history` stitches the two when the tag was cut;
* intent, then confirmation: a move is written as an ``intent`` entry before the pointer tag
  changes and confirmed right after. A process killed in between leaves an intent that the next
  writer (holding the lock) reconciles: ``confirmed`` when the pointer is its target, else ``not
  applied``. Readers resolve an open intent the same way, so the history shows only what took effect.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlflow_steward import names
from mlflow_steward.data._versions._killpoint import kill_point
from mlflow_steward.data._versions._records import (
    ACTION_BREAK_LOCK,
    STATE_CONFIRMED,
    STATE_INTENT,
    STATE_NOT_APPLIED,
    PointerEntry,
    now_iso,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from mlflow_steward.data._versions._lease import Lease

_logger = logging.getLogger(__name__)

HISTORY_TAG_MAX_CHARS = 20000
_MAX_REASON = 300


def read_current(tags: dict[str, str]) -> int | None:
    text = tags.get(names.TAG_DATASET_CURRENT, "")
    return int(text) if text.strip().isdigit() else None


def parse_history(text: str | None) -> list[PointerEntry]:
    if not text:
        return []
    try:
        return sorted((PointerEntry.from_dict(d) for d in json.loads(text)), key=lambda e: e.seq)
    except (ValueError, KeyError, TypeError):
        _logger.warning("ignoring an unreadable %s tag", names.TAG_DATASET_HISTORY)
        return []


def resolve(entries: list[PointerEntry], current: int | None) -> list[PointerEntry]:
    """Open intents decided against the pointer: the last one took effect if the pointer is its
    target; any other (older) open intent did not."""
    out = []
    for index, entry in enumerate(entries):
        if entry.state == STATE_INTENT:
            last_move = all(e.state != STATE_CONFIRMED or not e.is_move for e in entries[index + 1:])
            took = last_move and current is not None and entry.to_version == current
            entry = replace(entry, state=STATE_CONFIRMED if took else STATE_NOT_APPLIED)
        out.append(entry)
    return out


def full_history(client: MlflowClient, experiment_id: str, tags: dict[str, str] | None = None) -> list[PointerEntry]:
    """Every entry, oldest first, open intents resolved: the tag, completed from the newest mover's
    ``dataset/history.json`` when the tag no longer starts at entry 1."""
    tags = dict(client.get_experiment(experiment_id).tags) if tags is None else tags
    tagged = parse_history(tags.get(names.TAG_DATASET_HISTORY))
    current = read_current(tags)
    if tagged and tagged[0].seq != 1:
        newest = next((e for e in reversed(tagged) if e.run_id), None)
        if newest is not None:
            try:
                with tempfile.TemporaryDirectory(prefix="steward-history-") as tmp:
                    local = client.download_artifacts(newest.run_id, names.ARTIFACT_DATASET_HISTORY, tmp)
                    archived = parse_history(Path(local).read_text())
                merged = {e.seq: e for e in archived}
                merged.update({e.seq: e for e in tagged})
                tagged = [merged[k] for k in sorted(merged)]
            except Exception as exc:  # the tag alone is still a correct (shorter) history
                _logger.warning("could not read the full dataset history from run %s: %s", newest.run_id, exc)
    return resolve(tagged, current)


def moves(entries: list[PointerEntry]) -> list[PointerEntry]:
    """The moves that took effect (no lock breaks, no unapplied intents)."""
    return [e for e in entries if e.is_move and e.state == STATE_CONFIRMED]


def _fit(entries: list[PointerEntry]) -> str:
    kept = list(entries)
    text = json.dumps([e.to_dict() for e in kept], separators=(",", ":"))
    while len(text) > HISTORY_TAG_MAX_CHARS and len(kept) > 1:
        kept.pop(0)
        text = json.dumps([e.to_dict() for e in kept], separators=(",", ":"))
    return text


def _write(client: MlflowClient, experiment_id: str, entries: list[PointerEntry]) -> None:
    client.set_experiment_tag(experiment_id, names.TAG_DATASET_HISTORY, _fit(entries))


def _next(entries: list[PointerEntry], **fields) -> PointerEntry:
    seq = entries[-1].seq + 1 if entries else 1
    reason = str(fields.pop("reason", ""))[:_MAX_REASON]
    return PointerEntry(seq=seq, at=now_iso(), reason=reason, **fields)


def record_event(client: MlflowClient, experiment_id: str, *, action: str, by: str, reason: str) -> None:
    """Append a non-move event (a lock break) to the history, as confirmed."""
    entries = full_history(client, experiment_id)
    entry = _next(entries, action=action, from_version=None, to_version=None, by=by, reason=reason, run_id=None,
                  state=STATE_CONFIRMED)
    _write(client, experiment_id, [*entries, entry])


def move(
    client: MlflowClient,
    experiment_id: str,
    *,
    lease: Lease,
    action: str,
    to_version: int,
    by: str,
    reason: str,
    run_id: str,
) -> PointerEntry:
    """Move the pointer to ``to_version`` (the caller holds ``lease``): reconcile, write the intent
    (tag + the run's full ``dataset/history.json``), verify the lease, move, confirm."""
    from mlflow_steward.data._versions import _store

    tags = _store.experiment_tags(client, experiment_id)
    current = read_current(tags)
    entries = full_history(client, experiment_id, tags)
    intent = _next(entries, action=action, from_version=current, to_version=int(to_version), by=by, reason=reason,
                   run_id=run_id, state=STATE_INTENT)
    _store.log_json(client, run_id, [e.to_dict() for e in [*entries, intent]], names.ARTIFACT_DATASET_HISTORY)
    _write(client, experiment_id, [*entries, intent])
    kill_point("dataset: before pointer move")
    lease.verify()
    client.set_experiment_tag(experiment_id, names.TAG_DATASET_CURRENT, str(int(to_version)))  # the one write
    kill_point("dataset: after pointer move")
    confirmed = replace(intent, state=STATE_CONFIRMED)
    _write(client, experiment_id, [*entries, confirmed])
    return confirmed


__all__ = ["ACTION_BREAK_LOCK", "full_history", "move", "moves", "read_current", "record_event", "resolve"]
