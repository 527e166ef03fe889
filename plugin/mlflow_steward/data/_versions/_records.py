"""The records of a named dataset: its settings, its versions, its pointer's history.

Where each lives in the tracking store (one experiment ``steward-datasets/<name>`` per dataset):

* settings (the resolved spec, the test share and seed, fixed when the dataset is created): the
  experiment tag ``steward.dataset_settings``;
* each version: one run (``steward.step=dataset_version``) whose tags hold the version number,
  digest, row counts, schema, parent, batch digest, ingest verdict and test-set generation, and
  whose artifacts hold the rows (``dataset/*.parquet``) and ``dataset/manifest.json``;
* the current version and its history: the experiment tags ``steward.dataset_current`` and
  ``steward.dataset_history`` (see ``_pointer.py``).
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from mlflow_steward import names

VERDICT_ACCEPTED = "accepted"  # the checks passed
VERDICT_ALLOWED = "allowed"  # a check failed, taken anyway with --allow (recorded)
VERDICT_QUARANTINED = "quarantined"  # a check failed, kept aside with --quarantine: never current by itself
VERDICT_REJECTED = "rejected"  # a check failed: recorded, no version
VERDICT_REFRESH = "refresh"  # no batch: the test set was refreshed
VERDICTS = (VERDICT_ACCEPTED, VERDICT_ALLOWED, VERDICT_QUARANTINED, VERDICT_REFRESH)

ACTION_CREATE = "create"  # version 1
ACTION_ADD = "add"  # a batch appended
ACTION_REFRESH = "refresh"  # a new test-set generation, no new rows
ACTION_ROLLBACK = "rollback"  # (pointer history) moved back (or to any earlier version)
ACTION_BREAK_LOCK = "break lock"  # (pointer history) a dead or expired holder's lock taken over

DEFAULT_TEST_SHARE = 0.2
DEFAULT_SEED = 42


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class DatasetSettings:
    """Fixed when the dataset is created: the resolved spec (JSON), test share and seed."""

    spec_json: str
    test_share: float = DEFAULT_TEST_SHARE
    seed: int = DEFAULT_SEED
    created: str = ""
    created_by: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DatasetSettings:
        data = json.loads(text)
        return cls(spec_json=str(data["spec_json"]), test_share=float(data["test_share"]), seed=int(data["seed"]),
                   created=str(data.get("created", "")), created_by=str(data.get("created_by", "")))

    @property
    def spec(self) -> Any:
        from mlflow_steward.data._spec import DatasetSpec

        return DatasetSpec.from_json(self.spec_json)


@dataclass(frozen=True)
class DatasetVersion:
    """One version of a named dataset, as recorded on its run."""

    name: str
    version: int
    digest: str
    rows: dict[str, int]  # train, test, retired
    parent: int | None
    batch_digest: str
    batch_rows: int
    verdict: str
    action: str
    generation: int
    schema: tuple[tuple[str, str], ...]
    run_id: str
    experiment_id: str
    created: str
    reason: str = ""
    decisions: int = 0
    promotions: int = 0
    checks: tuple[str, ...] = field(default_factory=tuple)  # the ingest checks that failed

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def n_rows(self) -> int:
        return sum(self.rows.values())

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["schema"] = [list(pair) for pair in self.schema]
        out["checks"] = list(self.checks)
        out["n_rows"] = self.n_rows
        return out

    def tags(self) -> dict[str, str]:
        """The run tags that record this version (the run id and creation time are the run's own)."""
        return {
            names.TAG_DATASET_NAME: self.name,
            names.TAG_DATASET_VERSION: str(self.version),
            names.TAG_DATASET_DIGEST: self.digest,
            names.TAG_DATASET_ROWS: json.dumps(self.rows, sort_keys=True),
            names.TAG_DATASET_PARENT: "" if self.parent is None else str(self.parent),
            names.TAG_BATCH_DIGEST: self.batch_digest,
            names.TAG_DATASET_SCHEMA: json.dumps([list(p) for p in self.schema])[:8000],
            names.TAG_INGEST_VERDICT: self.verdict,
            names.TAG_DATASET_ACTION: self.action,
            names.TAG_TESTSET_GENERATION: str(self.generation),
            "steward.batch_rows": str(self.batch_rows),
            "steward.ingest_checks": json.dumps(list(self.checks))[:8000],
            "steward.reason": self.reason[:5000],
        }

    @classmethod
    def from_run(cls, run: Any) -> DatasetVersion:
        tags = run.data.tags
        created = _dt.datetime.fromtimestamp(run.info.start_time / 1000, _dt.timezone.utc).isoformat(timespec="seconds")
        parent = tags.get(names.TAG_DATASET_PARENT, "")
        return cls(
            name=tags.get(names.TAG_DATASET_NAME, ""),
            version=int(tags[names.TAG_DATASET_VERSION]),
            digest=tags.get(names.TAG_DATASET_DIGEST, ""),
            rows={k: int(v) for k, v in json.loads(tags.get(names.TAG_DATASET_ROWS, "{}")).items()},
            parent=int(parent) if parent else None,
            batch_digest=tags.get(names.TAG_BATCH_DIGEST, ""),
            batch_rows=int(tags.get("steward.batch_rows", "0") or 0),
            verdict=tags.get(names.TAG_INGEST_VERDICT, ""),
            action=tags.get(names.TAG_DATASET_ACTION, ""),
            generation=int(tags.get(names.TAG_TESTSET_GENERATION, "1") or 1),
            schema=tuple(tuple(p) for p in json.loads(tags.get(names.TAG_DATASET_SCHEMA, "[]"))),
            run_id=run.info.run_id,
            experiment_id=run.info.experiment_id,
            created=created,
            reason=tags.get("steward.reason", ""),
            decisions=int(tags.get(names.TAG_TESTSET_DECISIONS, "0") or 0),
            promotions=int(tags.get(names.TAG_TESTSET_PROMOTIONS, "0") or 0),
            checks=tuple(json.loads(tags.get("steward.ingest_checks", "[]") or "[]")),
        )


STATE_INTENT = "intent"
STATE_CONFIRMED = "confirmed"
STATE_NOT_APPLIED = "not applied"


@dataclass(frozen=True)
class PointerEntry:
    """One move of a dataset's current pointer (or a lock break), like a production move."""

    seq: int
    action: str  # create | add | refresh | rollback | break lock
    from_version: int | None
    to_version: int | None
    at: str
    by: str
    reason: str
    run_id: str | None
    state: str = STATE_CONFIRMED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PointerEntry:
        def _int(value: Any) -> int | None:
            return None if value in (None, "") else int(value)

        return cls(
            seq=int(data["seq"]), action=str(data["action"]), from_version=_int(data.get("from_version")),
            to_version=_int(data.get("to_version")), at=str(data.get("at", "")), by=str(data.get("by", "")),
            reason=str(data.get("reason", "")), run_id=data.get("run_id"), state=str(data.get("state", STATE_CONFIRMED)),
        )

    @property
    def is_move(self) -> bool:
        return self.action != ACTION_BREAK_LOCK
