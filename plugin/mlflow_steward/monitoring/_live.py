"""``monitor_model``: what ``steward monitor`` does, window by window.

For each window of the plan (:mod:`._windows`): read the model's captured rows, join the labels
(:mod:`._labels`), check drift (issue 13's checks), measure live performance
(:mod:`._performance`) and, for a calibrated classifier, estimate the accuracy
(:mod:`._estimate`); then log one run per window (:mod:`._monitor_log`), alert (:mod:`._alerts`)
and push the newest results to a Pushgateway (:mod:`._push`).

Safe from cron: a window is identified by a key (model, version, window, how many rows were
captured, which labels, the check's settings) kept as a tag on its run; a window whose key has a
run already is not checked again. Late labels change the key, so the window is checked again and
gets a newer run (the app shows the newest).

Bad input (model, window, labels, a labels source that matches no captured request, captures with
no row in any window) raises :class:`~mlflow_steward.exceptions.StewardInputError` before any
run is written. Exit code: 4 when a window of the plan is worse than the test values, else 3 when
one drifted, else 0 (windows checked earlier count with the state their run recorded).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward import names
from mlflow_steward._paging import every_page
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring._alerts import Alert, AlertOutcome, send_alert
from mlflow_steward.monitoring._context import ModelContext, model_context
from mlflow_steward.monitoring._drift import check_drift
from mlflow_steward.monitoring._estimate import Calibration, Estimate, check_calibration, estimate_accuracy
from mlflow_steward.monitoring._labels import (
    Labels,
    labels_digest,
    numeric_labels,
    read_labels,
    unmatched_ids,
    window_labels,
)
from mlflow_steward.monitoring._model import load_profile, resolve_model
from mlflow_steward.monitoring._monitor_config import MonitorConfig, http_url
from mlflow_steward.monitoring._performance import LivePerformance, measure_window
from mlflow_steward.monitoring._result import DriftResult
from mlflow_steward.monitoring._source import captured_rows, window_of
from mlflow_steward.monitoring._windows import Window, describe_width, parse_window, plan_windows

NO_CAPTURES = "no captured rows of model {model!r} in {uri} in any window from {since} to {until}{other}"
LABELS_MATCH_NOTHING = (
    "labels {source}: none of its {count:,} request id(s) was captured in the windows from {since} to {until} "
    "(e.g. {examples}); check the labels file or the window"
)
EXIT_HEALTHY, EXIT_DRIFT, EXIT_PERFORMANCE = 0, 3, 4
_EXIT = {names.MONITOR_HEALTHY: EXIT_HEALTHY, names.MONITOR_DRIFT: EXIT_DRIFT, names.MONITOR_PERFORMANCE: EXIT_PERFORMANCE}
_RANK = {names.MONITOR_HEALTHY: 0, names.MONITOR_DRIFT: 1, names.MONITOR_PERFORMANCE: 2}


@dataclass(frozen=True)
class WindowCheck:
    """One window: what was captured, the drift result, live performance, the estimate, the state."""

    window: Window
    key: str
    rows: int
    requests: int
    state: str = names.MONITOR_HEALTHY
    drift: DriftResult | None = None
    performance: LivePerformance | None = None
    estimate: Estimate | None = None
    other_versions: int = 0
    run_id: str | None = None
    skipped: str = ""  # why the window was not checked now ("" when it was)

    @property
    def checked(self) -> bool:
        return not self.skipped

    def summary(self) -> str:
        if self.skipped:
            return f"window {self.window.describe()}: {self.skipped}"
        parts = [f"window {self.window.describe()}: {self.state.upper()} ({self.rows:,} rows, {self.requests:,} requests)"]
        if self.drift is not None:
            parts.append(f"drift {self.drift.summary()}")
        if self.performance is not None:
            parts.append(self.performance.summary())
        if self.estimate is not None:
            parts.append(self.estimate.describe())
        return "\n  ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"window_start": self.window.start.isoformat(), "window_end": self.window.end.isoformat(),
                "key": self.key, "state": self.state, "rows": self.rows, "requests": self.requests,
                "rows_of_other_versions": self.other_versions,
                "drift": None if self.drift is None else self.drift.to_dict(),
                "performance": None if self.performance is None else self.performance.to_dict(),
                "estimate": None if self.estimate is None else self.estimate.to_dict()}  # fmt: skip


@dataclass(frozen=True)
class MonitorRun:
    """What :func:`monitor_model` did."""

    model: Any  # ModelRef
    windows: tuple[WindowCheck, ...]
    unmatched_labels: tuple[str, ...] = ()
    labels_given: int = 0
    alert: AlertOutcome | None = None
    push: str = ""
    experiment: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def state(self) -> str:
        states = [w.state for w in self.windows if w.rows or not w.skipped]
        return max(states, key=lambda s: _RANK.get(s, 0), default=names.MONITOR_HEALTHY)

    @property
    def exit_code(self) -> int:
        return _EXIT.get(self.state, EXIT_HEALTHY)


def _state(drift: DriftResult | None, performance: LivePerformance | None) -> str:
    if performance is not None and performance.worse:
        return names.MONITOR_PERFORMANCE
    if drift is not None and drift.overall.drift:
        return names.MONITOR_DRIFT
    return names.MONITOR_HEALTHY


def _key(ref: Any, window: Window, rows: int, digest: str, config: MonitorConfig) -> str:
    settings = {"drift": config.drift.to_dict(), "performance": config.performance.to_dict()}
    for volatile in ("progress", "n_jobs"):
        settings["drift"].pop(volatile, None)
    text = json.dumps([ref.name, ref.version, window.key(), rows, digest, settings], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _existing_runs(experiment: str) -> dict[str, tuple[str, str]]:
    """``monitor key -> (run id, state)`` of the finished monitor runs of ``experiment`` (one search)."""
    import mlflow

    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return {}
    out: dict[str, tuple[str, str]] = {}
    runs = every_page(client.search_runs, [found.experiment_id],
                      filter_string=f"tags.`{names.TAG_STEP}` = '{names.STEP_MONITOR}' AND attributes.status = 'FINISHED'",
                      order_by=["attributes.start_time DESC"])  # fmt: skip
    for run in runs:  # newest first: the newest check of a window wins
        key = run.data.tags.get(names.TAG_MONITOR_KEY)
        if key and key not in out:
            out[key] = (run.info.run_id, run.data.tags.get(names.TAG_MONITOR_STATE, names.MONITOR_HEALTHY))
    return out


class _Calibration:
    """The version's calibration on its test set, computed once, only when an estimate is wanted."""

    def __init__(self, context: ModelContext, config: Any) -> None:
        self.context, self.config, self.done, self.value = context, config, False, None

    def get(self) -> Calibration | None:
        if not self.done:
            self.done = True
            found = self.context.test_probabilities()
            if found is not None:
                y, proba = found
                known = y >= 0
                self.value = check_calibration(y[known], proba[known], tolerance=self.config.calibration_tolerance,
                                               level=self.config.calibration_level)  # fmt: skip
        return self.value


def _labelled(frame: pd.DataFrame, captured: Any, values: pd.Series, task: str, source: str) -> dict[str, Any]:
    mask = values.notna().to_numpy()
    if task == "regression":
        y = numeric_labels(values[mask], frame.loc[mask, "request_id"], source)
    else:
        y = values[mask].to_numpy(dtype=object)
    probabilities = captured.probabilities
    return {
        "y_true": y, "y_pred": np.asarray(captured.predictions)[mask],
        "proba": None if probabilities is None else probabilities.loc[mask].reset_index(drop=True),
        "features": captured.features.loc[mask].reset_index(drop=True),
    }  # fmt: skip


def check_window(
    window: Window, frame: pd.DataFrame, context: ModelContext, labels: Labels | None, config: MonitorConfig,
    calibration: _Calibration, *, other_versions: int = 0, key: str = "",
) -> tuple[WindowCheck, frozenset[str]]:  # fmt: skip
    """Drift, live performance and the estimate of one window's captured rows (not empty)."""
    captured = window_of(frame)
    joined = window_labels(frame, labels)
    ref = context.ref
    details = {"model": ref.describe(), "uri": ref.uri}
    ignore = [context.target] if context.target else []
    drift = check_drift(context.profile, captured.features, predictions=captured.predictions,
                        probabilities=captured.probabilities, config=config.drift, model=details, ignore_columns=ignore,
                        source=f"capture window {window.describe()}")  # fmt: skip
    source = labels.source if labels is not None else "stored in the capture"
    labelled = _labelled(frame, captured, joined.values, context.task, source)
    performance = measure_window(context.task, labelled["y_true"], labelled["y_pred"], proba=labelled["proba"],
                                 features=labelled["features"], test_values=context.test_values,
                                 config=config.performance, n_rows=len(frame), categorical=context.categorical)  # fmt: skip
    estimate = None
    if context.task == "classification" and config.performance.estimate:
        proba = None if captured.probabilities is None else captured.probabilities.to_numpy(dtype=float)
        estimate = estimate_accuracy(proba, calibration.get(), confidence=config.performance.confidence)
    check = WindowCheck(window=window, key=key, rows=len(frame), requests=captured.requests,
                        state=_state(drift, performance), drift=drift, performance=performance, estimate=estimate,
                        other_versions=other_versions)  # fmt: skip
    return check, joined.matched


def _webhooks(config: MonitorConfig, extra: Sequence[str]) -> tuple[str, ...]:
    urls = list(config.alerts.webhooks) + [http_url(u, "--webhook") for u in extra]
    return tuple(dict.fromkeys(urls))


def _alert_of(run: MonitorRun, check: WindowCheck) -> Alert:
    items: list[str] = []
    severity = 0.0
    details: dict[str, Any] = {"live": [], "drift_columns": []}
    if check.performance is not None:
        for m in check.performance.alarms:
            items.append(names.live_metric(m.metric))
            if m.test is not None and m.test.value:
                near = m.high if m.greater_is_better else m.low
                severity = max(severity, abs(near - m.test.value) / abs(m.test.value))
        details["live"] = [m.to_dict() for m in check.performance.overall]
    if check.drift is not None and check.state == names.MONITOR_DRIFT:
        for column in check.drift.overall.columns:
            items.append(f"{names.DRIFT_METRIC_PREFIX}{column}")
        ratios = [o.score / o.threshold for o in check.drift.alarms() if o.score is not None and o.threshold]
        severity = max(severity, max(ratios, default=0.0))
        details["drift_columns"] = list(check.drift.overall.columns)
    summary = check.summary().replace("\n  ", "; ")
    return Alert(model=run.model.name, version=run.model.version, state=check.state,
                 window_start=check.window.start.isoformat(), window_end=check.window.end.isoformat(),
                 summary=summary[:2000], items=tuple(items), severity=float(severity), run_id=check.run_id,
                 details=details)  # fmt: skip


def _alert(run: MonitorRun, config: MonitorConfig, webhooks: Sequence[str], now: float | None) -> AlertOutcome | None:
    checked = [w for w in run.windows if w.checked]
    if not webhooks or not checked:
        return None
    worst = max(reversed(checked), key=lambda w: _RANK.get(w.state, 0))  # the worst, the newest among equals
    from mlflow_steward import registry

    name = run.model.name
    return send_alert(_alert_of(run, worst), webhooks=webhooks, secret=os.environ.get(names.ENV_WEBHOOK_SECRET) or None,
                      config=config.alerts, read_state=lambda: registry.read_alert_state(name),
                      write_state=lambda state: registry.write_alert_state(name, state), now=now)  # fmt: skip


def monitor_model(
    model: str,
    *,
    capture: str,
    window: str = "1d",
    since: Any = None,
    until: Any = None,
    lookback: int = 7,
    labels: str | Path | pd.DataFrame | None = None,
    labels_table: str | None = None,
    config: MonitorConfig | Mapping[str, Any] | None = None,
    webhooks: Sequence[str] = (),
    pushgateway: str | None = None,
    experiment: str | None = None,
    log: bool = True,
    now: datetime | None = None,
    echo: Callable[[str], None] | None = None,
) -> MonitorRun:
    """Check drift and live performance of ``model`` (``NAME``, ``NAME@ALIAS``, ``NAME/VERSION``) per
    window of its captured inferences; log a run per window; alert; push (see the module docstring)."""
    say = echo or (lambda _text: None)
    config = config if isinstance(config, MonitorConfig) else MonitorConfig.from_dict(config)
    width = parse_window(window)
    plan = plan_windows(width, since=since, until=until, lookback=lookback, now=now)
    hooks = _webhooks(config, webhooks)
    if pushgateway is not None:
        http_url(pushgateway, "--pushgateway")
    given = read_labels(labels, table=labels_table) if labels is not None else None
    ref = resolve_model(model)
    profile = load_profile(ref)
    context = model_context(ref, profile)
    experiment = experiment or names.monitoring_experiment(ref.name)
    say(f"model: {ref.describe()} ({context.task}); windows of {describe_width(width)}: "
        f"{plan[0].start.isoformat()} .. {plan[-1].end.isoformat()} ({len(plan)})")  # fmt: skip
    existing = _existing_runs(experiment) if log else {}
    calibration = _Calibration(context, config.performance)
    checks: list[WindowCheck] = []
    matched: set[str] = set()
    other_models = 0
    for item in plan:
        frame, skipped = captured_rows(capture, since=item.start, until=item.end, model_name=ref.name)
        other_models += skipped
        other_versions = 0
        if len(frame) and "model_version" in frame.columns:
            versions = frame["model_version"].astype(object)
            other = versions.notna() & (versions.astype(str) != str(ref.version))
            other_versions = int(other.sum())
            frame = frame.loc[~other].reset_index(drop=True)
        if len(frame) == 0:
            checks.append(WindowCheck(item, "", 0, 0, skipped="no captured rows"))
            continue
        joined = window_labels(frame, given)
        matched |= joined.matched
        key = _key(ref, item, len(frame), labels_digest(frame["request_id"], frame["row"], joined.values), config)
        if key in existing:
            run_id, state = existing[key]
            checks.append(WindowCheck(item, key, len(frame), int(frame["request_id"].nunique()), state=state,
                                      run_id=run_id, skipped=f"already checked (run {run_id}, {state})"))  # fmt: skip
            continue
        check, _ = check_window(item, frame, context, given, config, calibration, other_versions=other_versions, key=key)
        checks.append(check)
    if all(c.rows == 0 for c in checks):
        other = f" ({other_models:,} rows of other models)" if other_models else ""
        raise StewardInputError(NO_CAPTURES.format(model=ref.name, uri=capture, since=plan[0].start.isoformat(),
                                                   until=plan[-1].end.isoformat(), other=other))  # fmt: skip
    unmatched = unmatched_ids(given, matched)
    if given is not None and len(given) and len(unmatched) == len(given.request_ids):
        raise StewardInputError(LABELS_MATCH_NOTHING.format(
            source=given.source, count=len(unmatched), since=plan[0].start.isoformat(), until=plan[-1].end.isoformat(),
            examples=", ".join(repr(u) for u in unmatched[:3])))  # fmt: skip
    notes = []
    if unmatched:
        notes.append(f"{len(unmatched):,} labelled request id(s) not captured in these windows (unknown, or outside "
                     f"them): {', '.join(unmatched[:5])}{' ...' if len(unmatched) > 5 else ''}")  # fmt: skip
    if log:
        from mlflow_steward.monitoring._monitor_log import log_window

        logged = []
        params = {"capture": capture, "window": describe_width(width), "labels": None if given is None else given.source}
        for check in checks:
            if check.checked:
                check = _with_run(check, log_window(check, context, experiment=experiment, params=params,
                                                    unmatched=len(unmatched), config=config))  # fmt: skip
            logged.append(check)
        checks = logged
    run = MonitorRun(model=ref, windows=tuple(checks), unmatched_labels=tuple(unmatched),
                     labels_given=0 if given is None else len(given), experiment=experiment, notes=tuple(notes))  # fmt: skip
    outcome = _alert(run, config, hooks, None if now is None else now.timestamp())
    pushed = ""
    if pushgateway is not None:
        from mlflow_steward.monitoring._push import push_results

        pushed = push_results(pushgateway, run)
    return MonitorRun(model=ref, windows=run.windows, unmatched_labels=run.unmatched_labels,
                      labels_given=run.labels_given, alert=outcome, push=pushed, experiment=experiment,
                      notes=run.notes)  # fmt: skip


def _with_run(check: WindowCheck, run_id: str) -> WindowCheck:
    from dataclasses import replace

    return replace(check, run_id=run_id)
