"""The logged model loads in a process where ``mlflow_steward`` is not importable: our code travels
in the model's ``code_paths``, and the pipeline (with our cleaning transformers) in its skops file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pytest

import mlflow_steward
from mlflow_steward.serving import log_pipeline_model

PLUGIN_DIR = Path(mlflow_steward.__file__).resolve().parents[1]

SCRIPT = """
import importlib.util, io, json, sys
plugin_dir, model_uri, rows_json, capture_path, code_package = sys.argv[1:6]
sys.path = [p for p in sys.path if p.rstrip("/") != plugin_dir.rstrip("/")]
assert importlib.util.find_spec("mlflow_steward") is None, "mlflow_steward is importable before loading"
import mlflow
import pandas as pd
model = mlflow.pyfunc.load_model(model_uri, model_config={"capture_path": capture_path})
rows = pd.read_json(io.StringIO(rows_json), orient="split")
predictions = model.predict(rows, params={"request_id": "fresh-1"})
steward = sys.modules[code_package]
assert "mlflow_steward" not in sys.modules
print(json.dumps({
    "predictions": [float(p) for p in predictions],
    "package": steward.__file__,
    "pipeline_steps": [name for name, _ in model.unwrap_python_model().pipeline.steps],
}))
"""


def _steward_pipeline(X, y):
    """Our cleaning pipeline (``mlflow_steward.cleaning`` types, trusted by skops) + a small forest."""
    from sklearn.ensemble import RandomForestRegressor

    from mlflow_steward.cleaning import CleaningConfig, build_cleaning_pipeline, build_model_pipeline

    numeric = [c for c in X.columns if c != "ocean_proximity"]
    cleaning = build_cleaning_pipeline(numeric, ["ocean_proximity"], CleaningConfig())
    return build_model_pipeline(cleaning, RandomForestRegressor(n_estimators=10, random_state=0)).fit(X, y)


@pytest.mark.e2e
def test_loads_and_predicts_where_mlflow_steward_is_not_importable(mlflow_store, housing_xy, tmp_path):
    X, y = housing_xy
    model = _steward_pipeline(X, y)
    with mlflow.start_run():
        packaged = log_pipeline_model(model, input_example=X.head(5))
    assert packaged.serialization == "skops"
    assert any(t.startswith(f"{packaged.code_package}.cleaning.") for t in packaged.trusted_types)
    rows = X.head(6)
    capture = tmp_path / "fresh.db"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(PLUGIN_DIR), packaged.model_uri, rows.to_json(orient="split"), str(capture),
         packaged.code_package],
        capture_output=True, text=True, cwd=tmp_path, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(answer["predictions"], model.predict(rows))
    package = Path(answer["package"]).resolve()
    assert PLUGIN_DIR not in package.parents  # imported from the model's own copy
    assert package.parent.parent.name == "code"
    assert answer["pipeline_steps"] == [name for name, _ in model.steps]
    from mlflow_steward.serving import read_captures

    captured = read_captures(capture)  # written by the writer thread, flushed when the process exited
    assert captured["request_id"].tolist() == ["fresh-1"] * 6
    assert captured["row"].tolist() == list(range(6))
    assert captured["model_id"].iloc[0] == packaged.model_id
    np.testing.assert_allclose(captured["prediction"].astype(float), answer["predictions"])  # what was answered
    assert captured["median_income"].iloc[0] == rows["median_income"].iloc[0]  # the value the model saw
