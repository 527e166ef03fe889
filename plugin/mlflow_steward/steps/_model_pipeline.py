"""The model pipeline every step fits: the cleaning (fitted on the training rows) + an estimator.

Module-level functions (and ``functools.partial`` of them), so a pipeline factory pickles for
tuning worker processes.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

import pandas as pd


def make_model_pipeline(numeric, categorical, cleaning_config, time_column, estimator):
    """Cleaning + estimator, unfitted (module-level so it pickles for tuning workers)."""
    from mlflow_steward.cleaning import build_cleaning_pipeline, build_model_pipeline

    cleaning = build_cleaning_pipeline(
        list(numeric), list(categorical), cleaning_config, time_column=time_column
    )
    return build_model_pipeline(cleaning, estimator)


def make_cleaning(spec, cleaning_config):
    """The unfitted cleaning pipeline for ``spec``."""
    from mlflow_steward.cleaning import build_cleaning_pipeline

    return build_cleaning_pipeline(
        list(spec.numeric), list(spec.categorical), cleaning_config, time_column=spec.time_column
    )


def pipeline_factory(spec, cleaning_config) -> Callable[[Any], Any]:
    """``estimator -> unfitted pipeline`` for ``spec`` (a picklable ``functools.partial``)."""
    return partial(
        make_model_pipeline,
        tuple(spec.numeric),
        tuple(spec.categorical),
        cleaning_config,
        spec.time_column,
    )


def feature_frame(spec, frame: pd.DataFrame) -> pd.DataFrame:
    """The columns the model pipelines take: the features, and the time column when there is one."""
    columns = list(spec.feature_columns())
    if spec.time_column:
        columns.append(spec.time_column)
    return frame[columns]
