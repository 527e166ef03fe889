"""Cleaning: scikit-learn transformers fitted inside the model pipeline, so they travel with it.

This sub-package imports nothing of MLflow and nothing of ``mlflow_steward`` outside itself: it is
loaded by every served model. Errors are its own (``CleaningError`` and subclasses, which are
``ValueError``\\ s).

Every fitted step also has an array kernel (:func:`array_kernel`): the same arithmetic on plain
numpy columns, which the serving plan chains into the model's fast path.
"""

from ._config import CleaningConfig
from ._errors import (
    CleaningColumnError,
    CleaningConfigError,
    CleaningError,
    CleaningParameterError,
)
from ._features import ClusterSimilarity, RatioFeatures
from ._impute import TypedImputer
from ._kernel_build import array_kernel, frame_columns, produces_sparse
from ._kernels import ArrayKernel, KernelFallback, KernelUnavailable
from ._markers import MissingMarkerReplacer
from ._outliers import OutlierClipper
from ._pipeline import build_cleaning_pipeline, build_model_pipeline
from ._report import CleaningReport, cleaning_report
from ._skops import SKOPS_TRUSTED_TYPES, untrusted_types
from ._smoothing import ExponentialSmoother, MovingAverageSmoother

__all__ = [
    "ArrayKernel",
    "KernelFallback",
    "KernelUnavailable",
    "SKOPS_TRUSTED_TYPES",
    "CleaningColumnError",
    "CleaningConfig",
    "CleaningConfigError",
    "CleaningError",
    "CleaningParameterError",
    "CleaningReport",
    "ClusterSimilarity",
    "ExponentialSmoother",
    "MissingMarkerReplacer",
    "MovingAverageSmoother",
    "OutlierClipper",
    "RatioFeatures",
    "TypedImputer",
    "array_kernel",
    "build_cleaning_pipeline",
    "build_model_pipeline",
    "cleaning_report",
    "frame_columns",
    "produces_sparse",
    "untrusted_types",
]
