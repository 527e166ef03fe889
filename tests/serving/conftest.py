"""Serving fixtures: small fitted housing/adult pipelines and a real ``mlflow models serve`` launcher."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

VENV_BIN = Path(sys.executable).parent
HOUSING_TARGET = "median_house_value"
ADULT_TARGET = "salary"


def _pipeline(numeric: list[str], categorical: list[str], estimator):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    cleaning = ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median"), numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                  OneHotEncoder(handle_unknown="ignore")), categorical),
        ]
    )  # fmt: skip
    return Pipeline([("cleaning", cleaning), ("model", estimator)])


@pytest.fixture(scope="session")
def housing_xy(housing_path) -> tuple[pd.DataFrame, pd.Series]:
    """1,500 housing rows (features, target)."""
    frame = pd.read_csv(housing_path).sample(1500, random_state=0).reset_index(drop=True)
    return frame.drop(columns=[HOUSING_TARGET]), frame[HOUSING_TARGET]


@pytest.fixture(scope="session")
def housing_model(housing_xy):
    """A fitted imputer + one-hot + RandomForest(n_estimators=10) housing pipeline."""
    from sklearn.ensemble import RandomForestRegressor

    X, y = housing_xy
    numeric = [c for c in X.columns if c != "ocean_proximity"]
    model = _pipeline(numeric, ["ocean_proximity"], RandomForestRegressor(n_estimators=10, random_state=0))
    return model.fit(X, y)


@pytest.fixture(scope="session")
def adult_xy(adult_path) -> tuple[pd.DataFrame, pd.Series]:
    """1,500 adult rows, '?' as missing (features, target)."""
    frame = pd.read_csv(adult_path, na_values=["?"]).sample(1500, random_state=0).reset_index(drop=True)
    return frame.drop(columns=[ADULT_TARGET]), frame[ADULT_TARGET]


@pytest.fixture(scope="session")
def adult_model(adult_xy):
    """A fitted imputer + one-hot + RandomForest(n_estimators=10) classifier on adult."""
    from sklearn.ensemble import RandomForestClassifier

    X, y = adult_xy
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    numeric = [c for c in X.columns if c not in categorical]
    model = _pipeline(numeric, categorical, RandomForestClassifier(n_estimators=10, random_state=0))
    return model.fit(X, y)


@pytest.fixture(autouse=True)
def _no_steward_serving_env(monkeypatch):
    """A developer's STEWARD_CAPTURE_PATH / STEWARD_MODEL_* must not leak into these tests."""
    for key in ("STEWARD_CAPTURE_PATH", "STEWARD_MODEL_NAME", "STEWARD_MODEL_VERSION"):
        monkeypatch.delenv(key, raising=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def invocations(self) -> str:
        return f"{self.url}/invocations"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def server_env(**extra: str) -> dict[str, str]:
    """The environment for ``mlflow models serve``: the venv's bin first on PATH (uvicorn by bare name)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


@contextlib.contextmanager
def serve(
    model_uri: str,
    log: Path,
    *,
    env: dict[str, str] | None = None,
    workers: int = 1,
    env_manager: str = "local",
    timeout: float = 120.0,
) -> Iterator[Server]:
    """Start ``mlflow models serve`` on 127.0.0.1 and a free port; always stop it (its process group)."""
    import requests

    port = free_port()
    command = [
        str(VENV_BIN / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", env_manager,
        "-h", "127.0.0.1", "-p", str(port), "--workers", str(workers),
    ]  # fmt: skip
    with open(log, "w") as out:
        process = subprocess.Popen(
            command, env=env or server_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=log.parent,
        )  # fmt: skip
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"mlflow models serve exited with {process.returncode}:\n{server.output()[-4000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{server.url}/ping", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"mlflow models serve not up after {timeout:.0f} s:\n{server.output()[-4000:]}")
            time.sleep(0.25)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (by its pid), then SIGKILL if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    else:  # the leader is gone; make sure no worker of its group survives
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def serve_model():
    """``serve_model(model_uri, log_path, **kwargs)``: the :func:`serve` context manager."""
    return serve


@pytest.fixture(scope="session")
def make_server_env():
    """``make_server_env(**extra)``: see :func:`server_env`."""
    return server_env


@pytest.fixture(scope="session")
def uv_or_virtualenv() -> str | None:
    """Which of MLflow's isolated env managers can work here: "virtualenv" (pyenv + pip, which uses
    pip's configured index; tested here), else "uv", else None."""
    if shutil.which("pyenv"):
        return "virtualenv"
    if shutil.which("uv") or (VENV_BIN / "uv").exists():
        return "uv"
    return None
