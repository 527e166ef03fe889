"""A classifier's probabilities through ``mlflow.pyfunc.spark_udf``.

A pyfunc's ``predict`` gives labels only, and ``spark_udf`` calls nothing else. For our classifiers
the Spark engine therefore scores a thin pyfunc saved beside the downloaded model: it loads that
model with ``mlflow.pyfunc.load_model`` (the same checks, the same cleaning) and returns one frame with
``prediction`` and ``probability/<class>`` columns, which ``spark_udf`` turns into a struct column.
Regressors and other pyfunc models are scored by ``spark_udf`` on the model itself.

The adapter is saved as model code (``_probability_model.py`` is copied into it), so executors load
it with MLflow alone.
"""

from __future__ import annotations

from pathlib import Path

from mlflow_steward.batch import _probability_model

MODEL_CODE = Path(_probability_model.__file__)


def save_probability_model(model_dir: Path, target: Path) -> Path:
    """Save the adapter around the downloaded model ``model_dir`` into ``target`` (a new directory)."""
    import mlflow.pyfunc

    mlflow.pyfunc.save_model(
        path=str(target), python_model=str(MODEL_CODE), artifacts={_probability_model.WRAPPED: str(model_dir)},
        pip_requirements=[],
    )  # fmt: skip
    return target
