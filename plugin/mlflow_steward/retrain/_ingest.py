"""``steward data add``: check a labelled batch against the current version, then keep it or not.

1. :func:`mlflow_steward.data.plan_batch` loads the batch and refuses bad input before anything is
   written (unknown dataset without a spec, schema mismatch, missing or duplicated ids, rows
   already in the dataset, an empty file): a StewardInputError, exit code 2;
2. the ingest checks (:mod:`._checks`, on monitoring's profiles and drift checks) compare the batch
   with the current version: label distribution, label given the features, feature distributions,
   share of out-of-range values;
3. all passed: the batch becomes the next version and the current pointer moves to it. A check
   failed: by default the batch is **rejected** (a ``dataset_rejected`` run keeps the report,
   nothing else is written; exit code 3); with ``quarantine`` it is stored as a version the pointer
   does not move to (exit code 3); with ``allow`` it becomes current anyway, its verdict
   ``allowed`` and the failed checks recorded on the version (exit code 0).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlflow_steward import data
from mlflow_steward.retrain._checks import IngestCheck, run_checks
from mlflow_steward.retrain._config import IngestConfig
from mlflow_steward.retrain._ingest_report import ingest_html, ingest_report

EXIT_OK = 0
EXIT_REJECTED = 3  # a check failed: the batch was rejected or quarantined (2 is bad input)

Echo = Callable[[str], None]


@dataclass(frozen=True)
class IngestResult:
    """What happened to a batch."""

    dataset: str
    source: str
    verdict: str  # accepted | allowed | quarantined | rejected
    checks: tuple[IngestCheck, ...]
    version: Any = None  # data.DatasetVersion when stored
    run_id: str | None = None
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> tuple[IngestCheck, ...]:
        return tuple(c for c in self.checks if not c.passed)

    @property
    def exit_code(self) -> int:
        return EXIT_REJECTED if self.verdict in (data.VERDICT_REJECTED, data.VERDICT_QUARANTINED) else EXIT_OK

    def summary(self) -> str:
        name = Path(self.source).name
        if self.verdict == data.VERDICT_REJECTED:
            why = "; ".join(c.detail for c in self.failed)
            return f"REJECTED {name} for dataset {self.dataset}: {why} (nothing stored; run {self.run_id} has the report)"
        where = f"{self.version.label} ({self.version.n_rows:,} rows, {self.version.rows['test']:,} in the test set)"
        if self.verdict == data.VERDICT_QUARANTINED:
            why = "; ".join(c.detail for c in self.failed)
            return f"QUARANTINED {name} as {where}, not current: {why}"
        if self.verdict == data.VERDICT_ALLOWED:
            why = "; ".join(c.name for c in self.failed)
            return f"ALLOWED {name} as {where}, now current, although these checks failed: {why}"
        return f"ACCEPTED {name} as {where}, now current"

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset, "source": self.source, "verdict": self.verdict,
            "checks": [c.to_dict() for c in self.checks], "run_id": self.run_id,
            "version": None if self.version is None else self.version.to_dict(), "exit_code": self.exit_code,
        }


def ingest(
    name: str,
    path: str | Path,
    *,
    spec: Any = None,
    id_column: str | None = None,
    test_share: float | None = None,
    seed: int | None = None,
    config: IngestConfig | dict | None = None,
    reason: str = "",
    echo: Echo = print,
) -> IngestResult:
    """Check ``path`` against dataset ``name`` and store it as its next version (see the module doc)."""
    config = IngestConfig.coerce(config)
    plan = data.plan_batch(name, path, spec=spec, id_column=id_column, test_share=test_share, seed=seed)
    parent = "a new dataset" if plan.parent is None else plan.parent.label
    echo(f"[ingest] {len(plan.batch):,} rows from {Path(plan.source).name} against {parent}")
    checks = run_checks(plan, config)
    failed = tuple(c for c in checks if not c.passed)
    for check in checks:
        echo(f"[ingest] {'ok  ' if check.passed else 'FAIL'} {check.name}: {check.detail}")
    if not failed:
        verdict = data.VERDICT_ACCEPTED
    else:
        verdict = {"allow": data.VERDICT_ALLOWED, "quarantine": data.VERDICT_QUARANTINED}.get(
            config.on_failure, data.VERDICT_REJECTED)
    report = ingest_report(plan, checks, verdict)
    html = ingest_html(plan, checks, verdict, report)
    failed_names = tuple(c.name for c in failed)
    if verdict == data.VERDICT_REJECTED:
        run_id = data.record_rejection(plan, checks=failed_names, report=report, html=html)
        return IngestResult(name, plan.source, verdict, checks, None, run_id, report)
    note = reason or (f"{verdict}: {', '.join(failed_names)} failed" if failed else "")
    version = data.commit_batch(plan, verdict=verdict, checks=failed_names, report=report, html=html, reason=note,
                                lock_wait=config.lock_wait)
    return IngestResult(name, plan.source, verdict, checks, version, version.run_id, report)


def dumps(result: IngestResult) -> str:
    return json.dumps(result.to_dict(), indent=2, default=str)
