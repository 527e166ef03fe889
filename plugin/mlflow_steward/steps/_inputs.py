"""A step's inputs: what a data (clean) run hands to the steps after it.

The clean run stores the resolved dataset spec, the cleaning config and the fixed train/test split
as artifacts, and the dataset's identity (digest, version, test-set URI) as ``steward.*`` tags.
Every later step (tune, train, ensemble, and retrain's) reads them back from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlflow_steward import names

SPEC_ARTIFACT = names.ARTIFACT_DATASET_SPEC  # written by data.log_dataset_inputs
CLEANING_CONFIG_ARTIFACT = names.ARTIFACT_CLEANING_CONFIG  # written by the clean step

_STEP_TAGS = (names.TAG_STEP, names.TAG_STEP_KEY, names.TAG_CODE_VERSION)


@dataclass(frozen=True)
class StepInputs:
    """What a data (clean) run hands to the next steps."""

    spec: Any
    cleaning: Any
    train: pd.DataFrame
    test: pd.DataFrame


def load_step_inputs(data_run_id: str) -> StepInputs:
    """Read the spec, cleaning config and the fixed train/test split from a clean run."""
    import mlflow

    from mlflow_steward.cleaning import CleaningConfig
    from mlflow_steward.data import DatasetSpec

    def fetch(artifact: str) -> str:
        return mlflow.artifacts.download_artifacts(run_id=data_run_id, artifact_path=artifact)

    spec = DatasetSpec.from_json(Path(fetch(SPEC_ARTIFACT)).read_text())
    cleaning = CleaningConfig.from_dict(json.loads(Path(fetch(CLEANING_CONFIG_ARTIFACT)).read_text()))
    train = pd.read_parquet(fetch(names.ARTIFACT_TRAIN_DATA))
    test = pd.read_parquet(fetch(names.ARTIFACT_TEST_DATA))
    return StepInputs(spec=spec, cleaning=cleaning, train=train, test=test)


def dataset_tags(data_run_id: str) -> dict[str, str]:
    """The ``steward.*`` dataset tags a clean run recorded (digest, version, test-set URI...)."""
    import mlflow

    tags = mlflow.MlflowClient().get_run(data_run_id).data.tags
    return {k: v for k, v in tags.items() if k.startswith(names.TAG_PREFIX) and k not in _STEP_TAGS}
