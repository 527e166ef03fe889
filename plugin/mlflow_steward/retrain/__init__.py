"""The maintenance loop: vet new labelled data into a dataset version, retrain on it, gate, deploy.

* :func:`ingest` (``steward data add``): check a batch against the current dataset version with
  monitoring's drift checks and a label-given-features check, then store it as the next version,
  quarantine it, or reject it (:class:`IngestConfig`, :class:`IngestResult`);
* :func:`retrain` (``steward retrain``): the current dataset version → clean → tune (warm-started
  from production) → train → register → gate → promote or not, one at a time, idempotent and
  crash-safe, with a cycle report (:class:`RetrainConfig`, :class:`RetrainOutcome`);
* :func:`rollback_dataset_and_model` (``steward data rollback --with-model``): the dataset's pointer
  and production back together.

Importing this package imports neither MLflow nor matplotlib.
"""

from mlflow_steward.retrain._checks import IngestCheck
from mlflow_steward.retrain._config import IngestConfig, RetrainConfig
from mlflow_steward.retrain._ingest import EXIT_REJECTED, IngestResult, ingest
from mlflow_steward.retrain._job import EXIT_GATE_REJECTED, RetrainOutcome, retrain
from mlflow_steward.retrain._rollback import DataRollback, rollback_dataset_and_model

__all__ = [
    "EXIT_GATE_REJECTED",
    "EXIT_REJECTED",
    "RetrainConfig",
    "RetrainOutcome",
    "retrain",
    "DataRollback",
    "IngestCheck",
    "IngestConfig",
    "IngestResult",
    "ingest",
    "rollback_dataset_and_model",
]
