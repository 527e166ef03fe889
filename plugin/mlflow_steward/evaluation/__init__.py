"""Honest evaluation: metrics with confidence intervals, slices, error analysis, plots.

``evaluate_model(model, frame, target=..., task=..., config=...)`` returns an
:class:`EvaluationReport`; :class:`EvaluationConfig` is parsed once from a dict with
``EvaluationConfig.from_dict``. :class:`SliceSpec` says which slices and how they are tested (the
evaluation's and the gate's configs share it); :func:`slice_masks` gives the slices of a frame.
:func:`metric_frame` / :func:`paired_metric_frame` are the one sliced-metric engine (one model, or
two models on the same rows) behind the report, the registry gate and the ensemble comparison.
The MLflow evaluator plugin lives in the public module ``mlflow_steward.evaluation.evaluator``
(entry point ``steward``).

Importing this package imports neither MLflow nor matplotlib nor scipy, nor pandas: the
configuration names load at once, everything else on first use (the registry's config imports
``SliceSpec`` from here, and ``import mlflow_steward.registry`` stays light).
"""

from __future__ import annotations

import importlib
from typing import Any

from mlflow_steward.evaluation._config import (
    CLASSIFICATION_METRICS,
    KNOWN_METRICS,
    REGRESSION_METRICS,
    EvaluationConfig,
)
from mlflow_steward.evaluation._slice_spec import SliceSpec

# name -> private module, imported on first access (numpy, pandas, scipy stay unloaded until then).
_LAZY = {
    "evaluate_model": "._evaluate",
    "evaluate_predictions": "._evaluate",
    "evaluate_uri": "._evaluate",
    "EvaluationReport": "._report",
    "slice_masks": "._slices",
    "MetricFrame": "._metric_frame",
    "PairedMetricFrame": "._paired_frame",
    "metric_frame": "._metric_frame",
    "paired_metric_frame": "._paired_frame",
}

__all__ = sorted(
    ["CLASSIFICATION_METRICS", "KNOWN_METRICS", "REGRESSION_METRICS", "EvaluationConfig", "SliceSpec", *_LAZY]
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
