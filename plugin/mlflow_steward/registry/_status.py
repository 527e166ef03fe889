"""``status``: versions, aliases, gate verdicts, key metrics (from tags), the lock and the history."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlflow_steward import names
from mlflow_steward.registry._client import get_client, get_model
from mlflow_steward.registry._history import (
    ACTION_FORCE,
    ACTION_PROMOTE,
    STATE_INTENT,
    STATE_NOT_APPLIED,
    HistoryEntry,
    history_records,
    parse_history,
    resolve,
)
from mlflow_steward.registry._lock import LockInfo

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient


@dataclass(frozen=True)
class VersionStatus:
    """One registered version as steward sees it."""

    version: str
    aliases: tuple[str, ...]
    stage: str
    gate: str  # passed | rejected | forced | "" (never gated); "passed (not applied)" when the
    # promotion that followed never moved the alias, "passed (pending)" while it is in progress
    metrics: dict[str, str]  # metric name -> "value [low, high]" from the steward.metric.* tags
    created: str  # ISO 8601 UTC
    run_id: str | None
    dataset_version: str
    promotion: str = ""  # the steward.promotion tag: pending | promoted | not applied (history #)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "aliases": list(self.aliases)}


@dataclass(frozen=True)
class StatusReport:
    """The registry state of one model. ``notes`` flag inconsistencies (a history entry that did not
    take effect, an alias moved outside steward, a held or expired lock)."""

    name: str
    production: str | None
    staging: str | None
    versions: tuple[VersionStatus, ...]  # newest first
    history: tuple[HistoryEntry, ...]  # oldest first
    lock: LockInfo | None
    notes: tuple[str, ...]

    def frame(self) -> pd.DataFrame:
        """One row per version (newest first), metrics as columns."""
        import pandas as pd

        rows = []
        for v in self.versions:
            rows.append(
                {"version": v.version, "aliases": ", ".join(v.aliases), "stage": v.stage, "gate": v.gate,
                 **v.metrics, "created": v.created, "dataset_version": v.dataset_version,
                 "promotion": v.promotion}
            )
        return pd.DataFrame(rows)

    def history_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([e.to_dict() for e in self.history])

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "production": self.production,
            "staging": self.staging,
            "versions": [v.to_dict() for v in self.versions],
            "history": [e.to_dict() for e in self.history],
            "lock": None if self.lock is None else self.lock.to_dict(),
            "notes": list(self.notes),
        }


def _iso(millis: int | None) -> str:
    if not millis:
        return ""
    return _dt.datetime.fromtimestamp(millis / 1000, _dt.timezone.utc).isoformat(timespec="seconds")


def status(name: str, *, client: MlflowClient | None = None) -> StatusReport:
    """The state of registered model ``name`` (StewardRegistryError if it does not exist).

    Read-only. The history holds what took effect: unconfirmed intents are resolved against the
    ``production`` alias as the next promotion would (:func:`._history.resolve`), entries that were
    not applied are left out and named in ``notes``, and so is a promotion in progress.
    """
    client = get_client(client)
    model = get_model(client, name)
    aliases: dict[str, list[str]] = {}
    for alias, version in (model.aliases or {}).items():
        aliases.setdefault(str(version), []).append(alias)
    production = (model.aliases or {}).get(names.ALIAS_PRODUCTION)
    production = None if production is None else str(production)
    staging = (model.aliases or {}).get(names.ALIAS_STAGING)
    lock = LockInfo.parse(model.tags.get(names.TAG_LOCK))
    records = history_records(client, name, tagged=parse_history(model.tags.get(names.TAG_HISTORY)))
    resolved = resolve(records, production)
    in_progress = _in_progress(records, lock)
    notes = _history_notes(records, resolved, in_progress)
    history = [e for e in resolved if e.took_effect]
    moves = [e for e in history if e.is_move]
    if moves and production is not None and moves[-1].to_version != production:
        notes.append(
            f"the last history entry (#{moves[-1].seq}, to version {moves[-1].to_version}) does not "
            f"match production (version {production}): an alias moved outside steward"
        )
    if production is not None and not moves:
        notes.append(f"production (version {production}) has no recorded history: it was set outside steward")
    if lock is not None:
        state = "held" if lock.stale_reason() is None else f"stale ({lock.stale_reason()})"
        notes.append(f"lock {state}: {lock.owner} ({lock.purpose}), expires {lock.expires_text()}")
    latest: dict[str | None, HistoryEntry] = {}  # each version's newest promotion attempt
    for entry in resolved:
        if entry.action in (ACTION_PROMOTE, ACTION_FORCE):
            latest[entry.to_version] = entry
    not_applied = {v: e for v, e in latest.items() if e.state == STATE_NOT_APPLIED}
    escaped = name.replace("'", "\\'")
    found = client.search_model_versions(f"name = '{escaped}'")
    versions = [
        _version_status(mv, aliases, not_applied, in_progress) for mv in sorted(found, key=lambda m: int(m.version), reverse=True)
    ]
    return StatusReport(
        name=name,
        production=production,
        staging=None if staging is None else str(staging),
        versions=tuple(versions),
        history=tuple(history),
        lock=lock,
        notes=tuple(notes),
    )


def _in_progress(records: list[HistoryEntry], lock: LockInfo | None) -> HistoryEntry | None:
    """The newest entry when it is an intent whose writer still holds the lock (a live promotion)."""
    if not records or records[-1].state != STATE_INTENT or lock is None or lock.stale_reason() is not None:
        return None
    return records[-1]


def _history_notes(records: list[HistoryEntry], resolved: list[HistoryEntry], in_progress: HistoryEntry | None) -> list[str]:
    notes = []
    for written, decided in zip(records, resolved):
        if in_progress is not None and written.seq == in_progress.seq:
            notes.append(f"in progress: history {written.describe()} (not in production until confirmed)")
        elif decided.state == STATE_NOT_APPLIED:
            notes.append(
                f"never took effect: history {written.describe()} was interrupted before the production "
                "alias moved (not shown in the history)"
            )
        elif written.state == STATE_INTENT:
            notes.append(
                f"history {written.describe()} took effect; its confirmation was interrupted and the next "
                "promotion or rollback records it"
            )
    return notes


def _version_status(
    mv: Any, aliases: dict[str, list[str]], not_applied: dict[str | None, HistoryEntry],
    in_progress: HistoryEntry | None,
) -> VersionStatus:
    tags = mv.tags or {}
    version = str(mv.version)
    gate = tags.get(names.TAG_GATE, "")
    promotion = tags.get(names.TAG_PROMOTION, "")
    if in_progress is not None and in_progress.to_version == version:
        promotion, gate = promotion or "pending", f"{gate} (pending)" if gate else gate
    elif version in not_applied and names.ALIAS_PRODUCTION not in aliases.get(version, []):
        entry = not_applied[version]
        if not promotion.startswith("not applied"):  # decided here; the next operation writes it
            promotion = f"not applied: history #{entry.seq} was interrupted before the production alias moved"
        gate = f"{gate} (not applied)" if gate and promotion.startswith("not applied") else gate
    return VersionStatus(
        version=version,
        aliases=tuple(sorted(aliases.get(version, []))),
        stage=mv.current_stage or "",
        gate=gate,
        metrics={
            k[len(names.TAG_METRIC_PREFIX):]: v for k, v in sorted(tags.items())
            if k.startswith(names.TAG_METRIC_PREFIX)
        },
        created=_iso(mv.creation_timestamp),
        run_id=mv.run_id,
        dataset_version=tags.get(names.TAG_DATASET_VERSION, ""),
        promotion=promotion,
    )
