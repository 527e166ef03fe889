"""What a killed retrain leaves behind, and how the next retrain tidies it up.

Holding the dataset's retrain lock, no other retrain of that dataset can be alive, so any retrain
run of it still RUNNING is an orphan: it and its RUNNING step and trial runs are closed FAILED
(never reused: only FINISHED steps are). A model version it registered but did not gate stays a
candidate: if the new retrain (same data, same code) arrives at that very version (its train step
reused, :func:`~mlflow_steward.steps.register_once`), it is gated like any candidate; otherwise
it is marked not deployable (``steward.deployable=false``, its description says why, the
``staging`` alias leaves it) and ``promote`` refuses it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mlflow_steward import names
from mlflow_steward._paging import every_page

_logger = logging.getLogger(__name__)
CLOSED = "retrain run {run} was killed before it finished; closed by retrain run {by}"
LEFT_BEHIND = (
    "registered by retrain run {run}, which was killed before the gate decided on it; the next retrain "
    "(run {by}) went to the gate with version {candidate} instead"
)


@dataclass(frozen=True)
class Orphan:
    """A killed retrain run and the ungated model versions its steps registered."""

    run_id: str
    versions: tuple[str, ...]


def _search(client: Any, experiment_id: str, query: str) -> list[Any]:
    return every_page(client.search_runs, [experiment_id], filter_string=query)


def close_orphans(client: Any, experiment_id: str, *, dataset: str, model: str, by: str) -> list[Orphan]:
    """Close every RUNNING retrain run of ``dataset`` (and its RUNNING descendants) as FAILED."""
    query = (f"tags.`{names.TAG_STEP}` = '{names.STEP_RETRAIN}' and tags.`{names.TAG_DATASET_NAME}` = '{dataset}' "
             "and attributes.status = 'RUNNING'")
    orphans = [r for r in _search(client, experiment_id, query) if r.info.run_id != by]
    if not orphans:
        return []
    running = _search(client, experiment_id, "attributes.status = 'RUNNING'")
    children: dict[str, list[str]] = {}
    for run in running:
        parent = run.data.tags.get(names.MLFLOW_PARENT_RUN_ID)
        if parent:
            children.setdefault(parent, []).append(run.info.run_id)
    found = []
    for orphan in orphans:
        run_id = orphan.info.run_id
        stack, closing = [run_id], []
        while stack:
            current = stack.pop()
            closing.append(current)
            stack.extend(children.get(current, []))
        for closed in reversed(closing):
            try:
                client.set_tag(closed, names.TAG_CLOSED_REASON, CLOSED.format(run=run_id, by=by))
                client.set_terminated(closed, status="FAILED")
            except Exception as exc:  # closing is tidying up, never a decision
                _logger.warning("could not close orphaned run %s: %s", closed, exc)
        found.append(Orphan(run_id, _ungated_versions(client, experiment_id, model, run_id)))
    return found


def _ungated_versions(client: Any, experiment_id: str, model: str, retrain_run_id: str) -> tuple[str, ...]:
    query = f"tags.`{names.MLFLOW_PARENT_RUN_ID}` = '{retrain_run_id}'"
    steps = [r for r in _search(client, experiment_id, query)
             if r.data.tags.get(names.TAG_STEP) in ("train", names.STEP_ENSEMBLE)]
    escaped = model.replace("'", "\\'")
    versions = []
    for run in steps:
        try:
            found = client.search_model_versions(f"name = '{escaped}' and run_id = '{run.info.run_id}'")
        except Exception:
            found = []
        versions.extend(str(mv.version) for mv in found if not (mv.tags or {}).get(names.TAG_GATE))
    return tuple(sorted(set(versions), key=int))


def settle(client: Any, model: str, orphans: list[Orphan], *, candidate: str | None, by: str) -> list[str]:
    """Mark not deployable every ungated version of ``orphans`` but ``candidate``; returns them."""
    from mlflow_steward import registry

    marked = []
    for orphan in orphans:
        for version in orphan.versions:
            if version == candidate:
                continue
            mv = client.get_model_version(model, version)
            if (mv.tags or {}).get(names.TAG_GATE):
                continue
            registry.mark_not_deployable(model, version, LEFT_BEHIND.format(run=orphan.run_id, by=by,
                                                                            candidate=candidate or "none"),
                                         client=client)
            marked.append(version)
    return marked
