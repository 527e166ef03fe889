"""Datasets: load and validate against a ``DatasetSpec``, split reproducibly, version, log to MLflow.

Importing this package does not import MLflow or scikit-learn (both are imported when used).
"""

from mlflow_steward.data._demo import DEMO_SPEC, demo_dataset_path
from mlflow_steward.data._load import LoadedDataset, load_dataset
from mlflow_steward.data._log import log_dataset_inputs
from mlflow_steward.data._spec import TASKS, DatasetSpec
from mlflow_steward.data._split import split_train_test, stratification_labels
from mlflow_steward.data._version import dataset_digest, dataset_version

__all__ = [
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
