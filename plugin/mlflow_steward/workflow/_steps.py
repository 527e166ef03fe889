"""The main job's steps: clean (a data file, split here), then tune and train, which live in
:mod:`mlflow_steward.steps` (shared with the retrain), and promote.

Each step is one MLflow run (see :mod:`mlflow_steward.steps`); steps pass results as run ids and artifact URIs.
The logic of each capability lives in its own sub-package; this module only wires them together.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.steps import (
    StepOutcome,
    TrainOutcome,
    evaluate_on_test,
    record_data_run,
    run_step,
)
from mlflow_steward.steps import train_step as steps_train_step
from mlflow_steward.steps import tune_step as steps_tune_step
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
    path, loaded, cleaning_config = checked.path, checked.loaded, checked.cleaning
    spec, train, test = loaded.spec, checked.train, checked.test
    echo(
        f"[clean] {len(loaded.frame):,} rows from {path.name} ({loaded.duplicates_dropped} duplicates"
        f" dropped): {len(train):,} train / {len(test):,} test"
    )
    record_data_run(train, test, spec, cleaning_config, source=str(path),
                    duplicates_dropped=loaded.duplicates_dropped, coerced_to_missing=loaded.coerced)


# --- tune and train: the steps layer's, shared with the retrain ----------------------------------
def tune_step(config: PipelineConfig, data_run_id: str, *, echo: Echo = print) -> StepOutcome:
    """Search model families and hyper-parameters with cross-validation; each trial a child run."""
    return steps_tune_step(config, data_run_id, echo=echo)


def train_step(
    config: PipelineConfig, data_run_id: str, tune_run_id: str, *, echo: Echo = print
) -> TrainOutcome:
    """Fit the best trial on the full training set, evaluate on the test set, log and register."""
    from mlflow_steward.monitoring import model_reference_profile

    return steps_train_step(config, data_run_id, tune_run_id, reference_profile=model_reference_profile, echo=echo)
