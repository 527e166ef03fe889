"""The data (clean) step's records: the fixed split as Parquet, the dataset inputs, the cleaning
config and report, the test-set URI. The main job's clean step (a file split here) and the
retrain's data step (a dataset version, split when its batches arrived) both write them."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from mlflow_steward import names
from mlflow_steward.steps._inputs import CLEANING_CONFIG_ARTIFACT
from mlflow_steward.steps._model_pipeline import feature_frame, make_cleaning
from mlflow_steward.steps._reuse import StepOutcome, run_step

Echo = Callable[[str], None]


def record_data_run(
    train: pd.DataFrame,
    test: pd.DataFrame,
    spec: Any,
    cleaning_config: Any,
    *,
    source: str,
    name: str | None = None,
    duplicates_dropped: int = 0,
    coerced_to_missing: Any = None,
) -> None:
    """Inside the active (clean) run: log the split, the dataset inputs, the cleaning config, the
    cleaning report (fitted on the training rows) and ``steward.test_data_uri``."""
    import mlflow

    from mlflow_steward import data
    from mlflow_steward.cleaning import cleaning_report

    with tempfile.TemporaryDirectory(prefix="steward-data-") as tmp:
        for frame, artifact in ((train, names.ARTIFACT_TRAIN_DATA), (test, names.ARTIFACT_TEST_DATA)):
            local = Path(tmp) / Path(artifact).name
            frame.to_parquet(local, index=False)
            mlflow.log_artifact(str(local), str(Path(artifact).parent))
    data.log_dataset_inputs(train, test, spec, source=source, name=name)
    mlflow.log_dict(cleaning_config.to_dict(), CLEANING_CONFIG_ARTIFACT)
    fitted = make_cleaning(spec, cleaning_config).fit(feature_frame(spec, train), train[spec.target])
    extra = {} if coerced_to_missing is None else {"coerced_to_missing": coerced_to_missing}
    report = cleaning_report(feature_frame(spec, train), fitted, duplicates_dropped=duplicates_dropped, **extra)
    mlflow.log_text(report.to_json(), names.ARTIFACT_CLEANING_REPORT)
    mlflow.log_metrics(report.metrics())
    mlflow.log_metrics({"rows_train": len(train), "rows_test": len(test)})
    # runs:/ (not the artifact store's absolute path) so it resolves on any machine that can reach
    # the tracking server.
    run = mlflow.active_run()
    mlflow.set_tag(names.TAG_TEST_DATA_URI, f"runs:/{run.info.run_id}/{names.ARTIFACT_TEST_DATA}")


def version_data_step(
    record: Any, parts: Any, cleaning_config: Any, *, spec: Any, reuse: bool = True, echo: Echo = print
) -> StepOutcome:
    """The data step of a dataset version (``data.DatasetVersion`` + its ``VersionParts``): its
    training rows and active test set, recorded like a clean run, plus the dataset's name, version
    number and digest (``steward.dataset_name``/``steward.dataset_version``/``steward.dataset_digest``),
    which every model trained from it carries into the registry. Reused for the same version
    (digest), spec, cleaning and code."""
    params = {"dataset": record.name, "version": record.version, "spec": spec.to_json(),
              "cleaning": cleaning_config.to_dict()}

    def body(run_id: str) -> None:
        import mlflow

        train, test = parts.data("train"), parts.data("test")
        echo(f"[clean] {record.label}: {len(train):,} train / {len(test):,} test rows "
             f"(test-set generation {record.generation}, {parts.rows()['retired']:,} retired test rows left out)")
        record_data_run(train, test, spec, cleaning_config, source=f"{names.DATASET_EXPERIMENT_PREFIX}{record.label}",
                        name=record.name)
        mlflow.set_tags({
            names.TAG_DATASET_NAME: record.name,
            names.TAG_DATASET_VERSION: str(record.version),
            names.TAG_DATASET_DIGEST: record.digest,
            names.TAG_TESTSET_GENERATION: str(record.generation),
            names.TAG_DATASET_RUN: record.run_id,
        })

    return run_step("clean", params, {"dataset_digest": record.digest}, body, reuse=reuse, echo=echo)
