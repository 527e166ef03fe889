"""The ``main`` job: clean → tune → train (fit, evaluate, log, register) → promote through the gate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from mlflow_steward import names
from mlflow_steward.workflow._config import PipelineConfig
from mlflow_steward.workflow._steps import TrainOutcome, clean_step, train_step, tune_step

Echo = Callable[[str], None]


@dataclass(frozen=True)
class PipelineOutcome:
    """The runs the job used or made, the model version, its test metrics and the gate's verdict."""

    main_run_id: str
    data_run_id: str
    tune_run_id: str
    train: TrainOutcome
    gate: Any = None  # registry.GateDecision when the job promoted


def run_pipeline(config: PipelineConfig, *, echo: Echo = print) -> PipelineOutcome:
    """Run every step under one parent run (the run ``mlflow run`` started, if any)."""
    import mlflow

    with mlflow.start_run(run_name="main", tags={names.TAG_STEP: "main"}) as main_run:
        data = clean_step(config, echo=echo)
        tune = tune_step(config, data.run_id, echo=echo)
        train = train_step(config, data.run_id, tune.run_id, echo=echo)
        mlflow.set_tags(
            {
                names.TAG_DATA_RUN: data.run_id,
                names.TAG_TUNE_RUN: tune.run_id,
                names.TAG_TRAIN_RUN: train.run_id,
            }
        )
        _copy_cleaning_report(data.run_id)
        mlflow.log_metrics({k: v for k, v in train.metrics.items() if "/" not in k})
        gate = None
        if config.register and config.promote and train.model_version is not None:
            from mlflow_steward import registry

            gate = registry.promote(config.model_name, train.model_version, config=config.gate or None)
            echo(f"[promote] {gate.summary()}")
    return PipelineOutcome(main_run.info.run_id, data.run_id, tune.run_id, train, gate)


def _copy_cleaning_report(data_run_id: str) -> None:
    """The parent run shows the cleaning report too, so the job's summary is one click away."""
    import json
    from pathlib import Path

    import mlflow

    local = mlflow.artifacts.download_artifacts(
        run_id=data_run_id, artifact_path=names.ARTIFACT_CLEANING_REPORT
    )
    mlflow.log_dict(json.loads(Path(local).read_text()), names.ARTIFACT_CLEANING_REPORT)
