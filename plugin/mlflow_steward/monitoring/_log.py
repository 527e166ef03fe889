"""Record a drift check as an MLflow run in the model's monitoring experiment.

Experiment ``steward-monitoring/<model name>``; per check a metric ``drift/<column>/<check>`` (the
score) with ``_ci_low``/``_ci_high`` and ``_alarm`` (1 or 0); tags with the verdict
(``steward.drift`` and ``steward.monitor_state``), the window's times and the alarming columns
(what the runs table and the app's pages show); ``monitoring/report.json``, ``monitoring/drift.csv`` and ``monitoring/drift.png``
(training vs window histograms of the columns that drifted). Written with the client API, so it
works inside another active run, and a failure leaves the run FAILED.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from mlflow_steward import names
from mlflow_steward.monitoring._plots import histogram_records, plot_histograms
from mlflow_steward.monitoring._result import DriftResult

MAX_BATCH = 1000


def experiment_name(model_name: str) -> str:
    return f"{names.MONITORING_EXPERIMENT_PREFIX}{model_name}"


def _metrics(result: DriftResult) -> dict[str, float]:
    out: dict[str, float] = {
        "drift/alarms": float(result.overall.alarms),
        "drift/tested": float(result.overall.tested),
        "drift/rows": float(result.overall.rows_current),
        "drift/columns_drifting": float(len(result.overall.columns)),
    }
    for o in result.checks:
        if o.score is None:
            continue
        key = names.drift_metric(o.column, o.check)
        out[key] = o.score
        if o.tested:
            out[key + names.DRIFT_ALARM_SUFFIX] = 1.0 if o.alarm else 0.0
        if o.low is not None and o.high is not None:
            out[names.ci_low(key)] = o.low
            out[names.ci_high(key)] = o.high
    return out


def log_drift_run(
    result: DriftResult,
    *,
    model_name: str,
    model_version: str | None = None,
    experiment: str | None = None,
    params: Mapping[str, Any] | None = None,
    window: tuple[str | None, str | None] = (None, None),
) -> str:
    """Log ``result`` as a new run; return its id. ``window``: the first and last time of the window's
    rows (ISO 8601, UTC) when known (captures), written as ``steward.window_start``/``_end``."""
    import mlflow
    from mlflow.entities import Metric, Param, RunStatus

    client = mlflow.MlflowClient()
    name = experiment or experiment_name(model_name)
    found = client.get_experiment_by_name(name)
    experiment_id = found.experiment_id if found is not None else client.create_experiment(name)
    verdict = result.overall
    tags = {
        names.TAG_STEP: names.STEP_DRIFT,
        names.TAG_MODEL_NAME: model_name,
        names.TAG_DRIFT: verdict.status,
        names.TAG_MONITOR_STATE: verdict.status,
        names.TAG_DRIFT_COLUMNS: ", ".join(verdict.columns)[:5000],
        names.MLFLOW_RUN_NAME: f"drift {model_name}" + (f" v{model_version}" if model_version else ""),
        "mlflow.note.content": result.summary()[:5000],
    }
    if model_version:
        tags[names.TAG_MODEL_VERSION] = str(model_version)
    for tag, moment in zip((names.TAG_WINDOW_START, names.TAG_WINDOW_END), window):
        if moment:
            tags[tag] = moment
    run = client.create_run(experiment_id, tags=tags)
    run_id = run.info.run_id
    try:
        stamp = int(time.time() * 1000)
        metrics = [Metric(k, float(v), stamp, 0) for k, v in _metrics(result).items()]
        logged_params = [Param(str(k), str(v)[:6000]) for k, v in {**(params or {}), "level": verdict.level,
                                                                      "correction": verdict.correction}.items()]  # fmt: skip
        client.log_batch(run_id, params=logged_params)
        for start in range(0, len(metrics), MAX_BATCH):
            client.log_batch(run_id, metrics=metrics[start : start + MAX_BATCH])
        client.log_text(run_id, result.to_json(), names.ARTIFACT_MONITORING_REPORT)
        client.log_text(run_id, result.frame().to_csv(index=False), names.ARTIFACT_DRIFT_TABLE)
        figure = plot_histograms(histogram_records(result), title=result.summary()[:120])
        client.log_figure(run_id, figure, names.ARTIFACT_DRIFT_PLOT)
    except BaseException:
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
        raise
    client.set_terminated(run_id)
    return run_id
