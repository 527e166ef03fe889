"""A classifier's probabilities through ``mlflow.pyfunc.spark_udf``.

A pyfunc's ``predict`` gives labels only, and ``spark_udf`` calls nothing else. For our classifiers
the Spark engine therefore scores a thin pyfunc saved beside the downloaded model: it loads that
model with ``mlflow.pyfunc.load_model`` (the same checks, the same cleaning) and returns one frame with
``prediction`` and ``probability/<class>`` columns, which ``spark_udf`` turns into a struct column.
Regressors and other pyfunc models are scored by ``spark_udf`` on the model itself.

The adapter is pickled by reference: the executors need mlflow-steward installed (as they do for
monitoring's profiles).
"""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd

from mlflow_steward.batch._model import PREDICTION, PROBABILITY_PREFIX, no_model_capture

WRAPPED = "model"


class ProbabilityModel(mlflow.pyfunc.PythonModel):
    """``predict`` -> ``prediction`` and ``probability/<class>`` of the wrapped classifier."""

    _skip_type_hint_validation = True

    def load_context(self, context) -> None:
        with no_model_capture():
            self.model = mlflow.pyfunc.load_model(context.artifacts[WRAPPED])
        self.wrapper = self.model.unwrap_python_model()
        self.classes = [str(c) for c in self.wrapper.classes_]

    def predict(self, context, model_input, params=None):
        predictions = self.model.predict(model_input)
        probabilities = np.asarray(self.wrapper.predict_proba(model_input))
        out = pd.DataFrame({PREDICTION: np.asarray(predictions)})
        for index, label in enumerate(self.classes):
            out[PROBABILITY_PREFIX + label] = probabilities[:, index].astype("float64")
        return out


def save_probability_model(model_dir: Path, target: Path) -> Path:
    """Save the adapter around the downloaded model ``model_dir`` into ``target`` (a new directory)."""
    mlflow.pyfunc.save_model(
        path=str(target), python_model=ProbabilityModel(), artifacts={WRAPPED: str(model_dir)},
        pip_requirements=[],
    )  # fmt: skip
    return target
