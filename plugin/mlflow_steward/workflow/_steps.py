"""The pipeline's steps: clean, tune, train (fit + evaluate + log + register) and promote.

Each step is one MLflow run (see :mod:`mlflow_steward.steps`); steps pass results as run ids and artifact URIs.
The logic of each capability lives in its own sub-package; this module only wires them together.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.steps import (
    CLEANING_CONFIG_ARTIFACT,
    StepInputs,
    StepOutcome,
    dataset_tags,
    feature_frame,
    load_step_inputs,
    make_cleaning,
    pipeline_factory,
    register_run_model,
    run_step,
    step_key,
)
from mlflow_steward.workflow._config import PipelineConfig

Echo = Callable[[str], None]

SPEC_ARTIFACT = names.ARTIFACT_DATASET_SPEC  # written by data.log_dataset_inputs
BEST_TRIAL_ARTIFACT = names.ARTIFACT_BEST_TRIAL
TAG_MODEL_VERSION = names.TAG_MODEL_VERSION
TAG_MODEL_URI = names.TAG_MODEL_URI

ERR_SPEC_REQUIRED = (
    "a dataset spec is required for data {path!r}: pass --target and --task (the demo dataset "
    "is the only one with a built-in spec)"
)


def resolve_inputs(config: PipelineConfig) -> tuple[Path, Any, Any]:
    """The dataset path, spec and cleaning config the job runs on (demo defaults when no data)."""
    from mlflow_steward import data
    from mlflow_steward.cleaning import CleaningConfig
    from mlflow_steward.workflow._demo import demo_cleaning_config

    if config.data is None:
        spec = config.spec or data.DEMO_SPEC
        cleaning = config.cleaning or demo_cleaning_config()
        return data.demo_dataset_path(), spec, cleaning
    if config.spec is None:
        raise StewardInputError(ERR_SPEC_REQUIRED.format(path=config.data))
    return Path(config.data), config.spec, config.cleaning or CleaningConfig()


def file_sha256(path: Path) -> str:
    """Hash of a file's bytes, the input identity of the clean step."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- clean -----------------------------------------------------------------------------------
def clean_step(config: PipelineConfig, *, echo: Echo = print, checked: Any = None) -> StepOutcome:
    """Load and validate the data, drop duplicates, split, log the split and the cleaning report.

    The data is loaded, validated and split before the run starts (``checked``: the result of
    :func:`~mlflow_steward.workflow._preflight.check_inputs`, computed here when not given).
    """
    from mlflow_steward.workflow._preflight import check_inputs

    checked = checked or check_inputs(config)
    path, spec, cleaning_config = checked.path, checked.spec, checked.cleaning
    params = {
        "data": str(path),
        "test_size": config.test_size,
        "random_state": config.random_state,
        "spec": spec.to_json(),
        "cleaning": cleaning_config.to_dict(),
    }

    def body(run_id: str) -> None:
        _run_clean(checked, echo)

    return run_step(
        "clean", params, {"data_sha256": file_sha256(path)}, body, reuse=config.reuse, echo=echo
    )


def _run_clean(checked: Any, echo: Echo) -> None:
    import mlflow

    from mlflow_steward import data
    from mlflow_steward.cleaning import cleaning_report

    path, loaded, cleaning_config = checked.path, checked.loaded, checked.cleaning
    spec, train, test = loaded.spec, checked.train, checked.test
    echo(
        f"[clean] {len(loaded.frame):,} rows from {path.name} ({loaded.duplicates_dropped} duplicates"
        f" dropped): {len(train):,} train / {len(test):,} test"
    )
    with tempfile.TemporaryDirectory(prefix="steward-data-") as tmp:
        for frame, artifact in ((train, names.ARTIFACT_TRAIN_DATA), (test, names.ARTIFACT_TEST_DATA)):
            local = Path(tmp) / Path(artifact).name
            frame.to_parquet(local, index=False)
            mlflow.log_artifact(str(local), str(Path(artifact).parent))
    data.log_dataset_inputs(train, test, spec, source=str(path))
    mlflow.log_dict(cleaning_config.to_dict(), CLEANING_CONFIG_ARTIFACT)

    fitted = make_cleaning(spec, cleaning_config).fit(feature_frame(spec, train), train[spec.target])
    report = cleaning_report(
        feature_frame(spec, train), fitted, duplicates_dropped=loaded.duplicates_dropped,
        coerced_to_missing=loaded.coerced,
    )
    mlflow.log_text(report.to_json(), names.ARTIFACT_CLEANING_REPORT)
    mlflow.log_metrics(report.metrics())
    mlflow.log_metrics({"rows_train": len(train), "rows_test": len(test)})
    # runs:/ (not the artifact store's absolute path) so it resolves on any machine that can reach
    # the tracking server.
    run = mlflow.active_run()
    mlflow.set_tag(names.TAG_TEST_DATA_URI, f"runs:/{run.info.run_id}/{names.ARTIFACT_TEST_DATA}")


# --- tune ------------------------------------------------------------------------------------
def tune_step(config: PipelineConfig, data_run_id: str, *, echo: Echo = print) -> StepOutcome:
    """Search model families and hyper-parameters with cross-validation; each trial a child run."""
    params = {
        "strategy": config.strategy,
        "families": list(config.families) if config.families else "default",
        "n_trials": config.n_trials,
        "cv": config.cv,
        "random_state": config.random_state,
        "storage": config.storage or "default",
    }
    if config.workers:  # only when set, so single-process step keys stay as they were
        params["workers"] = config.workers
    inputs = {"data_run": data_run_id}
    study_name = config.study_name or f"steward-{step_key('tune', params, inputs)[:12]}"

    def body(run_id: str) -> None:
        import mlflow

        from mlflow_steward import tuning

        inputs_ = load_step_inputs(data_run_id)
        spec = inputs_.spec
        mlflow.set_tag(names.TAG_DATA_RUN, data_run_id)
        if config.workers:
            echo(f"[tune] {config.workers} workers on study {study_name}; more machines join with: "
                 f"steward tune --parent-run {run_id} --storage URL --workers N")
        result = tuning.tune(
            feature_frame(spec, inputs_.train),
            inputs_.train[spec.target],
            task=spec.task,
            make_pipeline=pipeline_factory(spec, inputs_.cleaning),
            families=config.families,
            strategy=config.strategy,
            n_trials=config.n_trials,
            cv=config.cv,
            storage=config.storage,
            study_name=study_name,
            random_state=config.random_state,
            n_jobs=config.n_jobs,
            parent_run_id=run_id,
            workers=config.workers,
        )
        mlflow.log_dict(
            {"family": result.best_family, "params": result.best_params, "task": spec.task},
            BEST_TRIAL_ARTIFACT,
        )
        echo(
            f"[tune] best: {result.best_family} {result.best_params} "
            f"(CV score {result.best_score:.4g} ± {result.best_score_std:.2g})"
        )

    return run_step("tune", params, inputs, body, reuse=config.reuse, echo=echo)


# --- train -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainOutcome:
    """The train run, its logged model, and the registered version (if registered)."""

    run_id: str
    reused: bool
    model_uri: str
    model_version: str | None
    metrics: dict[str, float]


def train_step(
    config: PipelineConfig, data_run_id: str, tune_run_id: str, *, echo: Echo = print
) -> TrainOutcome:
    """Fit the best trial on the full training set, evaluate on the test set, log and register."""
    params = {
        "registered_model_name": config.model_name,
        "evaluation": config.evaluation.to_dict(),
        "register": config.register,
    }
    inputs = {"data_run": data_run_id, "tune_run": tune_run_id}

    def body(run_id: str) -> None:
        _run_train(config, data_run_id, tune_run_id, run_id, echo)

    outcome = run_step("train", params, inputs, body, reuse=config.reuse, echo=echo)
    import mlflow

    run = mlflow.MlflowClient().get_run(outcome.run_id)
    return TrainOutcome(
        run_id=outcome.run_id,
        reused=outcome.reused,
        model_uri=run.data.tags.get(TAG_MODEL_URI, ""),
        model_version=run.data.tags.get(TAG_MODEL_VERSION),
        metrics=dict(run.data.metrics),
    )


def _run_train(
    config: PipelineConfig, data_run_id: str, tune_run_id: str, run_id: str, echo: Echo
) -> None:
    import mlflow

    from mlflow_steward import tuning
    from mlflow_steward.serving import log_pipeline_model

    inputs = load_step_inputs(data_run_id)
    spec = inputs.spec
    best = json.loads(
        Path(
            mlflow.artifacts.download_artifacts(run_id=tune_run_id, artifact_path=BEST_TRIAL_ARTIFACT)
        ).read_text()
    )
    estimator = tuning.get_family(spec.task, best["family"]).estimator(
        best["params"], config.random_state
    )
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
    packaged = log_pipeline_model(pipeline, input_example=X_train.head(5))
    mlflow.set_tag(TAG_MODEL_URI, packaged.model_uri)
    echo(f"[train] fitted {best['family']} on {len(X_train):,} rows; logged {packaged.model_uri}"
         f" ({packaged.serialization})")

    metrics = evaluate_on_test(packaged.model_uri, inputs, config.evaluation)
    if config.register:
        register_run_model(
            config.model_name,
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
        evaluator_config={"steward": evaluation.to_dict() if hasattr(evaluation, "to_dict") else dict(evaluation)},
    )
    return dict(result.metrics)
