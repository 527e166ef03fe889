"""Every MLflow internal ``mlflow_steward._compat.mlflow`` wraps still exists and still works.

An MLflow upgrade that removes one fails here, naming the version, the symbol and the module to
update, instead of somewhere deep in a job.
"""

from __future__ import annotations

import importlib
import sys
import time
import types
from pathlib import Path

import mlflow
import pytest
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PythonModel

import mlflow_steward
from mlflow_steward._compat import mlflow as compat
from mlflow_steward._compat.mlflow import scoring_server, tracking_server

PACKAGE_DIR = Path(mlflow_steward.__file__).resolve().parent
#: Entries that cannot be resolved by import: an instance attribute, a switch MLflow reads with a
#: default, an app that exists only inside a server. Each has a behaviour test below.
CHECKED_BY_BEHAVIOUR = {
    ("mlflow.tracking.client.MlflowClient()", "_registry_uri"),
    ("mlflow.pyfunc.model.PythonModel", "_skip_type_hint_validation"),
    ("mlflow.pyfunc.scoring_server.app", "app"),
}


#: MLflow modules that are not public API: only _compat/mlflow imports them.
INTERNAL_MODULES = (
    "mlflow.tracking.fluent", "mlflow.tracking.artifact_utils", "mlflow.tracking._", "mlflow.pyfunc.scoring_server",
    "mlflow.pyfunc.context", "mlflow.data.dataset_source_registry", "mlflow.server", "mlflow.store", "mlflow.utils",
    "mlflow.environment_variables",
)  # fmt: skip


def _removed(symbol: str) -> str:
    return f"MLflow {mlflow.__version__} removed {symbol}; update mlflow_steward/_compat/mlflow"


def test_the_list_names_every_private_symbol_used():
    assert [attribute for _, attribute in compat.PRIVATE_API] == [
        "_get_experiment_id", "_registry_uri", "_skip_type_hint_validation", "get_artifact_uri",
        "resolve_dataset_source",
        "_SERVER_MODEL_PATH", "invocations", "app", "get_prediction_context",
        "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT", "REGISTERED_MODEL_META_FILE_NAME",
        "STATIC_PREFIX_ENV_VAR", "BACKEND_STORE_URI_ENV_VAR", "REGISTRY_STORE_URI_ENV_VAR",
        "ARTIFACTS_DESTINATION_ENV_VAR", "_MLFLOW_SGI_NAME", "_before_request", "_rm_or_prompt_read_predicate",
    ]  # fmt: skip


@pytest.mark.parametrize("module, attribute", [e for e in compat.PRIVATE_API if e not in CHECKED_BY_BEHAVIOUR])
def test_every_listed_internal_still_exists(module, attribute):
    assert hasattr(importlib.import_module(module), attribute), _removed(f"{module}.{attribute}")


def test_no_module_outside_compat_imports_mlflow_internals():
    """Nothing outside _compat/mlflow imports MLflow's internal modules or underscore names."""
    import ast

    offenders = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if path.is_relative_to(PACKAGE_DIR / "_compat" / "mlflow"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "mlflow":
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.split(".")[0] == "mlflow"]
            else:
                continue
            offenders += [f"{path.relative_to(PACKAGE_DIR)}:{node.lineno}: {t}" for t in targets
                          if t.startswith(INTERNAL_MODULES) or "._" in t]
    assert offenders == []


def test_fluent_get_experiment_id_exists_and_follows_set_experiment(mlflow_store):
    module = importlib.import_module("mlflow.tracking.fluent")
    assert hasattr(module, "_get_experiment_id"), _removed("mlflow.tracking.fluent._get_experiment_id")
    experiment_id = mlflow.create_experiment("compat")
    mlflow.set_experiment(experiment_id=experiment_id)
    assert compat.current_experiment_id() == experiment_id


def test_a_missing_symbol_is_reported_with_the_version_and_the_module_to_update():
    with pytest.raises(ImportError) as error:
        compat.private("mlflow.tracking.fluent", "_no_such_helper")
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


# --- tracking -------------------------------------------------------------------------------------
def test_run_artifact_uri_names_the_runs_artifact(mlflow_store):
    with mlflow.start_run() as run:
        pass
    assert compat.run_artifact_uri(run.info.run_id, "a/b.json") == f"{run.info.artifact_uri}/a/b.json"


def test_resolve_dataset_source_knows_local_files(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    source = compat.resolve_dataset_source(str(path))
    assert type(source).__name__ in ("LocalArtifactDatasetSource", "FileSystemDatasetSource")
    with pytest.raises(MlflowException):
        compat.resolve_dataset_source("nosuchscheme://x")


# --- the scoring server (mlflow models serve) -------------------------------------------------------
class _Refusing(compat.UnwrappedPredict, PythonModel):
    def predict(self, context, model_input, params=None):
        if "bad" in model_input.columns:
            raise scoring_server.RequestRefused("column 'bad' is not expected")
        return model_input.iloc[:, 0].to_numpy()


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A pyfunc model loaded as the scoring server loads it, the server's marks set, and its
    ``invocations`` restored afterwards."""
    import mlflow.pyfunc.scoring_server as server

    path = tmp_path / "model"
    mlflow.pyfunc.save_model(path, python_model=_Refusing())
    monkeypatch.setenv(scoring_server._SERVER_MODEL_PATH, str(path))
    monkeypatch.setattr(server, "invocations", server.invocations)
    monkeypatch.setattr(scoring_server, "_REQUEST_HOOKS", [])
    return server, mlflow.pyfunc.load_model(str(path))


def test_the_server_names_match_mlflows():
    import mlflow.pyfunc.scoring_server as server
    from mlflow.environment_variables import MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT
    from mlflow.store.artifact.models_artifact_repo import REGISTERED_MODEL_META_FILE_NAME

    assert scoring_server._SERVER_MODEL_PATH == server._SERVER_MODEL_PATH
    assert scoring_server.REQUEST_TIMEOUT_ENV == MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT.name
    assert scoring_server.DEFAULT_REQUEST_TIMEOUT_S == MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT.default
    assert scoring_server.REGISTERED_MODEL_META == REGISTERED_MODEL_META_FILE_NAME


def test_invocations_still_rewrites_the_message_and_our_errors_undo_it(served):
    server, model = served
    with pytest.raises(MlflowException) as refused:
        server.invocations('{"dataframe_split": {"columns": ["bad"], "data": [[1]]}}', "application/json", model, None)
    assert refused.value.message == "column 'bad' is not expected" and refused.value.get_http_status_code() == 400


def test_the_request_wrapper_sees_every_request_and_its_status(served):
    server, model = served
    seen = []
    scoring_server.on_request(lambda: "state", lambda state, status: seen.append((state, status)))
    assert scoring_server.in_scoring_server() and scoring_server.watch_request_start()
    assert getattr(server.invocations, "_steward_timed", False)
    good = server.invocations('{"dataframe_split": {"columns": ["a"], "data": [[1]]}}', "application/json", model, None)
    with pytest.raises(MlflowException):
        server.invocations('{"dataframe_split": {"columns": ["bad"], "data": [[1]]}}', "application/json", model, None)
    assert good.status == 200 and seen == [("state", 200), ("state", 400)]


def _names_in(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_in(const)
    return names


def test_the_app_calls_invocations_by_its_module_name_and_takes_routes_and_shutdown_handlers(served, monkeypatch):
    """What ``add_route``, ``on_server_shutdown`` and the wrapper rely on, on the app ``init`` builds
    (``scoring_server.app.app`` is ``init(<the model>)``)."""
    server, model = served
    assert "invocations" in _names_in(server.init.__code__), _removed("scoring_server.init -> invocations()")
    app = server.init(model)
    monkeypatch.setitem(sys.modules, "mlflow.pyfunc.scoring_server.app", types.SimpleNamespace(app=app))
    assert scoring_server.add_route("/steward-probe", lambda: "ok", wait_s=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(r.path == "/steward-probe" for r in app.router.routes):
        time.sleep(0.01)
    assert any(getattr(r, "path", None) == "/steward-probe" for r in app.router.routes)

    def flush():
        return None

    assert scoring_server.on_server_shutdown(flush) and flush in app.router.on_shutdown


def test_the_prediction_context_request_id_is_read():
    from mlflow.pyfunc.context import Context, set_prediction_context

    assert scoring_server.prediction_request_id() is None
    with set_prediction_context(Context(request_id="r-1")):
        assert scoring_server.prediction_request_id() == "r-1"


# --- the tracking server (mlflow server --app-name steward) ------------------------------------------
def test_the_worker_environment_names_match_mlflows():
    from mlflow.environment_variables import _MLFLOW_SGI_NAME
    from mlflow.server import constants, handlers

    assert tracking_server.STATIC_PREFIX_ENV == handlers.STATIC_PREFIX_ENV_VAR
    assert tracking_server.BACKEND_STORE_ENV == constants.BACKEND_STORE_URI_ENV_VAR
    assert tracking_server.REGISTRY_STORE_ENV == constants.REGISTRY_STORE_URI_ENV_VAR
    assert tracking_server.ARTIFACTS_DESTINATION_ENV == constants.ARTIFACTS_DESTINATION_ENV_VAR
    assert tracking_server.SGI_NAME_ENV == _MLFLOW_SGI_NAME.name
    env = {constants.BACKEND_STORE_URI_ENV_VAR: "sqlite:///x.db", handlers.STATIC_PREFIX_ENV_VAR: "/p/"}
    assert tracking_server.server_environment(env) == tracking_server.ServerEnvironment(
        backend_store_uri="sqlite:///x.db", registry_store_uri="sqlite:///x.db", static_prefix="/p")


def test_a_missing_auth_hook_is_reported_naming_the_version(monkeypatch):
    from flask import Flask
    from mlflow.server import auth

    monkeypatch.setattr(auth, "create_app", lambda app: app)  # registers no hook
    with pytest.raises(compat.MissingInternal, match=f"mlflow {mlflow.__version__}"):
        tracking_server.compose_basic_auth(Flask("x"), lambda path: True)
