"""The tune and train steps, shared by the main job (``workflow``) and the retrain (``retrain``).

Both take ``settings``: any object with the fields of the main job's ``PipelineConfig`` that they
read (a :class:`StepSettings`): ``PipelineConfig`` and ``retrain.RetrainConfig`` both are one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from mlflow_steward import names
from mlflow_steward.steps._inputs import StepInputs, dataset_tags, load_step_inputs
from mlflow_steward.steps._model_pipeline import feature_frame, pipeline_factory
from mlflow_steward.steps._register import register_run_model
from mlflow_steward.steps._reuse import StepOutcome, run_step, step_key

Echo = Callable[[str], None]

BEST_TRIAL_ARTIFACT = names.ARTIFACT_BEST_TRIAL


class StepSettings(Protocol):
    """What the tune and train steps read from a job's configuration."""

    strategy: str
    families: tuple[str, ...] | None
    n_trials: int
    cv: int
    random_state: int
    storage: str | None
    study_name: str | None
    n_jobs: int
    workers: int | None
    model_name: str
    evaluation: Any
    register: bool
    reuse: bool


# --- tune ------------------------------------------------------------------------------------
def tune_step(
    settings: StepSettings,
    data_run_id: str,
    *,
    warm_start: Sequence[Mapping[str, Any]] = (),
    echo: Echo = print,
) -> StepOutcome:
    """Search model families and hyper-parameters with cross-validation; each trial a child run.

    ``warm_start`` (see :func:`mlflow_steward.tuning.tune`) enqueues known-good parameters first;
    it joins the step key only when given, so other keys stay as they were.
    """
    params: dict[str, Any] = {
        "strategy": settings.strategy,
        "families": list(settings.families) if settings.families else "default",
        "n_trials": settings.n_trials,
        "cv": settings.cv,
        "random_state": settings.random_state,
        "storage": settings.storage or "default",
    }
    if settings.workers:  # only when set, so single-process step keys stay as they were
        params["workers"] = settings.workers
    if warm_start:
        params["warm_start"] = [dict(item) for item in warm_start]
    inputs = {"data_run": data_run_id}
    study_name = settings.study_name or f"steward-{step_key('tune', params, inputs)[:12]}"

    def body(run_id: str) -> None:
        import mlflow

        from mlflow_steward import tuning

        inputs_ = load_step_inputs(data_run_id)
        spec = inputs_.spec
        mlflow.set_tag(names.TAG_DATA_RUN, data_run_id)
        if settings.workers:
            echo(f"[tune] {settings.workers} workers on study {study_name}; more machines join with: "
                 f"steward tune --parent-run {run_id} --storage URL --workers N")
        if warm_start:
            echo(f"[tune] warm start: {', '.join(str(item.get('family')) for item in warm_start)} "
                 "with the production model's parameters first")
        result = tuning.tune(
            feature_frame(spec, inputs_.train),
            inputs_.train[spec.target],
            task=spec.task,
            make_pipeline=pipeline_factory(spec, inputs_.cleaning),
            families=settings.families,
            strategy=settings.strategy,
            n_trials=settings.n_trials,
            cv=settings.cv,
            storage=settings.storage,
            study_name=study_name,
            random_state=settings.random_state,
            n_jobs=settings.n_jobs,
            parent_run_id=run_id,
            workers=settings.workers,
            warm_start=tuple(warm_start),
        )
        mlflow.log_dict(
            {"family": result.best_family, "params": result.best_params, "task": spec.task},
            BEST_TRIAL_ARTIFACT,
        )
        echo(
            f"[tune] best: {result.best_family} {result.best_params} "
            f"(CV score {result.best_score:.4g} ± {result.best_score_std:.2g})"
        )

    return run_step("tune", params, inputs, body, reuse=settings.reuse, echo=echo)


def best_trial(tune_run_id: str) -> dict[str, Any]:
    """``{"family", "params", "task"}`` of a tune run's best trial."""
    import mlflow

    local = mlflow.artifacts.download_artifacts(run_id=tune_run_id, artifact_path=BEST_TRIAL_ARTIFACT)
    return json.loads(Path(local).read_text())


# --- train -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainOutcome:
    """The train run, its logged model, and the registered version (if registered)."""

    run_id: str
    reused: bool
    model_uri: str
    model_version: str | None
    metrics: dict[str, float]


ReferenceProfile = Callable[[Any, pd.DataFrame, pd.DataFrame], "dict[str, Any] | None"]


def train_step(
    settings: StepSettings,
    data_run_id: str,
    tune_run_id: str,
    *,
    reference_profile: ReferenceProfile | None = None,
    echo: Echo = print,
) -> TrainOutcome:
    """Fit the best trial on the full training set, evaluate on the test set, log and register.

    ``reference_profile(pipeline, X_train, X_test)`` (``monitoring.model_reference_profile``, passed
    in by the jobs: ``steps`` sits below ``monitoring``) runs inside the train run once the pipeline
    is fitted; the dict it returns travels inside the logged model.
    """
    params = {
        "registered_model_name": settings.model_name,
        "evaluation": _as_dict(settings.evaluation),
        "register": settings.register,
    }
    inputs = {"data_run": data_run_id, "tune_run": tune_run_id}

    def body(run_id: str) -> None:
        _run_train(settings, data_run_id, tune_run_id, run_id, reference_profile, echo)

    outcome = run_step("train", params, inputs, body, reuse=settings.reuse, echo=echo)
    import mlflow

    run = mlflow.MlflowClient().get_run(outcome.run_id)
    return TrainOutcome(
        run_id=outcome.run_id,
        reused=outcome.reused,
        model_uri=run.data.tags.get(names.TAG_MODEL_URI, ""),
        model_version=run.data.tags.get(names.TAG_MODEL_VERSION),
        metrics=dict(run.data.metrics),
    )


def _run_train(settings: StepSettings, data_run_id: str, tune_run_id: str, run_id: str,
               reference_profile: ReferenceProfile | None, echo: Echo) -> None:
    import mlflow

    from mlflow_steward import tuning
    from mlflow_steward.serving import log_pipeline_model

    inputs = load_step_inputs(data_run_id)
    spec = inputs.spec
    best = best_trial(tune_run_id)
    estimator = tuning.get_family(spec.task, best["family"]).estimator(best["params"], settings.random_state)
    pipeline = pipeline_factory(spec, inputs.cleaning)(estimator)
    X_train = feature_frame(spec, inputs.train)
    pipeline.fit(X_train, inputs.train[spec.target])
    mlflow.set_tags(
        {
            names.TAG_DATA_RUN: data_run_id,
            names.TAG_TUNE_RUN: tune_run_id,
            names.TAG_MODEL_FAMILY: best["family"],
            **dataset_tags(data_run_id),
        }
    )
    mlflow.log_params({f"{names.PARAM_MODEL_PREFIX}{k}": v for k, v in best["params"].items()})
    profile = None if reference_profile is None else reference_profile(
        pipeline, X_train, feature_frame(spec, inputs.test))
    packaged = log_pipeline_model(pipeline, input_example=X_train.head(5), reference_profile=profile)
    mlflow.set_tag(names.TAG_MODEL_URI, packaged.model_uri)
    echo(f"[train] fitted {best['family']} on {len(X_train):,} rows; logged {packaged.model_uri}"
         f" ({packaged.serialization})")

    metrics = evaluate_on_test(packaged.model_uri, inputs, settings.evaluation)
    if settings.register:
        register_run_model(
            settings.model_name,
            run_id=run_id,
            model_uri=packaged.model_uri,
            data_run_id=data_run_id,
            spec=spec,
            metrics=metrics,
            step="train",
            echo=echo,
        )


def evaluate_on_test(model_uri: str, inputs: StepInputs, evaluation: Any) -> dict[str, float]:
    """Score the logged model on the fixed test set through MLflow's evaluate and our evaluator."""
    import mlflow

    spec = inputs.spec
    frame = inputs.test[[*spec.feature_columns(), spec.target]]
    result = mlflow.models.evaluate(
        model_uri,
        frame,
        targets=spec.target,
        model_type="regressor" if spec.task == "regression" else "classifier",
        evaluators=["steward"],
        # MLflow refuses a flat non-empty config together with a list of evaluator names
        evaluator_config={"steward": _as_dict(evaluation)},
    )
    return dict(result.metrics)


def _as_dict(config: Any) -> dict[str, Any]:
    """An EvaluationConfig (or a plain mapping) as a dict."""
    return config.to_dict() if hasattr(config, "to_dict") else dict(config)


def register_once(
    name: str, *, run_id: str, data_run_id: str, spec: Any, echo: Echo = print
) -> str:
    """The version of ``name`` registered from train run ``run_id``, registering it now if no
    version comes from that run yet (looked up by run id, so a retry after a crash between the
    registration and the run's own record reuses the version instead of making a second one)."""
    import mlflow

    client = mlflow.MlflowClient()
    escaped = name.replace("'", "\\'")
    try:
        found = client.search_model_versions(f"name = '{escaped}' and run_id = '{run_id}'")
    except Exception:  # the registered model does not exist yet
        found = []
    if found:
        version = str(max(int(mv.version) for mv in found))
        client.set_tag(run_id, names.TAG_MODEL_VERSION, version)
        echo(f"[register] {name} version {version} already holds the model of run {run_id}")
        return version
    run = client.get_run(run_id)
    metrics = {k: v for k, v in run.data.metrics.items()}
    return register_run_model(
        name, run_id=run_id, model_uri=run.data.tags[names.TAG_MODEL_URI], data_run_id=data_run_id, spec=spec,
        metrics=metrics, step="register", echo=echo,
    )
