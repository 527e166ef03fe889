"""The newest monitor results, pushed to a Prometheus Pushgateway (``steward monitor --pushgateway URL``).

``steward monitor`` is a batch job (cron), the case the Pushgateway exists for: each run replaces
the metrics of its group (``job="steward_monitor"``, ``model="<name>"``) with those of the newest
window it checked, so Prometheus always scrapes the latest verdict. Served-model metrics (requests,
latency, capture) come from the scoring server's own ``/metrics`` (``serving``), not from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlflow_steward import names

if TYPE_CHECKING:  # pragma: no cover
    from mlflow_steward.monitoring._live import MonitorRun

JOB = "steward_monitor"
STATE_VALUES = {names.MONITOR_HEALTHY: 0, names.MONITOR_DRIFT: 1, names.MONITOR_PERFORMANCE: 2}

#: Every metric pushed (name -> help); the Grafana dashboard may use only these and the serving ones.
PUSHED_METRICS: dict[str, str] = {
    "steward_monitor_state": "Newest checked window: 0 healthy, 1 drift, 2 performance worse than test",
    "steward_monitor_alerting": "1 when the newest checked window drifted or performed worse than test",
    "steward_monitor_window_end_timestamp_seconds": "End of the newest checked window (Unix time)",
    "steward_monitor_last_run_timestamp_seconds": "When steward monitor last pushed (Unix time)",
    "steward_monitor_rows": "Captured rows in the newest checked window",
    "steward_monitor_labels": "Labelled rows in the newest checked window",
    "steward_monitor_drift_score": "Drift score of one check of one column (its own unit)",
    "steward_monitor_drift_alarm": "1 when that drift check alarmed",
    "steward_monitor_live_metric": "Live metric of the newest checked window",
    "steward_monitor_live_metric_ci_low": "Lower bound of the live metric's interval",
    "steward_monitor_live_metric_ci_high": "Upper bound of the live metric's interval",
    "steward_monitor_live_alarm": "1 when the live metric's interval lies beyond the test value's margin",
    "steward_monitor_test_metric": "The version's test-set value of the metric (recorded at registration)",
    "steward_monitor_accuracy_estimate": "Accuracy estimated from probabilities (calibrated classifiers)",
}


def push_results(url: str, run: MonitorRun, *, timeout_s: float = 10.0) -> str:
    """Push the newest checked window of ``run``; returns one line saying what happened (never raises
    for an unreachable gateway: the check's verdict stands)."""
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

    import time

    checked = [w for w in run.windows if w.checked]
    if not checked:
        return "pushgateway: nothing newly checked to push"
    check = checked[-1]
    registry = CollectorRegistry()
    base = {"model": run.model.name, "version": str(run.model.version)}

    def gauge(name: str, extra: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, PUSHED_METRICS[name], ["version", *extra], registry=registry)

    version = base["version"]
    gauge("steward_monitor_state").labels(version).set(STATE_VALUES.get(check.state, 0))
    gauge("steward_monitor_alerting").labels(version).set(0 if check.state == names.MONITOR_HEALTHY else 1)
    gauge("steward_monitor_window_end_timestamp_seconds").labels(version).set(check.window.end.timestamp())
    gauge("steward_monitor_last_run_timestamp_seconds").labels(version).set(time.time())
    gauge("steward_monitor_rows").labels(version).set(check.rows)
    if check.drift is not None:
        score = gauge("steward_monitor_drift_score", ("column", "check"))
        alarm = gauge("steward_monitor_drift_alarm", ("column", "check"))
        for o in check.drift.checks:
            if o.score is not None:
                score.labels(version, o.column, o.check).set(o.score)
                alarm.labels(version, o.column, o.check).set(1 if o.alarm else 0)
    performance = check.performance
    if performance is not None:
        gauge("steward_monitor_labels").labels(version).set(performance.n_labels)
        value, low, high = (gauge(n, ("metric",)) for n in ("steward_monitor_live_metric", "steward_monitor_live_metric_ci_low",
                                                            "steward_monitor_live_metric_ci_high"))  # fmt: skip
        alarm, test = gauge("steward_monitor_live_alarm", ("metric",)), gauge("steward_monitor_test_metric", ("metric",))
        for m in performance.overall:
            if m.value is None:
                continue
            value.labels(version, m.metric).set(m.value)
            if m.low is not None and m.high is not None:
                low.labels(version, m.metric).set(m.low)
                high.labels(version, m.metric).set(m.high)
            alarm.labels(version, m.metric).set(1 if m.alarm else 0)
            if m.test is not None:
                test.labels(version, m.metric).set(m.test.value)
    if check.estimate is not None and check.estimate.reported:
        gauge("steward_monitor_accuracy_estimate").labels(version).set(check.estimate.value)
    try:
        push_to_gateway(url, job=JOB, grouping_key={"model": run.model.name}, registry=registry, timeout=timeout_s)
    except OSError as exc:  # URLError, connection refused, timeout
        return f"pushgateway {url}: push FAILED ({type(exc).__name__}: {exc})"
    return f"pushgateway {url}: pushed window {check.window.describe()} ({check.state}) as job={JOB}, model={run.model.name}"
