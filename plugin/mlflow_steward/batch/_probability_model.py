"""Model code of the probability adapter (see ``_adapter``): MLflow runs this file, it is not imported.

Saved as "model from code" (``python_model=<this file>``), so the adapter carries its own class and
loads on executors without mlflow-steward installed, and without clashing with the copy of our code
that travels inside the wrapped model. It therefore imports nothing of ours: the two output names
below are ``_model.PREDICTION`` and ``_model.PROBABILITY_PREFIX`` (a test keeps them equal).
"""

from __future__ import annotations

import mlflow.models
import mlflow.pyfunc
import numpy as np
import pandas as pd

PREDICTION = "prediction"
PROBABILITY_PREFIX = "probability/"
WRAPPED = "model"  # the artifact key of the wrapped model's directory


class ProbabilityModel(mlflow.pyfunc.PythonModel):
    """``predict`` -> ``prediction`` and ``probability/<class>`` of the wrapped classifier."""

    _skip_type_hint_validation = True

    def load_context(self, context) -> None:
        self.model = mlflow.pyfunc.load_model(context.artifacts[WRAPPED])
        self.wrapper = self.model.unwrap_python_model()
        self.classes = [str(c) for c in self.wrapper.classes_]

    def predict(self, context, model_input, params=None):
        predictions = np.asarray(self.model.predict(model_input))
        probabilities = np.asarray(self.wrapper.predict_proba(model_input))
        out = pd.DataFrame({PREDICTION: predictions})
        for index, label in enumerate(self.classes):
            out[PROBABILITY_PREFIX + label] = probabilities[:, index].astype("float64")
        return out


if __name__ != "mlflow_steward.batch._probability_model":  # run by MLflow as the model's code
    mlflow.models.set_model(ProbabilityModel())
