"""What a served model needs: packaging, the pyfunc wrapper, request validation and inference capture.

* :func:`log_pipeline_model` logs a fitted pipeline as a :class:`StewardModel` pyfunc (skops artifact,
  our code in ``code_paths``, pinned requirements), served by ``mlflow models serve``.
* :class:`StewardModel` validates each request frame (errors name the column and what was expected,
  HTTP 400 from the scoring server), predicts, and captures the scored rows when capture is on.
* Capture is on when ``STEWARD_CAPTURE_PATH`` (or the model config key ``capture_path``) names a SQLite
  file. :func:`read_captures`, :func:`export_captures` and :func:`join_labels` read it back.

A served model pulls in only what predicting needs: this sub-package must not import ``tuning``,
``ensemble`` search code or ``registry``. The wrapper (which imports MLflow) is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlflow_steward.serving._capture import CaptureWriter, ModelIdentity
from mlflow_steward.serving._capture_read import (
    LabelJoin,
    expand_features,
    export_captures,
    join_labels,
    read_captures,
    read_labels_file,
)
from mlflow_steward.serving._packaging import (
    MODEL_CODE_PACKAGES,
    PackagedModel,
    choose_serialization,
    log_pipeline_model,
    model_code_dir,
)
from mlflow_steward.serving._unwrap import fitted_estimator, is_pyfunc_model
from mlflow_steward.serving._validation import FeatureSchema, validate_frame

if TYPE_CHECKING:  # pragma: no cover
    from mlflow_steward.serving._pyfunc import StewardModel

__all__ = [
    "MODEL_CODE_PACKAGES",
    "CaptureWriter",
    "FeatureSchema",
    "LabelJoin",
    "ModelIdentity",
    "PackagedModel",
    "StewardModel",
    "choose_serialization",
    "expand_features",
    "export_captures",
    "fitted_estimator",
    "is_pyfunc_model",
    "join_labels",
    "log_pipeline_model",
    "model_code_dir",
    "read_captures",
    "read_labels_file",
    "validate_frame",
]


def __getattr__(name: str) -> Any:
    if name == "StewardModel":  # imports mlflow.pyfunc: only when asked for
        from mlflow_steward.serving._pyfunc import StewardModel

        return StewardModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
