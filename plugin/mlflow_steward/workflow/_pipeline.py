"""The ``main`` job: clean → tune → train (fit, evaluate, log, register) → promote through the gate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from mlflow_steward import names
from mlflow_steward.workflow._config import PipelineConfig
from mlflow_steward.workflow._preflight import check_inputs
from mlflow_steward.workflow._steps import TrainOutcome, clean_step, train_step, tune_step

Echo = Callable[[str], None]


@dataclass(frozen=True)
class PipelineOutcome:
    """The runs the job used or made, the model version, its test metrics and the gate's verdict."""

    main_run_id: str
    data_run_id: str
    tune_run_id: str
    train: TrainOutcome
    ensemble: Any = None  # ensemble.EnsembleOutcome when the job built one
    gate: Any = None  # registry.GateDecision when the job promoted
    candidate_version: str | None = None  # the version the job put through the gate


def run_pipeline(config: PipelineConfig, *, echo: Echo = print) -> PipelineOutcome:
    """Run every step under one parent run (the run ``mlflow run`` started, if any).

    The data and every setting are checked first (:func:`check_inputs`), so bad input starts no
    run and registers nothing.
    """
    import mlflow

    checked = check_inputs(config)
    with mlflow.start_run(run_name="main", tags={names.TAG_STEP: "main"}) as main_run:
        data = clean_step(config, echo=echo, checked=checked)
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
        several_families = config.families is None or len(config.families) > 1
        ensemble = None
        if config.ensemble and several_families:
            ensemble = _build_ensemble(config, data.run_id, tune.run_id, echo)
        candidate = train.model_version
        if ensemble is not None and ensemble.beats_best_member and ensemble.model_version:
            candidate = str(ensemble.model_version)
        gate = None
        if config.register and config.promote and candidate is not None:
            if _production_version(config.model_name) == str(candidate):
                echo(f"[promote] version {candidate} of {config.model_name!r} is already in production")
            else:
                from mlflow_steward import registry

                gate = registry.promote(config.model_name, candidate, config=config.gate)
                echo(f"[promote] {gate.summary()}")
    return PipelineOutcome(
        main_run.info.run_id, data.run_id, tune.run_id, train, ensemble, gate, candidate
    )


def _production_version(name: str) -> str | None:
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return str(mlflow.MlflowClient().get_model_version_by_alias(name, names.ALIAS_PRODUCTION).version)
    except MlflowException:
        return None


def _build_ensemble(config: PipelineConfig, data_run_id: str, tune_run_id: str, echo: Echo):
    """An ensemble of each tuned family's best trial, registered only if it beats the best one."""
    import mlflow

    from mlflow_steward.ensemble import build_and_compare

    outcome = build_and_compare(
        tune_run_id,
        method=config.ensemble,
        data_run_id=data_run_id,
        register=config.model_name if config.register else None,
        register_only_if_better=True,
        random_state=config.random_state,
        reuse=config.reuse,
        echo=echo,
    )
    mlflow.set_tag(names.TAG_ENSEMBLE_RUN, outcome.run_id)
    verdict = "kept: it goes to the gate" if outcome.beats_best_member else "not kept"
    echo(f"[ensemble] {verdict}")
    return outcome


def _copy_cleaning_report(data_run_id: str) -> None:
    """The parent run shows the cleaning report too, so the job's summary is one click away."""
    import json
    from pathlib import Path

    import mlflow

    local = mlflow.artifacts.download_artifacts(
        run_id=data_run_id, artifact_path=names.ARTIFACT_CLEANING_REPORT
    )
    mlflow.log_dict(json.loads(Path(local).read_text()), names.ARTIFACT_CLEANING_REPORT)
