"""The reference profile travels inside the model; it loads back from a model URI, or is recomputed
from the recorded training data for models logged without one."""

from __future__ import annotations

import ast
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring import build_profile, load_profile, profile_from_training_data, resolve_model

PACKAGE = Path(__file__).resolve().parents[2] / "plugin" / "mlflow_steward"


@pytest.mark.parametrize("model", ["house", "house@production", "house/1", "models:/house@production"])
def test_profile_loads_from_the_registered_model(registered_house, model):
    profile = load_profile(model)
    assert profile.source == "model"
    assert profile.columns == registered_house.profile.columns
    assert profile.names("prediction") == ("prediction",)


def test_profile_is_inside_the_model_directory_and_the_run(registered_house):
    local = Path(mlflow.artifacts.download_artifacts("models:/house/1"))
    assert (local / "artifacts" / names.REFERENCE_PROFILE_FILE).is_file()
    version = mlflow.MlflowClient().get_model_version("house", "1")
    logged = mlflow.artifacts.load_text(f"runs:/{version.run_id}/{names.ARTIFACT_REFERENCE_PROFILE}")
    assert logged == registered_house.profile.to_json()
    loaded = mlflow.pyfunc.load_model("models:/house@production")  # the extra artifact changes nothing
    assert len(loaded.predict(registered_house.window.head(3))) == 3


def test_outputs_are_profiled_on_held_out_rows(registered_house):
    prediction = registered_house.profile.column("prediction")
    assert prediction.count == 2000  # the held-out rows given at fit time, not the 6,000 training rows
    assert registered_house.profile.column("median_income").count == 6000


def test_unknown_model_or_alias_is_an_error(registered_house):
    with pytest.raises(StewardInputError, match="no registered model named 'nohouse'"):
        resolve_model("nohouse")
    with pytest.raises(StewardInputError, match=r"aliases: production=v1"):
        resolve_model("house@staging")


def test_a_model_logged_without_profile_gets_one_from_its_training_data(registered_house, tmp_path):
    from mlflow_steward.data import DatasetSpec
    from mlflow_steward.serving import log_pipeline_model

    train = registered_house.train
    test = registered_house.window.head(500)
    spec = DatasetSpec(target="median_house_value", task="regression").resolve(
        train.assign(median_house_value=0.0))
    with mlflow.start_run() as data_run:
        train.assign(median_house_value=0.0).to_parquet(tmp_path / "train.parquet")
        test.assign(median_house_value=0.0).to_parquet(tmp_path / "test.parquet")
        mlflow.log_artifact(str(tmp_path / "train.parquet"), "data")
        mlflow.log_artifact(str(tmp_path / "test.parquet"), "data")
        mlflow.log_text(spec.to_json(), names.ARTIFACT_DATASET_SPEC)
    with mlflow.start_run():
        mlflow.set_tag(names.TAG_DATA_RUN, data_run.info.run_id)
        log_pipeline_model(registered_house.model, input_example=train.head(5), registered_model_name="old-house")
    profile = load_profile("old-house/1")
    assert "recomputed" in profile.source
    expected = build_profile(train, progress=False)
    assert profile.features == expected.features
    assert profile.column("prediction").count == 500


def test_no_profile_and_no_training_data_is_an_error(registered_house):
    from mlflow_steward.serving import log_pipeline_model

    with mlflow.start_run():
        log_pipeline_model(registered_house.model, input_example=registered_house.train.head(5),
                           registered_model_name="bare-house")  # fmt: skip
    with pytest.raises(StewardInputError, match="no reference profile inside the model"):
        load_profile("bare-house/1")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", ["serving", "cleaning", "stats", "data"])
def test_lower_layers_never_import_monitoring(package):
    for path in (PACKAGE / package).rglob("*.py"):
        assert not any("monitoring" in name for name in _imports(path)), path


# What monitoring may import is tests/test_architecture.py's layer rule (capabilities layer).


def test_importing_monitoring_imports_no_mlflow_or_matplotlib():
    import subprocess
    import sys

    code = "import sys, mlflow_steward.monitoring; print(sorted(m for m in ('mlflow', 'matplotlib', 'optuna') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_frame_fixture_is_plain(registered_house):
    assert isinstance(registered_house.window, pd.DataFrame)
