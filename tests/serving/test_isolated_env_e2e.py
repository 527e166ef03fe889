"""The model serves from a fresh virtual environment built from its own recorded requirements.

``mlflow models serve --env-manager virtualenv`` installs Python with pyenv (``--skip-existing``: the
machine's 3.11 is used) and the model's ``requirements.txt`` with pip, through pip's configured index.
``mlflow-steward`` is not among the requirements: our code comes from the model's ``code_paths``.
The environment is cached by MLflow (``~/.mlflow/envs``), so only the first run builds it (minutes).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import mlflow
import numpy as np
import pytest
import requests

from mlflow_steward import names
from mlflow_steward.serving import log_pipeline_model, read_captures


@pytest.mark.e2e
def test_serves_from_a_virtualenv_built_from_the_model_requirements(
    mlflow_store, housing_model, housing_xy, tmp_path, serve_model, make_server_env, uv_or_virtualenv
):
    if uv_or_virtualenv is None:
        if os.environ.get("CI"):
            pytest.fail("neither uv nor pyenv is installed: MLflow cannot build the model's environment")
        pytest.skip("neither uv nor pyenv is installed: MLflow cannot build the model's environment")
    X, _ = housing_xy
    with mlflow.start_run():
        packaged = log_pipeline_model(housing_model, input_example=X.head(5))
    requirements = (Path(mlflow.artifacts.download_artifacts(packaged.model_uri)) / "requirements.txt").read_text()
    assert "steward" not in requirements
    capture = tmp_path / "venv_capture.db"
    env = make_server_env(**{names.ENV_CAPTURE_PATH: str(capture)})
    log = tmp_path / "server.log"
    with serve_model(packaged.model_uri, log, env=env, env_manager=uv_or_virtualenv, timeout=900) as server:
        rows = X.head(4)
        body = {"dataframe_split": rows.to_dict(orient="split"), "params": {names.PARAM_REQUEST_ID: "venv-1"}}
        response = requests.post(server.invocations(), json=body, timeout=120)
        assert response.status_code == 200, response.text
        np.testing.assert_allclose(response.json()["predictions"], housing_model.predict(rows))
        bad = requests.post(
            server.invocations(), json={"dataframe_records": [{**rows.iloc[0].to_dict(), "total_rooms": "abc"}]},
            timeout=120,
        )  # fmt: skip
        assert bad.status_code == 400 and "column 'total_rooms' expects a number" in bad.json()["message"]
        activate = re.search(r"source (\S+)/bin/activate", server.output())
    assert activate, server.output()[-3000:]
    env_python = Path(activate.group(1)) / "bin" / "python"
    probe = subprocess.run(
        [str(env_python), "-c", "import importlib.util; print(importlib.util.find_spec('mlflow_steward'))"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert probe.stdout.strip() == "None", probe.stdout + probe.stderr
    assert read_captures(capture)["request_id"].tolist() == ["venv-1"] * 4
