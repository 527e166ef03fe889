"""What a served model needs: packaging a model so it travels, (later) the pyfunc wrapper and capture.

A served model pulls in only what predicting needs: this sub-package must not import ``tuning``,
``ensemble`` search code or ``registry``.
"""

from mlflow_steward.serving._packaging import (
    MODEL_CODE_PACKAGES,
    PackagedModel,
    choose_serialization,
    log_pipeline_model,
    model_code_dir,
)

__all__ = [
    "MODEL_CODE_PACKAGES",
    "PackagedModel",
    "choose_serialization",
    "log_pipeline_model",
    "model_code_dir",
]
