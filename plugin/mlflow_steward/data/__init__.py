"""Datasets: load and validate against a ``DatasetSpec``, split reproducibly, version, log to MLflow.

Named datasets (``steward data``): versions built batch by batch, each stored whole in the tracking
store, a current pointer with history and rollback, and a lock (see ``_versions``).

Importing this package does not import MLflow or scikit-learn (both are imported when used).
"""

from mlflow_steward.data._demo import DEMO_SPEC, demo_dataset_path
from mlflow_steward.data._load import LoadedDataset, load_dataset
from mlflow_steward.data._log import log_dataset_inputs
from mlflow_steward.data._spec import TASKS, DatasetSpec
from mlflow_steward.data._split import split_train_test, stratification_labels
from mlflow_steward.data._version import dataset_digest, dataset_version
from mlflow_steward.data._versions import (
    BATCH_COLUMN,
    VERDICT_ACCEPTED,
    VERDICT_ALLOWED,
    VERDICT_QUARANTINED,
    VERDICT_REFRESH,
    VERDICT_REJECTED,
    BatchPlan,
    DatasetInfo,
    DatasetSettings,
    DatasetSummary,
    DatasetVersion,
    PointerEntry,
    VersionParts,
    commit_batch,
    dataset_info,
    dataset_lock,
    dataset_settings,
    fresh_batches,
    get_version,
    list_datasets,
    load_version,
    parse_reference,
    plan_batch,
    record_rejection,
    record_testset_use,
    refresh_test_set,
    rollback_dataset,
)

__all__ = [
    "BATCH_COLUMN",
    "VERDICT_ACCEPTED",
    "VERDICT_ALLOWED",
    "VERDICT_QUARANTINED",
    "VERDICT_REFRESH",
    "VERDICT_REJECTED",
    "BatchPlan",
    "DatasetInfo",
    "DatasetSettings",
    "DatasetSummary",
    "DatasetVersion",
    "PointerEntry",
    "VersionParts",
    "commit_batch",
    "dataset_info",
    "dataset_lock",
    "dataset_settings",
    "fresh_batches",
    "get_version",
    "list_datasets",
    "load_version",
    "parse_reference",
    "plan_batch",
    "record_rejection",
    "record_testset_use",
    "refresh_test_set",
    "rollback_dataset",
    "DEMO_SPEC",
    "TASKS",
    "DatasetSpec",
    "LoadedDataset",
    "dataset_digest",
    "dataset_version",
    "demo_dataset_path",
    "load_dataset",
    "log_dataset_inputs",
    "split_train_test",
    "stratification_labels",
]
