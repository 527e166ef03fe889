"""Ensembles of tuned models: mean, weighted mean, stacking and greedy selection, all combiners
fitted on out-of-fold predictions only.

Importing this sub-package loads numpy only: the estimators travel inside
logged models (``code_paths``), so the modules they live in (``_estimators``, ``_greedy``,
``_weights``, ``_losses``) import nothing of MLflow and nothing of ours. The MLflow-facing part
(choosing runs, loading out-of-fold predictions, refitting, logging, comparing) is imported on first
use of its names (:func:`build_and_compare`, :func:`select_members`, ...).
"""

from __future__ import annotations

import importlib
from typing import Any

from ._greedy import GreedySelection, greedy_selection
from ._weights import simplex_weights

# name -> private module, imported on first access (MLflow, pandas, matplotlib stay unloaded).
_LAZY = {
    "EnsembleClassifier": "._estimators",
    "EnsembleRegressor": "._estimators",
    "METHODS": "._estimators",
    "build_and_compare": "._build",
    "EnsembleConfig": "._config",
    "EnsembleOutcome": "._build",
    "read_outcome": "._build",
    "Member": "._members",
    "TuneContext": "._members",
    "read_tune_run": "._members",
    "select_members": "._members",
    "Comparison": "._compare",
    "ComparisonRow": "._compare",
    "compare_members": "._compare",
    "draw_comparison": "._plot",
}

__all__ = sorted(["GreedySelection", "greedy_selection", "simplex_weights", *_LAZY])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
