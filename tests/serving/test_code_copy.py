"""The code that travels with a model lives under its own top-level name (issue 12, defect 13).

MLflow puts a model's ``code_paths`` first on ``sys.path``. The copy is ``_mlflow_steward_<version>_<hash>``,
so it never hides the installed ``mlflow_steward`` (nor another model's copy), whichever is imported
first: a notebook or a monitoring job may load a model and then use the package, or the reverse.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

import mlflow_steward
from mlflow_steward.serving import log_pipeline_model
from mlflow_steward.serving._code_copy import code_package_name, model_code_dir

PLUGIN_DIR = Path(mlflow_steward.__file__).resolve().parents[1]
REPO_ROOT = PLUGIN_DIR.parent
PREVIOUS_RELEASE = "eaf9e72"  # main before this change: models logged with code/mlflow_steward
TARGET = "median_house_value"


def _steward_pipeline(X, y):
    from sklearn.linear_model import Ridge

    from mlflow_steward.cleaning import CleaningConfig, build_cleaning_pipeline, build_model_pipeline

    numeric = [c for c in X.columns if c != "ocean_proximity"]
    cleaning = build_cleaning_pipeline(numeric, ["ocean_proximity"], CleaningConfig())
    return build_model_pipeline(cleaning, Ridge()).fit(X, y)


def _steward_modules(pipeline) -> set[str]:
    """Modules of our classes (installed or a copy) anywhere in a fitted pipeline."""
    objects = [pipeline, *pipeline.get_params(deep=True).values()]
    return {type(o).__module__ for o in objects if "mlflow_steward" in type(o).__module__}


def test_copy_name_is_versioned_content_addressed_and_rewritten(tmp_path):
    name = code_package_name(("cleaning", "serving"))
    assert name.startswith("_mlflow_steward_0_1_0_") and name == code_package_name(("cleaning", "serving"))
    assert code_package_name(("cleaning", "serving", "ensemble")) != name  # other files, other name
    copied = model_code_dir(tmp_path, ("cleaning", "serving"))
    assert copied.name == name
    sources = "\n".join(p.read_text() for p in copied.rglob("*.py"))
    assert "import mlflow_steward" not in sources and "from mlflow_steward" not in sources
    assert f'PUBLIC_MODULE = "{name}.cleaning"' in (copied / "cleaning" / "_base.py").read_text()


def test_the_copy_carries_the_mlflow_compat_package_but_not_optunas(tmp_path):
    """The served wrapper needs _compat/mlflow (scoring-server internals); _compat/optuna imports Optuna
    and serves no prediction, so it stays home."""
    copied = model_code_dir(tmp_path, ("cleaning", "serving", "_compat"))
    compat = copied / "_compat"
    assert {p.name for p in (compat / "mlflow").glob("*.py")} >= {"__init__.py", "_api.py", "scoring_server.py"}
    assert (compat / "__init__.py").is_file() and not (compat / "optuna.py").exists()
    assert "from mlflow_steward" not in (copied / "serving" / "_pyfunc.py").read_text()
    assert f"from {copied.name}._compat.mlflow import" in (copied / "serving" / "_pyfunc.py").read_text()


def test_relogging_a_loaded_pipeline_names_the_new_copy(mlflow_store, housing_xy):
    """A pipeline loaded from a model (an ensemble member) holds the copy's classes: re-logging it
    keeps skops and our trusted types, now named as the new model's copy."""
    X, y = housing_xy
    with mlflow.start_run():
        first = log_pipeline_model(_steward_pipeline(X, y), input_example=X.head(5))
    loaded = mlflow.pyfunc.load_model(first.model_uri).unwrap_python_model().pipeline
    assert _steward_modules(loaded) == {f"{first.code_package}.cleaning"}
    with mlflow.start_run():
        again = log_pipeline_model(loaded, input_example=X.head(5), code_packages=("cleaning", "ensemble"))
    assert again.serialization == "skops" and again.code_package != first.code_package
    assert any(t.startswith(f"{again.code_package}.cleaning.") for t in again.trusted_types)
    assert not any(t.startswith(first.code_package) for t in again.trusted_types)
    relogged = mlflow.pyfunc.load_model(again.model_uri)
    assert _steward_modules(relogged.unwrap_python_model().pipeline) == {f"{again.code_package}.cleaning"}
    np.testing.assert_allclose(relogged.predict(X.head(20)), loaded.predict(X.head(20)))


class _Halver(RegressorMixin, BaseEstimator):
    """Not trusted by skops: the pipeline holding it is saved with cloudpickle."""

    def fit(self, X, y):
        self.fitted_ = True
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0] / 2.0


def test_cloudpickle_fallback_names_the_copy(mlflow_store, housing_xy):
    from sklearn.pipeline import Pipeline

    from mlflow_steward.cleaning import TypedImputer

    X, y = housing_xy
    numeric = X.drop(columns=["ocean_proximity"])
    model = Pipeline([("impute", TypedImputer()), ("halve", _Halver())]).fit(numeric, y)
    with mlflow.start_run():
        packaged = log_pipeline_model(model, input_example=numeric.head(5))
    assert packaged.serialization == "cloudpickle"
    loaded = mlflow.pyfunc.load_model(packaged.model_uri)
    assert _steward_modules(loaded.unwrap_python_model().pipeline) == {f"{packaged.code_package}.cleaning"}
    np.testing.assert_allclose(loaded.predict(numeric.head(10)), model.predict(numeric.head(10)))


# --- fresh processes ------------------------------------------------------------------------
LOG = """
import json, sys
import mlflow, pandas as pd
from sklearn.linear_model import Ridge
from mlflow_steward.cleaning import CleaningConfig, build_cleaning_pipeline, build_model_pipeline
from mlflow_steward.serving import log_pipeline_model
data = pd.read_csv(sys.argv[1])
X, y = data.drop(columns=["median_house_value"]), data["median_house_value"]
numeric = [c for c in X.columns if c != "ocean_proximity"]
model = build_model_pipeline(build_cleaning_pipeline(numeric, ["ocean_proximity"], CleaningConfig()), Ridge()).fit(X, y)
with mlflow.start_run():
    packaged = log_pipeline_model(model, input_example=X.head(5))
print(json.dumps({"uri": packaged.model_uri, "code_package": getattr(packaged, "code_package", None)}))
"""


def _run(script: str, *args: str, cwd: Path, pythonpath: Path | None = None) -> dict:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args], capture_output=True, text=True, cwd=cwd, env=env,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def housing_csv(housing_xy, tmp_path) -> Path:
    X, y = housing_xy
    path = tmp_path / "housing.csv"
    X.assign(**{TARGET: y}).head(800).to_csv(path, index=False)
    return path


MODEL_FIRST = """
import json, sys
import mlflow, pandas as pd
model_uri, data_path = sys.argv[1], sys.argv[2]
data = pd.read_csv(data_path)
model = mlflow.pyfunc.load_model(model_uri)
predictions = model.predict(data.drop(columns=["median_house_value"]).head(5))
import mlflow_steward.evaluation  # after the model: the installed package, whole
result = mlflow.models.evaluate(
    model_uri, data, targets="median_house_value", model_type="regressor", evaluators=["steward"],
    evaluator_config={"steward": {"n_resamples": 100}},
)
print(json.dumps({"package": mlflow_steward.__file__, "model_module": type(model.unwrap_python_model()).__module__,
                  "rmse": result.metrics["rmse"], "n": len(predictions)}))
"""


@pytest.mark.e2e
def test_model_first_then_the_package_and_the_steward_evaluator(mlflow_store, housing_csv, tmp_path):
    logged = _run(LOG, str(housing_csv), cwd=tmp_path)
    answer = _run(MODEL_FIRST, logged["uri"], str(housing_csv), cwd=tmp_path)
    assert Path(answer["package"]).resolve().parent == PLUGIN_DIR / "mlflow_steward"
    assert answer["model_module"] == f"{logged['code_package']}.serving._pyfunc"
    assert answer["rmse"] > 0 and answer["n"] == 5


PACKAGE_FIRST = """
import json, sys
import mlflow_steward.evaluation, mlflow_steward.serving
import mlflow, pandas as pd
model_uri, data_path = sys.argv[1], sys.argv[2]
features = pd.read_csv(data_path).drop(columns=["median_house_value"]).head(5)
model = mlflow.pyfunc.load_model(model_uri)
inner = model.unwrap_python_model()
print(json.dumps({"predictions": [float(p) for p in model.predict(features)],
                  "model_module": type(inner).__module__,
                  "step_modules": sorted({type(o).__module__ for o in inner.pipeline.get_params(deep=True).values()}),
                  "installed_is_ours": isinstance(inner, mlflow_steward.serving.StewardModel)}))
"""


@pytest.mark.e2e
def test_package_first_then_the_model_runs_its_own_copy(mlflow_store, housing_csv, tmp_path):
    logged = _run(LOG, str(housing_csv), cwd=tmp_path)
    answer = _run(PACKAGE_FIRST, logged["uri"], str(housing_csv), cwd=tmp_path)
    copy = logged["code_package"]
    assert answer["model_module"] == f"{copy}.serving._pyfunc" and answer["installed_is_ours"] is False
    assert any(m.startswith(f"{copy}.cleaning") for m in answer["step_modules"])
    assert not any(m.startswith("mlflow_steward.") for m in answer["step_modules"])
    expected = mlflow.pyfunc.load_model(logged["uri"]).predict(pd.read_csv(housing_csv).drop(columns=[TARGET]).head(5))
    np.testing.assert_allclose(answer["predictions"], expected)


BOTH = """
import json, sys
import mlflow, pandas as pd
features = pd.read_csv(sys.argv[3]).drop(columns=["median_house_value"]).head(3)
answers = {}
for key, uri in (("current", sys.argv[1]), ("other", sys.argv[2])):
    model = mlflow.pyfunc.load_model(uri)
    try:
        model.predict(features.head(0))
    except Exception as exc:  # each model answers with its own code's message
        empty = exc.message
    answers[key] = {"predictions": [float(p) for p in model.predict(features)], "empty": empty,
                    "module": type(model.unwrap_python_model()).__module__}
import mlflow_steward, mlflow_steward.serving._validation as v
answers["installed"] = {"version": mlflow_steward.__version__, "no_rows": v.NO_ROWS}
print(json.dumps(answers))
"""


@pytest.mark.e2e
def test_models_of_two_package_versions_load_side_by_side(mlflow_store, housing_csv, tmp_path):
    """Log one model with the installed package and one with a changed copy of it (another version,
    another message), then load both in one process next to the installed package."""
    other = tmp_path / "other"
    shutil.copytree(PLUGIN_DIR / "mlflow_steward", other / "mlflow_steward", ignore=shutil.ignore_patterns("__pycache__"))
    init = other / "mlflow_steward" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "0.1.0"', '__version__ = "0.2.0.dev1"'))
    validation = other / "mlflow_steward" / "serving" / "_validation.py"
    validation.write_text(validation.read_text().replace("send at least one row", "send one row or more"))
    current = _run(LOG, str(housing_csv), cwd=tmp_path)
    changed = _run(LOG, str(housing_csv), cwd=tmp_path, pythonpath=other)
    assert changed["code_package"].startswith("_mlflow_steward_0_2_0_dev1_")
    assert current["code_package"].startswith("_mlflow_steward_0_1_0_")
    answers = _run(BOTH, current["uri"], changed["uri"], str(housing_csv), cwd=tmp_path)
    assert answers["current"]["empty"].endswith("send at least one row")
    assert answers["other"]["empty"].endswith("send one row or more")
    assert answers["current"]["module"].startswith(current["code_package"])
    assert answers["other"]["module"].startswith(changed["code_package"])
    np.testing.assert_allclose(answers["current"]["predictions"], answers["other"]["predictions"])
    assert answers["installed"] == {"version": "0.1.0", "no_rows": "model input has no rows; send at least one row"}


PREVIOUS = """
import json, sys, importlib.util
import mlflow, pandas as pd
order, model_uri, data_path = sys.argv[1], sys.argv[2], sys.argv[3]
features = pd.read_csv(data_path).drop(columns=["median_house_value"]).head(4)
if order == "package-first":
    import mlflow_steward.evaluation
model = mlflow.pyfunc.load_model(model_uri)
predictions = [float(p) for p in model.predict(features)]
import mlflow_steward
print(json.dumps({"predictions": predictions, "package": mlflow_steward.__file__,
                  "evaluation": importlib.util.find_spec("mlflow_steward.evaluation") is not None}))
"""


@pytest.mark.e2e
def test_models_of_the_previous_release_still_load(mlflow_store, housing_csv, tmp_path):
    """Logged by the previous release (its copy is ``code/mlflow_steward``): loads and predicts in
    both orders. Loaded first in a fresh process, that old copy still stands in for the package
    (the old layout's flaw, documented in the README); importing the package first avoids it."""
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", PREVIOUS_RELEASE, "plugin/mlflow_steward"], capture_output=True
    )
    if archive.returncode != 0:
        pytest.skip(f"the previous release {PREVIOUS_RELEASE} is not in this checkout's git history")
    old = tmp_path / "previous"
    old.mkdir()
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    logged = _run(LOG, str(housing_csv), cwd=tmp_path, pythonpath=old / "plugin")
    assert logged["code_package"] is None  # the previous release's layout
    model_dir = Path(mlflow.artifacts.download_artifacts(logged["uri"]))
    assert (model_dir / "code" / "mlflow_steward").is_dir()
    expected = None
    for order in ("package-first", "model-first"):
        answer = _run(PREVIOUS, order, logged["uri"], str(housing_csv), cwd=tmp_path)
        expected = expected or answer["predictions"]
        np.testing.assert_allclose(answer["predictions"], expected)
        installed = Path(answer["package"]).resolve().parent == PLUGIN_DIR / "mlflow_steward"
        assert installed == (order == "package-first")
        assert answer["evaluation"] == (order == "package-first")
