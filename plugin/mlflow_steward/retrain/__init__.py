"""The maintenance loop: vet new labelled data into a dataset version, retrain on it, gate, deploy.

* :func:`ingest` (``steward data add``): check a batch against the current dataset version with
  monitoring's drift checks and a label-given-features check, then store it as the next version,
  quarantine it, or reject it (:class:`IngestConfig`, :class:`IngestResult`);
* :func:`rollback_dataset_and_model` (``steward data rollback --with-model``): the dataset's pointer
  and production back together.

Importing this package imports neither MLflow nor matplotlib.
"""

from mlflow_steward.retrain._checks import IngestCheck
from mlflow_steward.retrain._config import IngestConfig
from mlflow_steward.retrain._ingest import EXIT_REJECTED, IngestResult, ingest
from mlflow_steward.retrain._rollback import DataRollback, rollback_dataset_and_model

__all__ = [
    "EXIT_REJECTED",
    "DataRollback",
    "IngestCheck",
    "IngestConfig",
    "IngestResult",
    "ingest",
    "rollback_dataset_and_model",
]
