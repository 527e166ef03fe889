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
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from dataclasses import asdict, dataclass
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


@dataclass(frozen=True)
class HistoryEntry:
    """One move of the ``production`` alias."""

    seq: int
    action: str  # "promote" (gate passed), "force" (gate overridden), "rollback"
    from_version: str | None  # None for the first production model
    to_version: str
    at: str  # ISO 8601, UTC
    by: str  # user@host
    reason: str
    run_id: str | None  # the gate or rollback run that recorded the move

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HistoryEntry:
        return cls(
            seq=int(data["seq"]),
            action=str(data["action"]),
            from_version=None if data.get("from_version") is None else str(data["from_version"]),
            to_version=str(data["to_version"]),
            at=str(data.get("at", "")),
            by=str(data.get("by", "")),
            reason=str(data.get("reason", "")),
            run_id=data.get("run_id"),
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
    """The entries in the tag (the newest ones that fit), oldest first."""
    return parse_history(get_model(client, name).tags.get(names.TAG_HISTORY))


def full_history(client: MlflowClient, name: str) -> list[HistoryEntry]:
    """Every entry, oldest first: the tag, completed from the newest run's artifact if truncated."""
    tagged = read_history(client, name)
    if not tagged or tagged[0].seq == 1 or tagged[-1].run_id is None:
        return tagged
    newest = tagged[-1]
    try:
        archived = parse_history(_load_text_with_client(client, newest))
    except Exception as exc:  # the tag alone is still a correct (if shorter) history
        _logger.warning("could not read the full history of %r from run %s: %s", name, newest.run_id, exc)
        return tagged
    merged = {e.seq: e for e in archived}
    merged.update({e.seq: e for e in tagged})
    return [merged[k] for k in sorted(merged)]


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
) -> HistoryEntry:
    """The next entry after ``previous`` (its ``seq`` continues theirs)."""
    seq = previous[-1].seq + 1 if previous else 1
    return HistoryEntry(
        seq=seq,
        action=action,
        from_version=None if from_version is None else str(from_version),
        to_version=str(to_version),
        at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        by=by,
        reason=reason[:_MAX_REASON],
        run_id=run_id,
    )


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


def previous_production(entries: list[HistoryEntry], current: str) -> tuple[str | None, HistoryEntry | None]:
    """Where a rollback from ``current`` goes: the version production had before ``current`` was
    last *promoted* (rollback entries are skipped, so repeated rollbacks walk further back instead
    of toggling). Returns ``(version or None, the promotion entry or None)``.
    """
    for entry in reversed(entries):
        if entry.to_version == str(current) and entry.action != ACTION_ROLLBACK:
            return entry.from_version, entry
    return None, None
