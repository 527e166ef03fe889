"""Record one checked window of ``steward monitor`` as an MLflow run: the layout the app's pages read.

Experiment ``steward-monitoring/<model>`` (the one ``steward drift`` uses). Tags: ``steward.step =
monitor``, model name and version, ``steward.window_start``/``_end``, ``steward.monitor_state``
(healthy | drift | performance), ``steward.monitor_key`` (the cron lookup), the drift and
performance verdicts. Metrics, all stamped with the window's end (so MLflow's charts put windows on
a time axis): ``drift/<column>/<check>`` (+ ``_ci_low``/``_ci_high``/``_alarm``), ``live/<metric>``
(+ ``_ci_low``/``_ci_high``/``_alarm``), ``live/n_labels``, ``live/accuracy_estimate`` (+ interval),
``live_slice/<column>/<value>/<metric>`` (+ interval), ``window/rows``, ``window/requests``.
Artifacts: ``monitoring/report.json``, ``monitoring/report.html`` (self-contained),
``monitoring/dashboard.png``, ``monitoring/live.csv``, ``monitoring/drift.csv`` and, when something
drifted, ``monitoring/drift.png``. A failure leaves the run FAILED (never looked up as checked).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mlflow_steward import names
from mlflow_steward.monitoring._log import MAX_BATCH
from mlflow_steward.monitoring._log import _metrics as drift_metrics

if TYPE_CHECKING:  # pragma: no cover
    from mlflow_steward.monitoring._context import ModelContext
    from mlflow_steward.monitoring._live import WindowCheck
    from mlflow_steward.monitoring._monitor_config import MonitorConfig


def _put(out: dict[str, float], key: str, value: Any) -> None:
    if value is None:
        return
    value = float(value)
    if value == value and abs(value) != float("inf"):
        out[key] = value


def window_metrics(check: WindowCheck) -> dict[str, float]:
    """Every metric of a checked window (see the module docstring)."""
    out: dict[str, float] = {}
    if check.drift is not None:
        out.update(drift_metrics(check.drift))
    _put(out, "window/rows", check.rows)
    _put(out, "window/requests", check.requests)
    performance = check.performance
    if performance is not None:
        _put(out, names.LIVE_LABELS_METRIC, performance.n_labels)
        for m in performance.overall:
            key = names.live_metric(m.metric)
            _put(out, key, m.value)
            _put(out, names.ci_low(key), m.low)
            _put(out, names.ci_high(key), m.high)
            if m.value is not None and m.test is not None:
                out[key + names.ALARM_SUFFIX] = 1.0 if m.alarm else 0.0
        for record in performance.by_slice.to_dict("records"):
            key = names.live_slice_metric(record["slice_column"], record["slice_value"], record["metric"])
            _put(out, key, record["value"])
            _put(out, names.ci_low(key), record["ci_low"])
            _put(out, names.ci_high(key), record["ci_high"])
    estimate = check.estimate
    if estimate is not None and estimate.reported:
        key = names.live_metric(estimate.metric + names.LIVE_ESTIMATE_SUFFIX)
        _put(out, key, estimate.value)
        _put(out, names.ci_low(key), estimate.low)
        _put(out, names.ci_high(key), estimate.high)
    return out


def window_report(check: WindowCheck, context: ModelContext, *, unmatched: int = 0) -> dict[str, Any]:
    """``monitoring/report.json``."""
    return {"model": {"name": context.ref.name, "version": context.ref.version, "uri": context.ref.uri,
                      "task": context.task},
            "test_values": {k: {"value": v.value, "ci_low": v.low, "ci_high": v.high} for k, v in context.test_values.items()},
            "unmatched_labels": unmatched, **check.to_dict()}  # fmt: skip


def log_window(
    check: WindowCheck,
    context: ModelContext,
    *,
    experiment: str,
    params: Mapping[str, Any] | None = None,
    unmatched: int = 0,
    config: MonitorConfig | None = None,
) -> str:
    """Log ``check`` as a new run of ``experiment``; return its id."""
    import mlflow
    from mlflow.entities import Metric, Param, RunStatus

    from mlflow_steward.monitoring._dashboard import dashboard_record, draw_dashboard
    from mlflow_steward.monitoring._plots import histogram_records, plot_histograms
    from mlflow_steward.monitoring._report_html import report_html

    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found is not None else client.create_experiment(experiment)
    ref = context.ref
    performance = check.performance
    drift = check.drift
    tags = {
        names.TAG_STEP: names.STEP_MONITOR,
        names.TAG_MODEL_NAME: ref.name,
        names.TAG_MODEL_VERSION: str(ref.version),
        names.TAG_WINDOW_START: check.window.start.isoformat(),
        names.TAG_WINDOW_END: check.window.end.isoformat(),
        names.TAG_MONITOR_STATE: check.state,
        names.TAG_MONITOR_KEY: check.key,
        names.TAG_DRIFT: drift.overall.status if drift is not None else names.MONITOR_HEALTHY,
        names.TAG_DRIFT_COLUMNS: ", ".join(drift.overall.columns)[:5000] if drift is not None else "",
        names.TAG_PERFORMANCE: performance.status if performance is not None else "",
        names.TAG_LIVE_ALARMS: ", ".join(m.metric for m in performance.alarms) if performance is not None else "",
        names.MLFLOW_RUN_NAME: f"monitor {ref.name} v{ref.version} {check.window.describe()}",
        "mlflow.note.content": check.summary()[:5000],
    }
    run = client.create_run(experiment_id, tags=tags)
    run_id = run.info.run_id
    try:
        stamp = int(check.window.end.timestamp() * 1000)
        metrics = [Metric(k, v, stamp, 0) for k, v in window_metrics(check).items()]
        logged = {**{k: v for k, v in (params or {}).items() if v is not None}, "model_uri": ref.uri,
                  "window_start": check.window.start.isoformat(), "window_end": check.window.end.isoformat()}
        if config is not None:
            logged["config"] = json.dumps({"drift": config.drift.to_dict(), "performance": config.performance.to_dict()})
        client.log_batch(run_id, params=[Param(str(k), str(v)[:6000]) for k, v in logged.items()])
        for start in range(0, len(metrics), MAX_BATCH):
            client.log_batch(run_id, metrics=metrics[start : start + MAX_BATCH])
        report = window_report(check, context, unmatched=unmatched)
        client.log_text(run_id, json.dumps(report, indent=1, allow_nan=False, default=str), names.ARTIFACT_MONITORING_REPORT)
        if performance is not None:
            client.log_text(run_id, performance.frame().to_csv(index=False), names.ARTIFACT_LIVE_TABLE)
        if drift is not None:
            client.log_text(run_id, drift.frame().to_csv(index=False), names.ARTIFACT_DRIFT_TABLE)
        record = dashboard_record(check, context)
        figure = draw_dashboard(record)
        client.log_figure(run_id, figure, names.ARTIFACT_MONITORING_DASHBOARD)
        client.log_text(run_id, report_html(check, context, figure=figure, unmatched=unmatched),
                        names.ARTIFACT_MONITORING_HTML)  # fmt: skip
        if drift is not None and drift.overall.drift:
            client.log_figure(run_id, plot_histograms(histogram_records(drift), title=drift.summary()[:120]),
                              names.ARTIFACT_DRIFT_PLOT)  # fmt: skip
    except BaseException:
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
        raise
    client.set_terminated(run_id)
    return run_id
