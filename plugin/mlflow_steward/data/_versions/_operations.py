"""What can happen to a named dataset: a batch is planned (checked, nothing written) then committed
as a new version; a rejected batch is recorded; the pointer is rolled back; the test set is refreshed.

Every write runs under the dataset's lock (:data:`~mlflow_steward.names.TAG_LOCK` on its
experiment), re-checks that the current version is still the one the plan was built on, claims the
next version number, writes the version run (rows, manifest, tags) and closes it FINISHED, and only
then moves the pointer (intent, move, confirm; see ``_pointer.py``). A kill anywhere leaves the
pointer where it was or where it was going, never in between; a half-written version run stays
RUNNING (never listed) and is closed FAILED by the next writer on the same machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlflow_steward import names
from mlflow_steward.data._load import load_dataset
from mlflow_steward.data._spec import DatasetSpec
from mlflow_steward.data._version import dataset_digest
from mlflow_steward.data._versions import _frames, _pointer, _store
from mlflow_steward.data._versions import _messages as msg
from mlflow_steward.data._versions._killpoint import kill_point
from mlflow_steward.data._versions._lease import DEFAULT_TTL, DEFAULT_WAIT, Lease, LeaseInfo
from mlflow_steward._process import whoami
from mlflow_steward.data._versions._records import (
    ACTION_ADD,
    ACTION_BREAK_LOCK,
    ACTION_CREATE,
    ACTION_REFRESH,
    ACTION_ROLLBACK,
    DEFAULT_SEED,
    DEFAULT_TEST_SHARE,
    VERDICT_QUARANTINED,
    VERDICT_REFRESH,
    VERDICT_REJECTED,
    DatasetSettings,
    DatasetVersion,
    PointerEntry,
    now_iso,
)
from mlflow_steward.exceptions import StewardInputError

if TYPE_CHECKING:
    from mlflow import MlflowClient


@dataclass(frozen=True, eq=False)
class BatchPlan:
    """A checked batch, ready to become a version (nothing written yet).

    ``batch`` has the dataset's columns and types; ``parent_parts`` the current version's rows
    (widened where the batch needs it); ``reference`` every row of the current version, for the
    ingest checks. ``parent`` is None for the first batch of a new dataset.
    """

    name: str
    source: str
    settings: DatasetSettings
    spec: DatasetSpec
    parent: DatasetVersion | None
    parent_parts: _frames.VersionParts | None
    batch: pd.DataFrame
    duplicates_dropped: int
    experiment_id: str | None

    @property
    def batch_digest(self) -> str:
        return dataset_digest(self.batch.reset_index(drop=True))

    @property
    def reference(self) -> pd.DataFrame | None:
        return None if self.parent_parts is None else self.parent_parts.all_data()


def _check_share_and_seed(test_share: Any, seed: Any) -> None:
    if isinstance(test_share, bool) or not isinstance(test_share, (int, float)) or not 0 < float(test_share) < 1:
        raise StewardInputError(msg.BAD_SHARE.format(value=test_share))
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise StewardInputError(msg.BAD_SEED.format(value=seed))


def _check_same(name: str, key: str, stored: Any, given: Any) -> None:
    if given is not None and given != stored:
        raise StewardInputError(msg.SPEC_DIFFERS.format(name=name, key=key, stored=stored, given=given))


def plan_batch(
    name: str,
    path: str | Path,
    *,
    spec: DatasetSpec | None = None,
    id_column: str | None = None,
    test_share: float | None = None,
    seed: int | None = None,
    client: MlflowClient | None = None,
) -> BatchPlan:
    """Load and check a batch for dataset ``name``; raise a StewardInputError for bad input.

    A new dataset needs ``spec`` (target and task at least; ``id_column`` joins it); an existing one
    takes its stored spec, share and seed (giving different ones is an error). Checks: the file
    loads (``load_dataset``: columns, target, numbers, empty file), the schema matches the current
    version's (columns and kinds), ids are present, unique and new (without an id column: no row
    equal to a row already in the dataset).
    """
    _store.check_name(name)  # before the client: creating one creates a SQLite store
    client = _store.get_client(client)
    source = str(Path(path).expanduser().absolute())
    experiment = _store.find_experiment(client, name)
    if experiment is None or names.TAG_DATASET_SETTINGS not in experiment.tags:
        if spec is None:
            raise StewardInputError(msg.SPEC_NEEDED.format(name=name))
        if id_column is not None and spec.id_column not in (None, id_column):
            _check_same(name, "id column", spec.id_column, id_column)
        if id_column is not None:
            spec = replace(spec, id_column=id_column)
        share = DEFAULT_TEST_SHARE if test_share is None else test_share
        seed = DEFAULT_SEED if seed is None else seed
        _check_share_and_seed(share, seed)
        loaded = load_dataset(path, spec)
        if _frames.BATCH_COLUMN in loaded.frame.columns:
            raise StewardInputError(msg.RESERVED_COLUMN.format(source=source, column=_frames.BATCH_COLUMN))
        _frames.check_ids(loaded.frame, None, loaded.spec.id_column, source=source, dataset=name)
        settings = DatasetSettings(spec_json=loaded.spec.to_json(), test_share=float(share), seed=int(seed),
                                   created=now_iso(), created_by=whoami())
        return BatchPlan(name, source, settings, loaded.spec, None, None, loaded.frame, loaded.duplicates_dropped,
                         None if experiment is None else experiment.experiment_id)
    settings = _store.read_settings(experiment)
    stored = settings.spec
    _check_same(name, "id column", stored.id_column, id_column)
    _check_same(name, "test share", settings.test_share, test_share)
    _check_same(name, "seed", settings.seed, seed)
    if spec is not None:
        for key in ("target", "task", "id_column", "time_column"):
            _check_same(name, key, getattr(stored, key), getattr(spec, key))
    tags = dict(experiment.tags)
    current = _pointer.read_current(tags)
    loose = DatasetSpec(target=stored.target, task=stored.task, missing_markers=stored.missing_markers,
                        id_column=stored.id_column, time_column=stored.time_column)
    loaded = load_dataset(path, loose)
    parent = parent_parts = None
    batch = loaded.frame
    label = name
    if current is not None:
        parent = _store.get_version(client, name, experiment.experiment_id, current)
        label = parent.label
        parent_parts = _store.load_parts(client, parent)
        batch, widen = _frames.conform(batch, parent_parts.train, source=source, dataset=label)
        parent_parts = _frames.widen_parts(parent_parts, widen)
    elif _frames.BATCH_COLUMN in batch.columns:
        raise StewardInputError(msg.RESERVED_COLUMN.format(source=source, column=_frames.BATCH_COLUMN))
    known = None if parent_parts is None else parent_parts.all_data()
    _frames.check_ids(batch, known, stored.id_column, source=source, dataset=label)
    return BatchPlan(name, source, settings, stored, parent, parent_parts, batch, loaded.duplicates_dropped,
                     experiment.experiment_id)


def dataset_lock(
    name: str, *, purpose: str, key: str = names.TAG_LOCK, ttl: float = DEFAULT_TTL, wait: float = DEFAULT_WAIT,
    heartbeat: float | None = None, client: MlflowClient | None = None, experiment_id: str | None = None,
) -> Lease:
    """The lease ``key`` of dataset ``name`` (default: the pointer lock); a take-over of a dead or
    expired holder's lease is recorded in the pointer history."""
    client = _store.get_client(client)
    if experiment_id is None:
        experiment_id = _store.require_experiment(client, name).experiment_id

    def on_break(info: LeaseInfo, why: str) -> None:
        _pointer.record_event(client, experiment_id, action=ACTION_BREAK_LOCK, by=whoami(),
                              reason=f"{key} of {info.owner} ({info.purpose}) taken over: {why}")

    return Lease(client, experiment_id, key=key, label=name, purpose=purpose, ttl=ttl, wait=wait,
                 heartbeat=heartbeat, on_break=on_break)


def _recheck(client: MlflowClient, name: str, experiment_id: str, expected: int | None) -> None:
    now = _pointer.read_current(_store.experiment_tags(client, experiment_id))
    if now != expected:
        raise StewardInputError(msg.POINTER_MOVED.format(
            name=name, before="no version" if expected is None else f"version {expected}",
            after="no version" if now is None else f"version {now}"))


def _write_version(
    client: MlflowClient, *, name: str, experiment_id: str, lease: Lease, parts: _frames.VersionParts,
    number: int, parent: DatasetVersion | None, batch_digest: str, batch_rows: int, verdict: str, action: str,
    generation: int, reason: str, checks: tuple[str, ...], spec_json: str, report: dict | None, html: str | None,
    move_pointer: bool, extra_manifest: dict | None = None,
) -> DatasetVersion:
    run_id = _store.start_version_run(client, experiment_id, name, number, f"{name} v{number}")
    ok = False
    try:
        kill_point("dataset: version run started")
        record = DatasetVersion(
            name=name, version=number, digest=parts.digest(), rows=parts.rows(),
            parent=None if parent is None else parent.version, batch_digest=batch_digest, batch_rows=batch_rows,
            verdict=verdict, action=action, generation=generation, schema=_frames.schema_of(parts.train),
            run_id=run_id, experiment_id=experiment_id, created=now_iso(), reason=reason, checks=checks,
        )
        _store.log_parts(client, run_id, parts)
        manifest = {**record.to_dict(), "batches": parts.batches(), "spec": json.loads(spec_json),
                    "part_digests": {p: dataset_digest(parts.part(p)) for p in _frames.PARTS}, **(extra_manifest or {})}
        _store.log_json(client, run_id, manifest, names.ARTIFACT_DATASET_MANIFEST)
        if report is not None:
            _store.log_json(client, run_id, report, names.ARTIFACT_INGEST_REPORT)
        if html is not None:
            client.log_text(run_id, html, names.ARTIFACT_INGEST_HTML)
        from mlflow.entities import RunTag

        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in {**record.tags(), names.TAG_SPEC: spec_json[:8000]}.items()])
        kill_point("dataset: version written")
        _store.finish_run(client, run_id, ok=True)
        ok = True
    finally:
        if not ok:
            _store.finish_run(client, run_id, ok=False)
    if move_pointer:
        _pointer.move(client, experiment_id, lease=lease, action=action, to_version=number, by=whoami(),
                      reason=reason or f"{action} v{number}", run_id=run_id)
        _describe_experiment(client, experiment_id, record)
    return record


def _describe_experiment(client: MlflowClient, experiment_id: str, record: DatasetVersion) -> None:
    rows = record.rows
    text = (f"Dataset `{record.name}`: current version **{record.version}** ({record.n_rows:,} rows: "
            f"{rows.get('train', 0):,} train, {rows.get('test', 0):,} test, {rows.get('retired', 0):,} retired; "
            f"test-set generation {record.generation}). Versioned by mlflow-steward: `steward data show {record.name}`.")
    try:
        client.set_experiment_tag(experiment_id, "mlflow.note.content", text)
    except Exception:  # the description is a convenience, never a decision
        pass


def commit_batch(
    plan: BatchPlan,
    *,
    verdict: str,
    checks: tuple[str, ...] = (),
    report: dict | None = None,
    html: str | None = None,
    reason: str = "",
    lock_wait: float = DEFAULT_WAIT,
    lock_ttl: float = DEFAULT_TTL,
    client: MlflowClient | None = None,
) -> DatasetVersion:
    """Write ``plan`` as the next version; move the pointer to it unless ``verdict`` is quarantined."""
    client = _store.get_client(client)
    experiment_id = plan.experiment_id or _store.create_experiment(client, plan.name, plan.settings)
    with dataset_lock(plan.name, purpose=f"add {Path(plan.source).name}", wait=lock_wait, ttl=lock_ttl,
                      client=client, experiment_id=experiment_id) as lease:
        _store.close_orphans(client, experiment_id)
        _recheck(client, plan.name, experiment_id, None if plan.parent is None else plan.parent.version)
        number = _store.next_number(client, experiment_id)
        settings = plan.settings
        parts = _frames.append_batch(plan.parent_parts, plan.batch, number=number, id_column=plan.spec.id_column,
                                     share=settings.test_share, seed=settings.seed)
        action = ACTION_ADD if plan.parent is not None else ACTION_CREATE
        return _write_version(
            client, name=plan.name, experiment_id=experiment_id, lease=lease, parts=parts, number=number,
            parent=plan.parent, batch_digest=plan.batch_digest, batch_rows=len(plan.batch), verdict=verdict,
            action=action, generation=1 if plan.parent is None else plan.parent.generation, reason=reason,
            checks=tuple(checks), spec_json=plan.spec.to_json(), report=report, html=html,
            move_pointer=verdict != VERDICT_QUARANTINED,
            extra_manifest={"source": plan.source, "duplicates_dropped": plan.duplicates_dropped},
        )


def record_rejection(
    plan: BatchPlan, *, checks: tuple[str, ...], report: dict, html: str | None, client: MlflowClient | None = None
) -> str:
    """A run (``steward.step=dataset_rejected``) that keeps the report of a rejected batch; no
    version, no rows, nothing moved. Returns its run id."""
    client = _store.get_client(client)
    experiment_id = plan.experiment_id or _store.create_experiment(client, plan.name, plan.settings)
    run_id = _store.start_record_run(client, experiment_id, names.STEP_DATASET_REJECTED, f"{plan.name} rejected batch", {
        names.TAG_DATASET_NAME: plan.name, names.TAG_INGEST_VERDICT: VERDICT_REJECTED,
        names.TAG_BATCH_DIGEST: plan.batch_digest, "steward.batch_rows": str(len(plan.batch)),
        names.TAG_DATASET_PARENT: "" if plan.parent is None else str(plan.parent.version),
        "steward.ingest_checks": json.dumps(list(checks))[:8000], "steward.source": plan.source[:5000],
    })
    try:
        _store.log_json(client, run_id, report, names.ARTIFACT_INGEST_REPORT)
        if html is not None:
            client.log_text(run_id, html, names.ARTIFACT_INGEST_HTML)
    finally:
        _store.finish_run(client, run_id, ok=True)
    return run_id


def rollback_dataset(
    name: str, *, to: int | str, reason: str, lock_wait: float = DEFAULT_WAIT, lock_ttl: float = DEFAULT_TTL,
    client: MlflowClient | None = None,
) -> tuple[PointerEntry, DatasetVersion]:
    """Point dataset ``name`` at version ``to`` (any finished version but the current one), recorded
    in the history with ``reason``. Nothing is deleted; the next batch builds on ``to``."""
    client = _store.get_client(client)
    experiment = _store.require_experiment(client, name)
    if not isinstance(reason, str) or not reason.strip():
        raise StewardInputError(msg.EMPTY_REASON.format(name=name))
    target = _store.get_version(client, name, experiment.experiment_id, _store.check_version(to))
    current = _pointer.read_current(dict(experiment.tags))
    if current == target.version:
        raise StewardInputError(msg.ROLLBACK_SAME.format(name=name, version=target.version))
    experiment_id = experiment.experiment_id
    with dataset_lock(name, purpose=f"roll back to version {target.version}", wait=lock_wait, ttl=lock_ttl,
                      client=client, experiment_id=experiment_id) as lease:
        _store.close_orphans(client, experiment_id)
        _recheck(client, name, experiment_id, current)
        run_id = _store.start_record_run(client, experiment_id, names.STEP_DATASET_ROLLBACK,
                                         f"{name} rollback v{current} -> v{target.version}", {
                                             names.TAG_DATASET_NAME: name,
                                             names.TAG_DATASET_VERSION: str(target.version),
                                             names.TAG_DATASET_PARENT: "" if current is None else str(current),
                                             "steward.reason": reason.strip()[:5000]})
        ok = False
        try:
            entry = _pointer.move(client, experiment_id, lease=lease, action=ACTION_ROLLBACK, to_version=target.version,
                                  by=whoami(), reason=reason.strip(), run_id=run_id)
            _describe_experiment(client, experiment_id, target)
            ok = True
        finally:
            _store.finish_run(client, run_id, ok=ok)
    return entry, target


def fresh_batches(current: _frames.VersionParts, trained: _frames.VersionParts | None) -> list[int]:
    """Batches of the current version that the production model never trained on: those not in the
    version it was trained on (every batch but the newest when that version is unknown)."""
    batches = current.batches()
    if trained is None:
        return batches[-1:]
    return sorted(set(batches) - set(trained.batches()))


def refresh_test_set(
    name: str, *, fresh: list[int], min_rows: int, reason: str, lock_wait: float = DEFAULT_WAIT,
    lock_ttl: float = DEFAULT_TTL, client: MlflowClient | None = None,
) -> DatasetVersion:
    """A new version (action ``refresh``, next test-set generation) whose active test set is drawn
    from the rows of batches ``fresh`` only (see :func:`_frames.refresh_parts`); the current pointer
    moves to it. Raises StewardInputError when those batches cannot give ``min_rows`` rows."""
    client = _store.get_client(client)
    experiment = _store.require_experiment(client, name)
    experiment_id = experiment.experiment_id
    settings = _store.read_settings(experiment)
    current = _pointer.read_current(dict(experiment.tags))
    if current is None:
        raise StewardInputError(msg.NO_CURRENT.format(name=name))
    parent = _store.get_version(client, name, experiment_id, current)
    parts = _store.load_parts(client, parent)
    refreshed = _frames.refresh_parts(parts, fresh_batches=fresh, min_rows=min_rows, id_column=settings.spec.id_column,
                                      seed=settings.seed)
    if refreshed is None:
        raise StewardInputError(msg.NOT_ENOUGH_FRESH.format(
            name=name, rows=_frames.fresh_rows(parts, fresh), since=min(fresh, default=current), needed=min_rows))
    with dataset_lock(name, purpose="refresh the test set", wait=lock_wait, ttl=lock_ttl, client=client,
                      experiment_id=experiment_id) as lease:
        _store.close_orphans(client, experiment_id)
        _recheck(client, name, experiment_id, current)
        number = _store.next_number(client, experiment_id)
        return _write_version(
            client, name=name, experiment_id=experiment_id, lease=lease, parts=refreshed, number=number,
            parent=parent, batch_digest="", batch_rows=0, verdict=VERDICT_REFRESH, action=ACTION_REFRESH,
            generation=parent.generation + 1, reason=reason, checks=(), spec_json=settings.spec_json, report=None,
            html=None, move_pointer=True, extra_manifest={"fresh_batches": sorted(int(b) for b in fresh)},
        )


def record_testset_use(record: DatasetVersion, *, decisions: int, promotions: int, client: MlflowClient | None = None) -> None:
    """Write the gate decisions (and promotions) made on ``record``'s test set onto its run."""
    client = _store.get_client(client)
    client.set_tag(record.run_id, names.TAG_TESTSET_DECISIONS, str(int(decisions)))
    client.set_tag(record.run_id, names.TAG_TESTSET_PROMOTIONS, str(int(promotions)))
