"""The production history: every move of the ``production`` alias, who, when, from, to, why.

Where it lives, and why in two places:

* the registered-model tag ``steward.history`` holds a JSON list of the newest entries that fit in
  :data:`HISTORY_TAG_MAX_CHARS` characters. MLflow validates registered-model tag values up to
  100,000 characters, but its SQL schema declares ``registered_model_tags.value`` as
  ``VARCHAR(5000)``: SQLite ignores that, PostgreSQL and MySQL refuse longer values. So the tag
  keeps at most 5,000 characters and drops the oldest entries first;
* every gate or rollback run that moved the alias also logs the *full* history up to and including
  its own entry as a JSON artifact (``gate/history.json`` or ``rollback/history.json``).
  :func:`full_history` stitches the two together: when the tag no longer starts at entry 1, it reads
  the artifact of the newest entry's run.

Entries are numbered (``seq``) from 1, so a truncated tag is recognisable.

Intent, then confirmation. A move is written as an *intent* (``state="intent"``) before the alias
moves and *confirmed* right after. A process killed in between leaves an unconfirmed intent; the
next promotion or rollback (holding the lock) reconciles it: if the alias move did happen
(production is, or later moved on from, its target) it becomes ``confirmed``, otherwise ``not
applied`` (kept, numbered, never shown as a move). Readers resolve unconfirmed intents the same way
in memory (:func:`resolve`), so :func:`full_history` holds only what took effect. Entries written
by earlier releases have no state and count as confirmed.

Besides moves, the history records lock breaks (action ``break lock``): a lock taken over because
its owner's process was gone or its lease had expired.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from mlflow_steward import names
from mlflow_steward.registry._client import get_model

if TYPE_CHECKING:
    from mlflow import MlflowClient

_logger = logging.getLogger(__name__)

#: Longest ``steward.history`` tag value written (``VARCHAR(5000)`` in MLflow's SQL schema).
HISTORY_TAG_MAX_CHARS = 5000
_MAX_REASON = 300

ACTION_PROMOTE = "promote"
ACTION_FORCE = "force"
ACTION_ROLLBACK = "rollback"
ACTION_BREAK_LOCK = "break lock"  # not a move: the lock was taken over (owner gone or lease expired)
MOVES = (ACTION_PROMOTE, ACTION_FORCE, ACTION_ROLLBACK)

STATE_INTENT = "intent"  # written before the alias move
STATE_CONFIRMED = "confirmed"  # the alias moved (or: an event that happened)
STATE_NOT_APPLIED = "not applied"  # the process stopped before the alias moved


@dataclass(frozen=True)
class HistoryEntry:
    """One move of the ``production`` alias."""

    seq: int
    action: str  # "promote" (gate passed), "force" (gate overridden), "rollback", "break lock"
    from_version: str | None  # None for the first production model
    to_version: str | None  # production after the move (a lock break: production at the time)
    at: str  # ISO 8601, UTC
    by: str  # user@host
    reason: str
    run_id: str | None  # the gate or rollback run that recorded the move
    state: str = STATE_CONFIRMED  # intent | confirmed | not applied

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def is_move(self) -> bool:
        return self.action in MOVES

    @property
    def took_effect(self) -> bool:
        return self.state == STATE_CONFIRMED

    def describe(self) -> str:
        """``#11 promote 18 -> 19 by me@host at 2026-...``"""
        source = "–" if self.from_version is None else self.from_version
        return f"#{self.seq} {self.action} {source} -> {self.to_version} by {self.by} at {self.at}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HistoryEntry:
        return cls(
            seq=int(data["seq"]),
            action=str(data["action"]),
            from_version=None if data.get("from_version") is None else str(data["from_version"]),
            to_version=None if data.get("to_version") is None else str(data["to_version"]),
            at=str(data.get("at", "")),
            by=str(data.get("by", "")),
            reason=str(data.get("reason", "")),
            run_id=data.get("run_id"),
            state=str(data.get("state") or STATE_CONFIRMED),
        )

    @property
    def artifact_path(self) -> str:
        """Where this entry's run logged the full history."""
        return names.ARTIFACT_ROLLBACK_HISTORY if self.action == ACTION_ROLLBACK else names.ARTIFACT_GATE_HISTORY


def parse_history(text: str | None) -> list[HistoryEntry]:
    """Entries of a ``steward.history`` value, oldest first (an unreadable value gives [])."""
    if not text:
        return []
    try:
        return sorted((HistoryEntry.from_dict(d) for d in json.loads(text)), key=lambda e: e.seq)
    except (ValueError, KeyError, TypeError):
        _logger.warning("ignoring an unreadable %s tag", names.TAG_HISTORY)
        return []


def read_history(client: MlflowClient, name: str) -> list[HistoryEntry]:
    """The entries in the tag (the newest ones that fit), oldest first, states as written."""
    return parse_history(get_model(client, name).tags.get(names.TAG_HISTORY))


def history_records(client: MlflowClient, name: str, *, tagged: list[HistoryEntry] | None = None) -> list[HistoryEntry]:
    """Every entry as written (intents and ``not applied`` ones included), oldest first: the tag,
    completed from the newest move's run artifact if the tag was truncated."""
    tagged = read_history(client, name) if tagged is None else tagged
    if not tagged or tagged[0].seq == 1:
        return tagged
    newest = next((e for e in reversed(tagged) if e.is_move and e.run_id), None)
    if newest is None:
        return tagged
    try:
        archived = parse_history(_load_text_with_client(client, newest))
    except Exception as exc:  # the tag alone is still a correct (if shorter) history
        _logger.warning("could not read the full history of %r from run %s: %s", name, newest.run_id, exc)
        return tagged
    merged = {e.seq: e for e in archived}
    merged.update({e.seq: e for e in tagged})
    return [merged[k] for k in sorted(merged)]


def resolve(entries: list[HistoryEntry], production: str | None) -> list[HistoryEntry]:
    """``entries`` with every unconfirmed intent decided: ``confirmed`` when its alias move happened,
    ``not applied`` when it did not (pure; see the module docstring).

    An intent moved the alias if the next move that took effect started from its target, or, when
    no move followed, if production is its target now.
    """
    out = list(entries)
    for index in range(len(out) - 1, -1, -1):  # newest first, so later moves are already decided
        entry = out[index]
        if entry.state != STATE_INTENT:
            continue
        later = next((e for e in out[index + 1 :] if e.is_move and e.took_effect), None)
        applied = (later.from_version if later is not None else production) == entry.to_version
        out[index] = replace(entry, state=STATE_CONFIRMED if applied else STATE_NOT_APPLIED)
    return out


def full_history(client: MlflowClient, name: str) -> list[HistoryEntry]:
    """What took effect, oldest first: confirmed moves (unconfirmed intents resolved against the
    current ``production`` alias) and lock breaks; entries that never took effect are left out."""
    model = get_model(client, name)
    records = history_records(client, name, tagged=parse_history(model.tags.get(names.TAG_HISTORY)))
    production = (model.aliases or {}).get(names.ALIAS_PRODUCTION)
    return [e for e in resolve(records, None if production is None else str(production)) if e.took_effect]


def _load_text_with_client(client: MlflowClient, entry: HistoryEntry) -> str:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="steward-history-") as tmp:
        local = client.download_artifacts(entry.run_id, entry.artifact_path, tmp)
        return Path(local).read_text()


def new_entry(
    previous: list[HistoryEntry],
    *,
    action: str,
    from_version: str | None,
    to_version: str,
    by: str,
    reason: str,
    run_id: str | None,
    state: str = STATE_CONFIRMED,
) -> HistoryEntry:
    """The next entry after ``previous`` (its ``seq`` continues theirs, ``previous`` must hold every
    record: :func:`history_records`)."""
    seq = previous[-1].seq + 1 if previous else 1
    return HistoryEntry(
        seq=seq,
        action=action,
        from_version=None if from_version is None else str(from_version),
        to_version=None if to_version is None else str(to_version),
        at=now_iso(),
        by=by,
        reason=reason[:_MAX_REASON],
        run_id=run_id,
        state=state,
    )


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def dumps(entries: list[HistoryEntry]) -> str:
    return json.dumps([e.to_dict() for e in entries], separators=(",", ":"))


def fit_to_tag(entries: list[HistoryEntry], limit: int = HISTORY_TAG_MAX_CHARS) -> str:
    """JSON of the newest entries whose encoding fits in ``limit`` characters."""
    kept = list(entries)
    text = dumps(kept)
    while len(text) > limit and len(kept) > 1:
        kept.pop(0)
        text = dumps(kept)
    return text


def write_history(client: MlflowClient, name: str, entries: list[HistoryEntry]) -> None:
    """Write the ``steward.history`` tag (newest entries that fit)."""
    client.set_registered_model_tag(name, names.TAG_HISTORY, fit_to_tag(entries))


def append_event(client: MlflowClient, name: str, *, action: str, by: str, reason: str, run_id: str | None) -> HistoryEntry:
    """Record an event that is not a move (a lock break) at production's current version.
    The caller holds the lock."""
    model = get_model(client, name)
    records = history_records(client, name, tagged=parse_history(model.tags.get(names.TAG_HISTORY)))
    production = (model.aliases or {}).get(names.ALIAS_PRODUCTION)
    production = None if production is None else str(production)
    entry = new_entry(records, action=action, from_version=production, to_version=production, by=by,
                      reason=reason, run_id=run_id)
    write_history(client, name, [*records, entry])
    return entry


def previous_production(entries: list[HistoryEntry], current: str) -> tuple[str | None, HistoryEntry | None]:
    """Where a rollback from ``current`` goes: the version production had before ``current`` was
    last *promoted* (rollback entries are skipped, so repeated rollbacks walk further back instead
    of toggling). Returns ``(version or None, the promotion entry or None)``.
    """
    for entry in reversed(entries):
        if entry.to_version == str(current) and entry.action in (ACTION_PROMOTE, ACTION_FORCE) and entry.took_effect:
            return entry.from_version, entry
    return None, None
