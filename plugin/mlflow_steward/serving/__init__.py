"""What a served model needs: packaging, the pyfunc wrapper, request validation and inference capture.

* :func:`log_pipeline_model` logs a fitted pipeline as a :class:`StewardModel` pyfunc (skops artifact,
  our code in ``code_paths``, pinned requirements), served by ``mlflow models serve``.
* :class:`StewardModel` validates each request frame (errors name the column and what was expected,
  HTTP 400 from the scoring server), predicts, and captures the scored rows when capture is on.
* Capture is on when ``STEWARD_CAPTURE_PATH`` (or the model config key ``capture_path``) names a
  capture URI: a SQLite file (one machine), ``parquet:<directory>`` on shared storage or a SQLAlchemy
  URL such as ``postgresql+psycopg2://...`` (many machines). Writes go through a bounded queue and a
  writer thread per worker (:class:`CaptureQueue`, counts in :class:`CaptureStats`).
  :func:`read_captures` reads any sink back (columns :data:`CAPTURE_COLUMNS`, then the features);
  :func:`export_captures` and :func:`join_labels` work on every sink.

A served model pulls in only what predicting needs: this sub-package must not import ``tuning``,
``ensemble`` search code or ``registry``. The wrapper (which imports MLflow) is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlflow_steward.serving._capture import (
    CAPTURE_COLUMNS,
    STATUS_ANSWERED,
    STATUS_TIMED_OUT,
    CapturedRequest,
    ModelIdentity,
    capture_rows,
    utc_timestamp,
)
from mlflow_steward.serving._capture_queue import CaptureQueue, CaptureStats, capture_stats
from mlflow_steward.serving._capture_read import (
    LabelJoin,
    expand_features,
    export_captures,
    join_labels,
    read_captures,
    read_labels_file,
)
from mlflow_steward.serving._code_copy import MODEL_CODE_PACKAGES, model_code_dir
from mlflow_steward.serving._packaging import PackagedModel, choose_serialization, log_pipeline_model
from mlflow_steward.serving._unwrap import fitted_estimator, is_pyfunc_model
from mlflow_steward.serving._sinks import open_sink, parse_capture_uri
from mlflow_steward.serving._validation import FeatureSchema, validate_frame

if TYPE_CHECKING:  # pragma: no cover
    from mlflow_steward.serving._pyfunc import StewardModel

__all__ = [
    "CAPTURE_COLUMNS",
    "MODEL_CODE_PACKAGES",
    "STATUS_ANSWERED",
    "STATUS_TIMED_OUT",
    "CaptureQueue",
    "CaptureStats",
    "CapturedRequest",
    "FeatureSchema",
    "LabelJoin",
    "ModelIdentity",
    "PackagedModel",
    "StewardModel",
    "capture_rows",
    "capture_stats",
    "choose_serialization",
    "expand_features",
    "export_captures",
    "fitted_estimator",
    "is_pyfunc_model",
    "join_labels",
    "log_pipeline_model",
    "model_code_dir",
    "open_sink",
    "parse_capture_uri",
    "read_captures",
    "read_labels_file",
    "utc_timestamp",
    "validate_frame",
]


def __getattr__(name: str) -> Any:
    if name == "StewardModel":  # imports mlflow.pyfunc: only when asked for
        from mlflow_steward.serving._pyfunc import StewardModel

        return StewardModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
