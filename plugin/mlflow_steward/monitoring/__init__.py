"""Monitoring: reference profiles of a model's training data, and drift checks of live inputs.

* :func:`build_profile` summarises data (and the model's outputs) into a mergeable :class:`Profile`;
  ``build_profile(part, like=reference)`` profiles new data in the reference's bins, and
  :func:`merge_profiles` adds such parts up exactly.
* :func:`fit_reference_profile` is the profile saved inside every model at fit time (training
  features; outputs on held-out rows); :func:`load_profile` reads it back from a model URI, and
  :func:`profile_from_training_data` recomputes it for models logged without one.
* :func:`profile_parts` profiles a window given in parts (:func:`iter_table` reads a file in row
  batches), one part in memory at a time.
* :func:`check_drift` compares a window (DataFrame, CSV/Parquet file or profile) with a reference:
  missing values, mean and spread, training range, new and vanished categories, distribution; it
  alarms only on changes that are both significant after correction and large enough
  (:class:`DriftConfig`), and returns one :class:`DriftResult`.
* :func:`monitor_drift` is ``steward drift``: a registered model, a file or a capture window, an
  MLflow run with the table, ``monitoring/report.json`` and histograms of what drifted. With
  ``engine="spark"`` (or a directory of partitions) the batch is read, scored and profiled part by
  part on ``mlflow_steward.batch``'s engines, through the same :func:`profile_part`, and merged.

Importing this package imports neither MLflow nor matplotlib.
"""

from mlflow_steward.monitoring._build import build_profile, column_profile, profile_part, profile_parts
from mlflow_steward.monitoring._config import CHECKS, DriftConfig, MinEffects, ProfileConfig
from mlflow_steward.monitoring._drift import check_drift
from mlflow_steward.monitoring._model import (
    ModelRef,
    fit_reference_profile,
    load_profile,
    log_reference_profile,
    model_reference_profile,
    profile_from_training_data,
    resolve_model,
)
from mlflow_steward.monitoring._monitor import DriftRun, monitor_drift
from mlflow_steward.monitoring._plots import HistogramRecord, histogram_records, plot_histograms
from mlflow_steward.monitoring._profile import (
    CategoricalLayout,
    ColumnProfile,
    NumericLayout,
    Profile,
    merge_profiles,
)
from mlflow_steward.monitoring._result import CheckOutcome, ColumnDrift, DriftResult, DriftVerdict
from mlflow_steward.monitoring._source import CaptureWindow, capture_window, iter_table, read_table

__all__ = [
    "CHECKS",
    "CaptureWindow",
    "CategoricalLayout",
    "CheckOutcome",
    "ColumnDrift",
    "ColumnProfile",
    "DriftConfig",
    "DriftResult",
    "DriftRun",
    "DriftVerdict",
    "HistogramRecord",
    "MinEffects",
    "ModelRef",
    "NumericLayout",
    "Profile",
    "ProfileConfig",
    "build_profile",
    "capture_window",
    "check_drift",
    "column_profile",
    "fit_reference_profile",
    "histogram_records",
    "iter_table",
    "load_profile",
    "log_reference_profile",
    "merge_profiles",
    "model_reference_profile",
    "monitor_drift",
    "plot_histograms",
    "profile_from_training_data",
    "profile_part",
    "profile_parts",
    "read_table",
    "resolve_model",
]
