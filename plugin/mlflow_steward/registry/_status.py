"""``status``: versions, aliases, gate verdicts, key metrics (from tags), the lock and the history."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlflow_steward import names
from mlflow_steward.registry._client import get_client, get_model
from mlflow_steward.registry._history import HistoryEntry, full_history
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
    gate: str  # passed | rejected | forced | "" (never gated)
    metrics: dict[str, str]  # metric name -> "value [low, high]" from the steward.metric.* tags
    created: str  # ISO 8601 UTC
    run_id: str | None
    dataset_version: str

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
                 **v.metrics, "created": v.created, "dataset_version": v.dataset_version}
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
    """The state of registered model ``name`` (StewardRegistryError if it does not exist)."""
    client = get_client(client)
    model = get_model(client, name)
    aliases: dict[str, list[str]] = {}
    for alias, version in (model.aliases or {}).items():
        aliases.setdefault(str(version), []).append(alias)
    escaped = name.replace("'", "\\'")
    found = client.search_model_versions(f"name = '{escaped}'")
    versions = []
    for mv in sorted(found, key=lambda m: int(m.version), reverse=True):
        tags = mv.tags or {}
        versions.append(
            VersionStatus(
                version=str(mv.version),
                aliases=tuple(sorted(aliases.get(str(mv.version), []))),
                stage=mv.current_stage or "",
                gate=tags.get(names.TAG_GATE, ""),
                metrics={
                    k[len(names.TAG_METRIC_PREFIX):]: v for k, v in sorted(tags.items())
                    if k.startswith(names.TAG_METRIC_PREFIX)
                },
                created=_iso(mv.creation_timestamp),
                run_id=mv.run_id,
                dataset_version=tags.get(names.TAG_DATASET_VERSION, ""),
            )
        )
    production = (model.aliases or {}).get(names.ALIAS_PRODUCTION)
    staging = (model.aliases or {}).get(names.ALIAS_STAGING)
    history = full_history(client, name)
    lock = LockInfo.parse(model.tags.get(names.TAG_LOCK))
    notes = []
    if history and production is not None and history[-1].to_version != str(production):
        notes.append(
            f"the last history entry (#{history[-1].seq}, to version {history[-1].to_version}) does not "
            f"match production (version {production}): an interrupted promotion, or an alias moved "
            "outside steward"
        )
    if production is not None and not history:
        notes.append(f"production (version {production}) has no recorded history: it was set outside steward")
    if lock is not None:
        state = "expired" if lock.expired() else "held"
        notes.append(f"lock {state}: {lock.owner} ({lock.purpose}), expires {lock.expires_text()}")
    return StatusReport(
        name=name,
        production=None if production is None else str(production),
        staging=None if staging is None else str(staging),
        versions=tuple(versions),
        history=tuple(history),
        lock=lock,
        notes=tuple(notes),
    )
