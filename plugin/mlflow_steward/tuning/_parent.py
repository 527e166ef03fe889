"""The tuning summary on the parent run (client API only, like the child runs).

- params: ``best_family``, ``best_<param>`` for each best param, ``study_name``, ``study_storage``
  (password hidden), ``strategy``, ``scoring``, ``direction``, ``cv``, ``cv_splitter``,
  ``random_state``, ``families``;
- metrics (step = trials in the study, so a resumed study adds a point): ``best_cv_<scoring>_mean``,
  ``best_cv_<scoring>_std``, ``n_trials_finished``/``_pruned``/``_failed`` and, per family with a
  completed trial, ``family/<family>/cv_<scoring>_mean`` and ``_std``;
- tags: study name, storage, strategy, step ``tune`` (only when the run has no step yet) and the best
  params as JSON;
- artifacts under ``tuning/``: ``optimization_history.png``, ``param_importances.png``,
  ``best_params.json`` (each family's best params, score, trial and child run, plus the folds) and
  ``oof_predictions.parquet``.

MLflow params cannot change. When the same parent run is tuned again (a resumed study) and a param
such as ``best_alpha`` would change, the old value stays, a warning says so, and the tag
``steward.best_params`` and ``tuning/best_params.json`` (both overwritten) hold the current best.
"""

from __future__ import annotations

import json
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from mlflow_steward import names

from ._cv import make_cv
from ._result import TuningResult
from ._trial_logging import cv_metric

MSG_PARENT_PARAM_CONFLICT = (
    "parent run {run_id} already has params {keys} with other values (MLflow params cannot change); "
    "the current best is in the tag steward.best_params and in tuning/best_params.json"
)


def best_params_document(result: TuningResult) -> dict[str, Any]:
    """The content of ``tuning/best_params.json``."""
    splitter = make_cv(result.task, result.cv, result.random_state)
    return {
        "study_name": result.study_name,
        "scoring": result.scoring,
        "direction": result.direction,
        "best_family": result.best_family,
        "families": {
            name: {
                "params": dict(best.params),
                "cv_score_mean": best.score,
                "cv_score_std": best.score_std,
                "trial_number": best.trial_number,
                "run_id": best.run_id,
            }
            for name, best in result.per_family.items()
        },
        "cv": {
            "splitter": type(splitter).__name__,
            "n_splits": result.cv,
            "shuffle": True,
            "random_state": result.random_state,
        },
    }


def _parent_params(result: TuningResult) -> dict[str, str]:
    params = {
        "best_family": result.best_family,
        **{f"best_{k}": v for k, v in result.best_params.items()},
        "study_name": result.study_name,
        "study_storage": result.storage,
        "strategy": result.strategy,
        "scoring": result.scoring,
        "direction": result.direction,
        "cv": result.cv,
        "cv_splitter": type(make_cv(result.task, result.cv, result.random_state)).__name__,
        "random_state": result.random_state,
        "families": ",".join(result.families),
    }
    return {k: str(v)[:500] for k, v in params.items()}


def _parent_metrics(result: TuningResult) -> dict[str, float]:
    s = result.scoring
    metrics = {
        f"best_{cv_metric(s, 'mean')}": result.best_score,
        f"best_{cv_metric(s, 'std')}": result.best_score_std,
        "n_trials_finished": float(result.n_trials.finished),
        "n_trials_pruned": float(result.n_trials.pruned),
        "n_trials_failed": float(result.n_trials.failed),
    }
    for name, best in result.per_family.items():
        metrics[f"family/{name}/{cv_metric(s, 'mean')}"] = best.score
        metrics[f"family/{name}/{cv_metric(s, 'std')}"] = best.score_std
    return metrics


def log_summary(
    client: Any,
    result: TuningResult,
    *,
    history_figure: Any,
    importance_figure: Any,
    oof: Any | None,
) -> None:
    """Write the summary described in the module docstring to ``result.parent_run_id``."""
    from mlflow.entities import Metric, Param, RunTag

    run_id = result.parent_run_id
    run = client.get_run(run_id)
    existing = run.data.params
    params = _parent_params(result)
    conflicts = sorted(k for k, v in params.items() if k in existing and existing[k] != v)
    if conflicts:
        warnings.warn(MSG_PARENT_PARAM_CONFLICT.format(run_id=run_id, keys=", ".join(conflicts)), stacklevel=3)
    document = best_params_document(result)
    tags = {
        names.TAG_STUDY_NAME: result.study_name,
        names.TAG_STUDY_STORAGE: result.storage,
        names.TAG_TUNING_STRATEGY: result.strategy,
        names.TAG_BEST_PARAMS: json.dumps({"family": result.best_family, **result.best_params}, default=str),
    }
    if names.TAG_STEP not in run.data.tags:
        tags[names.TAG_STEP] = names.STEP_TUNE
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, result.n_trials.total) for k, v in _parent_metrics(result).items()],
        params=[Param(k, v) for k, v in params.items() if k not in existing],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        files = {
            names.ARTIFACT_OPTIMIZATION_HISTORY: history_figure,
            names.ARTIFACT_PARAM_IMPORTANCES: importance_figure,
        }
        for artifact, figure in files.items():
            figure.savefig(directory / Path(artifact).name, dpi=100)
        (directory / Path(names.ARTIFACT_BEST_PARAMS).name).write_text(json.dumps(document, indent=2, default=str))
        if oof is not None:
            oof.to_parquet(directory / Path(names.ARTIFACT_OOF_PREDICTIONS).name, index=False)
        for path in sorted(directory.iterdir()):
            client.log_artifact(run_id, str(path), artifact_path=names.ARTIFACT_TUNING_DIR)
