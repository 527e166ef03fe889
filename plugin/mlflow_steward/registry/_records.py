"""Gate and rollback runs: where every decision is recorded as metrics and JSON artifacts.

Runs are written with ``MlflowClient`` only (never the fluent API), so a promotion started inside
someone's active run does not log into it.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from mlflow_steward import names
from mlflow_steward.registry._decision import OVERALL
from mlflow_steward._process import ProcessId

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from mlflow_steward.registry._decision import GateDecision
    from mlflow_steward.registry._history import HistoryEntry

_logger = logging.getLogger(__name__)
_BATCH = 900


def experiment_for(client: MlflowClient, mv: ModelVersion | None) -> str:
    """The experiment of the version's training run, else the active experiment, else Default."""
    if mv is not None and mv.run_id:
        try:
            return client.get_run(mv.run_id).info.experiment_id
        except Exception as exc:  # the run may have been deleted; fall back
            _logger.debug("run %s of version %s not readable: %s", mv.run_id, mv.version, exc)
    import mlflow

    active = mlflow.active_run()
    if active is not None:
        return active.info.experiment_id
    default = client.get_experiment_by_name("Default")
    return default.experiment_id if default is not None else "0"


def start_run(
    client: MlflowClient, *, experiment_id: str, step: str, name: str, version: str, run_name: str,
    extra_tags: dict[str, str] | None = None,
) -> str:
    """Create a run tagged ``steward.step=<step>`` for registered model ``name`` version ``version``
    (a child of the caller's active run when there is one in the same experiment)."""
    import mlflow

    tags = {
        names.TAG_STEP: step,
        names.TAG_MODEL_NAME: name,
        names.TAG_MODEL_VERSION: str(version),
        names.TAG_OWNER: ProcessId.current().to_json(),  # so a later operation can tell it was orphaned
        **(extra_tags or {}),
    }
    active = mlflow.active_run()
    if active is not None and active.info.experiment_id == experiment_id:
        tags[names.MLFLOW_PARENT_RUN_ID] = active.info.run_id  # shown under the caller's run
    return client.create_run(experiment_id, tags=tags, run_name=run_name).info.run_id


def finish_run(client: MlflowClient, run_id: str, *, ok: bool) -> None:
    """Mark the run FINISHED or FAILED (best effort: never masks the original error)."""
    try:
        client.set_terminated(run_id, status="FINISHED" if ok else "FAILED")
    except Exception as exc:
        _logger.warning("could not close run %s: %s", run_id, exc)


def _log_metrics(client: MlflowClient, run_id: str, metrics: dict[str, float]) -> None:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    items = [Metric(k, float(v), now, 0) for k, v in metrics.items() if v is not None]
    for start in range(0, len(items), _BATCH):
        client.log_batch(run_id, metrics=items[start : start + _BATCH])


def gate_metrics(decision: GateDecision) -> dict[str, float]:
    """``challenger/<m>``, ``champion/<m>``, ``difference/<m>`` (+ interval), per-slice differences."""
    m = decision.metric
    out: dict[str, float] = {"gate_passed": float(decision.passed), "gate_forced": float(decision.forced)}
    for row in decision.rows:
        if row.column == OVERALL:
            out[f"challenger/{m}"] = row.challenger
            out[f"champion/{m}"] = row.champion
            if row.difference is not None:
                out[f"difference/{m}"] = row.difference.estimate
                out[names.ci_low(f"difference/{m}")] = row.difference.low
                out[names.ci_high(f"difference/{m}")] = row.difference.high
                out[f"difference/{m}_p_value"] = row.p_value
            continue
        key = names.slice_metric_key(row.column, row.value, f"{m}_difference")
        if row.difference is not None:
            out[key] = row.difference.estimate
            out[names.ci_low(key)] = row.difference.low
            out[names.ci_high(key)] = row.difference.high
            out[names.slice_metric_key(row.column, row.value, f"{m}_p_adjusted")] = row.p_adjusted
        elif row.challenger is not None:
            out[names.slice_metric_key(row.column, row.value, f"challenger_{m}")] = row.challenger
    for result in decision.thresholds:
        key = f"challenger/{result.metric}"
        out[key] = result.interval.estimate
        out[names.ci_low(key)] = result.interval.low
        out[names.ci_high(key)] = result.interval.high
    return {k: v for k, v in out.items() if v is not None}


def log_gate_evaluation(client: MlflowClient, run_id: str, decision: GateDecision) -> None:
    """Metrics, parameters and the forest plot of a decision (before anything is promoted)."""
    _log_metrics(client, run_id, gate_metrics(decision))
    if decision.config is not None:
        from mlflow.entities import Param

        params = [Param(f"gate.{k}", json.dumps(v)[:6000]) for k, v in decision.config.to_dict().items()]
        params.append(Param("gate.resolved_metric", decision.metric))
        client.log_batch(run_id, params=params)
    _log_forest(client, run_id, decision)


def _log_forest(client: MlflowClient, run_id: str, decision: GateDecision) -> None:
    from mlflow_steward.registry._plot import draw_forest, forest_record

    record = forest_record(decision)
    if record is None:
        return
    try:
        figure = draw_forest(record)
    except ImportError as exc:  # matplotlib is optional for the decision itself
        _logger.warning("forest plot skipped: %s", exc)
        return
    client.log_figure(run_id, figure, names.ARTIFACT_GATE_FOREST)


def log_json(client: MlflowClient, run_id: str, payload: Any, artifact_path: str) -> None:
    client.log_text(run_id, json.dumps(payload, indent=2, default=str), artifact_path)


def log_history(client: MlflowClient, run_id: str, entries: list[HistoryEntry], artifact_path: str) -> None:
    """The full production history (the tag keeps only what fits) as a JSON artifact."""
    log_json(client, run_id, [e.to_dict() for e in entries], artifact_path)
