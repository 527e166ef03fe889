"""Steps as MLflow runs, reused when step, parameters, inputs and code version all match.

MLflow's ``examples/multistep_workflow`` pattern, with the lookup done by
``search_runs(filter_string=...)`` on a tag holding a hash of those four things
(:data:`~mlflow_steward.names.TAG_STEP_KEY`), not by scanning every run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from mlflow_steward import __version__, names

_PACKAGE_DIR = Path(__file__).resolve().parents[1]

#: Step parameters are logged as ``step.<name>``, apart from what the capability logs itself
#: (the tuning parent logs its own ``families``, ``n_trials``...; MLflow params cannot change).
STEP_PARAM_PREFIX = names.PARAM_STEP_PREFIX


@lru_cache(maxsize=1)
def code_version() -> str:
    """``<package version>+<sha256 of the package's source, 12 hex>``: changes with any code edit."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(_PACKAGE_DIR)).encode())
        digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def step_key(step: str, params: dict[str, Any], inputs: dict[str, Any]) -> str:
    """Hash of step name, parameters, inputs (run ids, data digests) and the code version."""
    payload = json.dumps(
        {"step": step, "params": params, "inputs": inputs, "code": code_version()},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class StepOutcome:
    """The run that holds a step's results, and whether it was reused rather than run now."""

    step: str
    run_id: str
    reused: bool


def find_finished_run(experiment_id: str, key: str) -> str | None:
    """The newest FINISHED run in ``experiment_id`` whose step key is ``key``, or ``None``."""
    import mlflow

    runs = mlflow.MlflowClient().search_runs(
        [experiment_id],
        filter_string=f"tags.`{names.TAG_STEP_KEY}` = '{key}' and attributes.status = 'FINISHED'",
        max_results=1,
        order_by=["attributes.start_time DESC"],
    )
    return runs[0].info.run_id if runs else None


def run_step(
    step: str,
    params: dict[str, Any],
    inputs: dict[str, Any],
    body: Callable[[str], None],
    *,
    reuse: bool = True,
    nested: bool = True,
    echo: Callable[[str], None] = print,
) -> StepOutcome:
    """Run ``body(run_id)`` inside a new run for ``step``, unless a finished identical run exists.

    The new run carries the step tag, the step key, the code version and the parameters (as
    ``step.<name>``); it is nested under the
    active run when there is one. ``body`` logging anything to the fluent API logs to that run. A
    failing body leaves its run FAILED (never looking successful) and re-raises.
    """
    import mlflow

    key = step_key(step, params, inputs)
    active = mlflow.active_run()
    experiment_id = active.info.experiment_id if active else _current_experiment_id()
    if reuse:
        existing = find_finished_run(experiment_id, key)
        if existing is not None:
            echo(f"[{step}] reusing finished run {existing} (same parameters, inputs and code)")
            return StepOutcome(step, existing, reused=True)
    tags = {names.TAG_STEP: step, names.TAG_STEP_KEY: key, names.TAG_CODE_VERSION: code_version()}
    with mlflow.start_run(run_name=step, nested=nested and active is not None, tags=tags) as run:
        mlflow.log_params({f"{STEP_PARAM_PREFIX}{k}": _param_value(v) for k, v in params.items()})
        body(run.info.run_id)
    return StepOutcome(step, run.info.run_id, reused=False)


def _current_experiment_id() -> str:
    import mlflow

    from mlflow_steward._compat.mlflow import current_experiment_id

    return current_experiment_id() or mlflow.get_experiment_by_name("Default").experiment_id


def _param_value(value: Any) -> str:
    text = json.dumps(value, default=str) if isinstance(value, (dict, list, tuple)) else str(value)
    return text[:6000]
