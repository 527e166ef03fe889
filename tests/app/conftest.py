"""Fixtures of the server page tests: the registry tests' housing models and stores, synthetic monitor
runs (the layout ``mlflow_steward.app._monitor_source`` documents), a headless browser."""

from __future__ import annotations

import datetime as _dt
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


# The registry tests' fixtures, reused as they are (housing split and models, a store with v1 in
# production and v2 in staging, candidate registration).
_registry = _load(HERE.parent / "registry" / "conftest.py", "_steward_registry_conftest_for_app")
housing_split = _registry.housing_split
housing_models = _registry.housing_models
_production_template = _registry._production_template
with_production = _registry.with_production
log_and_register = _registry.log_and_register
FAST_GATE = _registry.FAST_GATE
MODEL = _registry.MODEL

# PostgreSQL (``postgres_server``, ``make_database``) comes from tests/conftest.py.

cdp = _load(HERE / "cdp.py", "_steward_cdp")


def write_monitor_runs(
    client: Any, model: str, version: str, *, windows: int = 6, drift_at: int | None = None,
    columns: tuple[str, ...] = ("median_income", "ocean_proximity"), start: _dt.datetime | None = None,
) -> list[str]:
    """``windows`` hourly monitor runs of ``model``; window ``drift_at`` alarms on ``median_income``."""
    from mlflow.entities import Metric

    from mlflow_steward import names
    from mlflow_steward.app import _monitor_source as layout

    experiment = client.get_experiment_by_name(layout.experiment_name(model))
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(layout.experiment_name(model))
    start = start or _dt.datetime(2026, 11, 1, tzinfo=_dt.timezone.utc)
    run_ids = []
    for i in range(windows):
        end = start + _dt.timedelta(hours=i + 1)
        drifted = i == drift_at
        metrics: dict[str, float] = {}
        for column in columns:
            psi = 0.35 if drifted and column == "median_income" else 0.01 + 0.002 * i
            metrics.update({
                f"drift/{column}/psi": psi, f"drift/{column}/psi_ci_low": psi * 0.8,
                f"drift/{column}/psi_ci_high": psi * 1.2,
                f"drift/{column}/psi_alarm": float(psi > 0.2),
                f"drift/{column}/missing_rate": 0.01,
            })
        rmse = 50000.0 + 800 * i
        metrics.update({"live/rmse": rmse, "live/rmse_ci_low": rmse - 3000, "live/rmse_ci_high": rmse + 3000,
                        "live/n_labels": 300.0})
        stamp = int(end.timestamp() * 1000)
        run = client.create_run(experiment_id, start_time=stamp, run_name=f"monitor window {i}", tags={
            names.TAG_STEP: names.STEP_MONITOR, names.TAG_MODEL_NAME: model, names.TAG_MODEL_VERSION: str(version),
            names.TAG_WINDOW_START: (end - _dt.timedelta(hours=1)).isoformat(),
            names.TAG_WINDOW_END: end.isoformat(),
            names.TAG_MONITOR_STATE: "drift" if drifted else "healthy",
        })
        client.log_batch(run.info.run_id, metrics=[Metric(k, v, stamp, 0) for k, v in metrics.items()])
        client.set_terminated(run.info.run_id, "FINISHED")
        run_ids.append(run.info.run_id)
    return run_ids


@pytest.fixture(scope="session")
def monitor_runs():
    """``monitor_runs(client, model, version, windows=6, drift_at=None)``: see :func:`write_monitor_runs`."""
    return write_monitor_runs


@pytest.fixture(scope="session")
def register_housing():
    """``register_housing(split, model, name=...)``: the registry tests' ``log_and_register``."""
    return log_and_register


@pytest.fixture(scope="session")
def fast_gate_config():
    return dict(FAST_GATE)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium for the module (skipped where chromium is not installed)."""
    instance = cdp.Browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield instance
    finally:
        instance.close()
