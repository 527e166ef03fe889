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
* :func:`monitor_model` is ``steward monitor`` (issue 14): per time window of captured inferences,
  drift and live performance (labels joined by request id, :func:`measure_window`, metrics with
  intervals against the version's test values; :func:`estimate_accuracy` before labels for a
  calibrated classifier), one run per window, signed webhook alerts with a cool-down
  (:mod:`._alerts`), the newest results pushed to a Prometheus Pushgateway.
* :func:`review_queue` is ``steward review``: the least confident predictions of a window, for
  people to label.

Importing this package imports neither MLflow nor matplotlib.
"""

from mlflow_steward.monitoring._build import build_profile, column_profile, profile_part, profile_parts
from mlflow_steward.monitoring._config import CHECKS, DriftConfig, MinEffects, ProfileConfig
from mlflow_steward.monitoring._drift import check_drift
from mlflow_steward.monitoring._alerts import Alert, Delivery, deliver, sign, verify_signature
from mlflow_steward.monitoring._estimate import Calibration, Estimate, check_calibration, estimate_accuracy
from mlflow_steward.monitoring._labels import Labels, read_labels
from mlflow_steward.monitoring._live import EXIT_DRIFT, EXIT_HEALTHY, EXIT_PERFORMANCE, MonitorRun, WindowCheck, monitor_model
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
from mlflow_steward.monitoring._monitor_config import AlertConfig, MonitorConfig, PerformanceConfig
from mlflow_steward.monitoring._performance import LiveMetric, LivePerformance, Baseline, measure_window
from mlflow_steward.monitoring._push import PUSHED_METRICS, push_results
from mlflow_steward.monitoring._review import ReviewQueue, review_queue
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
from mlflow_steward.monitoring._windows import Window, parse_window, plan_windows

__all__ = [
    "Alert",
    "AlertConfig",
    "CHECKS",
    "Calibration",
    "CaptureWindow",
    "CategoricalLayout",
    "CheckOutcome",
    "ColumnDrift",
    "ColumnProfile",
    "Delivery",
    "DriftConfig",
    "DriftResult",
    "DriftRun",
    "DriftVerdict",
    "EXIT_DRIFT",
    "EXIT_HEALTHY",
    "EXIT_PERFORMANCE",
    "Estimate",
    "HistogramRecord",
    "Labels",
    "LiveMetric",
    "LivePerformance",
    "MinEffects",
    "ModelRef",
    "MonitorConfig",
    "MonitorRun",
    "NumericLayout",
    "PUSHED_METRICS",
    "PerformanceConfig",
    "Profile",
    "ProfileConfig",
    "ReviewQueue",
    "Baseline",
    "Window",
    "WindowCheck",
    "build_profile",
    "capture_window",
    "check_calibration",
    "check_drift",
    "column_profile",
    "deliver",
    "estimate_accuracy",
    "fit_reference_profile",
    "histogram_records",
    "iter_table",
    "load_profile",
    "log_reference_profile",
    "measure_window",
    "merge_profiles",
    "model_reference_profile",
    "monitor_drift",
    "monitor_model",
    "parse_window",
    "plan_windows",
    "plot_histograms",
    "profile_from_training_data",
    "profile_part",
    "profile_parts",
    "push_results",
    "read_labels",
    "read_table",
    "resolve_model",
    "review_queue",
    "sign",
    "verify_signature",
]
