"""Every MLflow internal ``mlflow_steward._compat.mlflow`` wraps still exists and still works.

An MLflow upgrade that removes one fails here, naming the version, the symbol and the module to
update, instead of somewhere deep in a job.
"""

from __future__ import annotations

import importlib

import mlflow
import pytest
from mlflow.pyfunc import PythonModel

from mlflow_steward._compat import mlflow as compat


def _removed(symbol: str) -> str:
    return f"MLflow {mlflow.__version__} removed {symbol}; update mlflow_steward/_compat/mlflow.py"


def test_the_list_names_every_private_symbol_used():
    assert [attribute for _, attribute in compat.PRIVATE_API] == [
        "_get_experiment_id", "_registry_uri", "_skip_type_hint_validation",
    ]


def test_fluent_get_experiment_id_exists_and_follows_set_experiment(mlflow_store):
    module = importlib.import_module("mlflow.tracking.fluent")
    assert hasattr(module, "_get_experiment_id"), _removed("mlflow.tracking.fluent._get_experiment_id")
    experiment_id = mlflow.create_experiment("compat")
    mlflow.set_experiment(experiment_id=experiment_id)
    assert compat.current_experiment_id() == experiment_id


def test_a_missing_symbol_is_reported_with_the_version_and_the_module_to_update():
    with pytest.raises(ImportError) as error:
        compat._private("mlflow.tracking.fluent", "_no_such_helper")
    assert str(error.value) == _removed("mlflow.tracking.fluent._no_such_helper")


def test_client_registry_uri_is_still_kept_on_the_client(tmp_path):
    tracking = f"sqlite:///{tmp_path / 't.db'}"
    registry = f"sqlite:///{tmp_path / 'r.db'}"
    client = mlflow.MlflowClient(tracking_uri=tracking, registry_uri=registry)
    assert hasattr(client, "_registry_uri"), _removed("MlflowClient()._registry_uri")
    assert compat.client_registry_uri(client) == registry


def test_the_skip_type_hint_switch_still_leaves_predict_unwrapped():
    def predict(self, context, model_input: list[str], params=None):
        return model_input

    plain = type("Plain", (PythonModel,), {"predict": predict, "__module__": __name__})
    unwrapped = type("Unwrapped", (compat.UnwrappedPredict, PythonModel), {"predict": predict, "__module__": __name__})
    assert plain.__dict__["predict"] is not predict, "MLflow no longer wraps predict: the switch may be moot"
    assert unwrapped.__dict__["predict"] is predict, _removed("PythonModel._skip_type_hint_validation")


def test_the_served_model_uses_the_switch():
    from mlflow_steward.serving._pyfunc import StewardModel

    assert issubclass(StewardModel, compat.UnwrappedPredict)
    assert "predict" in StewardModel.__dict__ and not hasattr(StewardModel.__dict__["predict"], "__wrapped__")
