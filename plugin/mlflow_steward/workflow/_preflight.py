"""Checks that run before the job writes anything: bad input fails with no run started.

:func:`check_inputs` loads, validates and splits the data (the clean step then logs exactly this
split, so the file is read once), builds the unfitted cleaning (column references), and checks
the tuning settings against the data (families of the task, folds against rows and classes).
:func:`check_data_run` checks a clean run given by id (``steward tune --data-run``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.workflow._config import PipelineConfig

ERR_NOT_A_FILE = "--data {path}: is a directory, not a data file; expected a CSV or Parquet file"
ERR_MISSING = "--data {path}: no such file; expected a CSV or Parquet file"
ERR_NO_FEATURES = (
    "dataset file {path} has no feature columns: besides the target {target!r}{others} it holds "
    "nothing to learn from; expected at least one more column"
)
ERR_UNKNOWN_RUN = "{what} {run_id!r}: no such run in the tracking store {uri}"
ERR_NOT_A_CLEAN_RUN = (
    "{what} {run_id!r} is not a clean run (its step is {step!r}; it has no {artifact}): give the "
    "run `steward clean` printed"
)


@dataclass(frozen=True, eq=False)
class CheckedInputs:
    """The job's data, loaded, validated and split, with the cleaning config it runs with."""

    path: Path
    spec: Any  # the DatasetSpec as given (the clean step's parameter); loaded.spec is resolved
    cleaning: Any  # CleaningConfig
    loaded: Any  # data.LoadedDataset
    train: pd.DataFrame
    test: pd.DataFrame


def check_inputs(config: PipelineConfig) -> CheckedInputs:
    """Load, validate and split the data and check every setting that depends on it."""
    from mlflow_steward import data, tuning
    from mlflow_steward.steps import feature_frame, make_cleaning
    from mlflow_steward.workflow._steps import resolve_inputs

    path, spec, cleaning = resolve_inputs(config)
    if path.is_dir():
        raise StewardInputError(ERR_NOT_A_FILE.format(path=path))
    if not path.exists():
        raise StewardInputError(ERR_MISSING.format(path=path))
    loaded = data.load_dataset(path, spec)
    resolved = loaded.spec
    if not resolved.feature_columns():
        others = [c for c in (resolved.id_column, resolved.time_column) if c]
        raise StewardInputError(
            ERR_NO_FEATURES.format(
                path=path, target=resolved.target, others=f" (and {', '.join(map(repr, others))})" if others else ""
            )
        )
    train, test = data.split_train_test(
        loaded.frame, resolved, test_size=config.test_size, random_state=config.random_state
    )
    make_cleaning(resolved, cleaning)  # unfitted: checks the columns the cleaning config names
    tuning.check_tune_inputs(
        feature_frame(resolved, train), train[resolved.target], task=resolved.task, families=config.families,
        cv=config.cv,
    )
    return CheckedInputs(path=path, spec=spec, cleaning=cleaning, loaded=loaded, train=train, test=test)


def check_data_run(run_id: str, config: PipelineConfig, *, what: str = "--data-run") -> None:
    """``run_id`` is a clean run whose data the tuning settings of ``config`` can run on."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from mlflow_steward import tuning
    from mlflow_steward.data import DatasetSpec

    try:
        run = mlflow.MlflowClient().get_run(run_id)
    except MlflowException:
        raise StewardInputError(
            ERR_UNKNOWN_RUN.format(what=what, run_id=run_id, uri=mlflow.get_tracking_uri())
        ) from None
    try:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=names.ARTIFACT_DATASET_SPEC)
    except (MlflowException, OSError):
        raise StewardInputError(
            ERR_NOT_A_CLEAN_RUN.format(
                what=what, run_id=run_id, step=run.data.tags.get(names.TAG_STEP), artifact=names.ARTIFACT_DATASET_SPEC
            )
        ) from None
    spec = DatasetSpec.from_json(Path(local).read_text())
    tuning.resolve_families(spec.task, config.families)
