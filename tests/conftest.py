"""Shared fixtures: an isolated MLflow store per test, and the shared datasets."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent

REPO_ROOT = Path(__file__).resolve().parents[1]
# STEWARD_SHARED_DATA: the shared datasets elsewhere (e.g. a git worktree not beside ../shared)
SHARED_DATA = Path(os.environ.get("STEWARD_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")


def _shared_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI runs with ../shared beside the clone")
        pytest.skip(f"{path} not found (tests read ../shared/data beside the repository)")
    return path


@pytest.fixture(scope="session")
def housing_path() -> Path:
    """California housing: 20,640 rows, target median_house_value, categorical ocean_proximity."""
    return _shared_file("housing.csv")


@pytest.fixture(scope="session")
def adult_path() -> Path:
    """Census income: 32,561 rows, target salary, '?' marks missing values."""
    return _shared_file("adult.csv")


@pytest.fixture(scope="session")
def _template_store(tmp_path_factory) -> Path:
    """An MLflow SQLite database with its tables created once (migrations take ~2 s each time)."""
    import mlflow

    path = tmp_path_factory.mktemp("template") / "mlflow.db"
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{path}")
    client.search_experiments()
    return path


@pytest.fixture(scope="session")
def store_copy(_template_store):
    """``with store_copy(root, "name") as (uri, experiment_id):`` a fresh SQLite store in ``root`` (a copy of
    the template), MLflow's tracking and registry URIs pointed at it inside the block and put back after,
    and an experiment whose artifacts live under ``root/artifacts``."""
    import mlflow

    @contextlib.contextmanager
    def make(root: Path, experiment: str) -> Iterator[tuple[str, str]]:
        db = root / "mlflow.db"
        shutil.copy(_template_store, db)
        uri = f"sqlite:///{db}"
        previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        try:
            yield uri, mlflow.create_experiment(experiment, artifact_location=(root / "artifacts").as_uri())
        finally:
            mlflow.set_tracking_uri(previous[0])
            mlflow.set_registry_uri(previous[1])

    return make


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch, _template_store) -> str:
    """A fresh SQLite tracking store and registry for one test, artifacts under ``tmp_path``.

    Sets ``MLFLOW_TRACKING_URI`` (so subprocesses inherit it), makes an experiment ``test`` with
    its artifacts under ``tmp_path/artifacts`` active, and returns the tracking URI.
    """
    import mlflow

    db = tmp_path / "mlflow.db"
    shutil.copy(_template_store, db)
    uri = f"sqlite:///{db}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment_id = mlflow.create_experiment("test", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=experiment_id)
    yield uri
    while mlflow.active_run() is not None:
        mlflow.end_run()


# --- a real `mlflow models serve` on loopback (serving, registry and workflow tests) -------------
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




@contextlib.contextmanager
def tracking_server(
    backend_store_uri: str, root: Path, *, timeout: float = 120.0, extra_args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """``mlflow server`` on 127.0.0.1 and a free port, artifacts proxied into ``root``; yields its URL.

    The venv's bin goes first on PATH (mlflow server starts uvicorn by bare name); the server's
    process group is stopped by its pid at the end, also when it fails to come up. ``extra_args``
    (e.g. ``("--app-name", "steward")``) and ``extra_env`` go to the server.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra_env or {})
    port = free_port()
    command = [str(VENV_BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
               "--backend-store-uri", backend_store_uri, "--artifacts-destination", str(root / "artifacts"),
               "--workers", "1", *extra_args]  # fmt: skip
    with _started(command, f"http://127.0.0.1:{port}", "/health", root / "server.log", timeout=timeout, env=env,
                  poll=0.5) as url:  # fmt: skip
        yield url


@pytest.fixture(scope="session")
def start_tracking_server():
    """``start_tracking_server(backend_store_uri, root)``: the :func:`tracking_server` context manager."""
    return tracking_server


# --- PostgreSQL (tests marked postgres: scale-out, the serving capture sink) ---------------------
# ``STEWARD_TEST_POSTGRES_URI`` when set (CI's ``.ci/postgres.sh`` exports it); otherwise a throw-away
# cluster started here with ``initdb``/``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` on a free port
# (as the ``postgres`` user when running as root). With neither, the tests skip, saying why; under
# CI (``CI`` set) they fail instead, because CI must run them. Each session's databases are created
# with unique names and dropped at the end.
def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI: {reason}")
    pytest.skip(f"no PostgreSQL server: {reason}")


def _reachable(uri: str) -> str | None:
    """``None`` if a connection works, else why not."""
    import psycopg2

    try:
        psycopg2.connect(uri, connect_timeout=5).close()
    except psycopg2.Error as error:
        return " ".join(str(error).split())
    return None


def _start_cluster() -> tuple[str, Callable[[], None]]:
    """initdb + pg_ctl start on a free port under /tmp; returns (URI, stop)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        _unavailable("STEWARD_TEST_POSTGRES_URI is not set and no initdb under /usr/lib/postgresql/*/bin")
    bin_dir = Path(bins[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="steward-test-pg-"))  # /tmp: the postgres user can reach it
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    try:
        subprocess.run([*as_postgres, str(bin_dir / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U",
                        "postgres"], check=True, capture_output=True, timeout=120)
        subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "log"),
                        "-w", "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=200",
                        "start"], check=True, capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as error:
        log = (root / "log").read_text()[-2000:] if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"could not start a throw-away cluster with {bin_dir}: {error} {log}")

    def stop() -> None:
        subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-m", "fast", "stop"],
                       capture_output=True, timeout=60, check=False)
        shutil.rmtree(root, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """A PostgreSQL server URI (psycopg2 form, no driver in the scheme)."""
    uri = os.environ.get("STEWARD_TEST_POSTGRES_URI")
    if uri:
        problem = _reachable(uri)
        if problem:
            _unavailable(f"STEWARD_TEST_POSTGRES_URI={uri} is not reachable: {problem}")
        yield uri
        return
    uri, stop = _start_cluster()
    try:
        yield uri
    finally:
        stop()


@pytest.fixture(scope="session")
def make_database(postgres_server):
    """``make_database("optuna") -> URI`` of a new database, dropped when the session ends."""
    import psycopg2
    from sqlalchemy.engine import make_url

    created: list[str] = []

    def admin():
        connection = psycopg2.connect(postgres_server)
        connection.autocommit = True
        return connection

    def make(purpose: str) -> str:
        name = f"steward_{purpose}_{uuid.uuid4().hex[:10]}"
        connection = admin()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        created.append(name)
        return make_url(postgres_server).set(database=name).render_as_string(hide_password=False)

    yield make
    connection = admin()
    with connection.cursor() as cursor:
        for name in created:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


# --- Prometheus and its Pushgateway (tests marked prometheus) -------------------------------------
# Debian's binaries, started on 127.0.0.1 and a free port with their own temporary storage; stopped
# by pid at the end. Missing binaries skip the test (fail under CI, which installs them).
PROMETHEUS_BIN = Path(os.environ.get("STEWARD_PROMETHEUS_BIN", "/usr/bin/prometheus"))
PUSHGATEWAY_BIN = Path(os.environ.get("STEWARD_PUSHGATEWAY_BIN", "/usr/bin/prometheus-pushgateway"))


def _binary(path: Path) -> str:
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is required under CI (Debian package prometheus / prometheus-pushgateway)")
        pytest.skip(f"{path} not installed")
    return str(path)


@contextlib.contextmanager
def _started(command: list[str], url: str, ready_path: str, log: Path, timeout: float = 60.0,
             env: dict[str, str] | None = None, poll: float = 0.25) -> Iterator[str]:
    """Start ``command`` in its own session, wait until ``url + ready_path`` answers 200, yield ``url``,
    and stop the process group by its pid at the end (also when it never came up)."""
    import urllib.request

    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                   cwd=log.parent, env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}{ready_path}", timeout=2) as response:
                    if response.status == 200:
                        break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{Path(command[0]).name} {command[1]} did not start: {log.read_text(errors='replace')[-3000:]}")
            time.sleep(poll)
        yield url
    finally:
        stop(process)


@contextlib.contextmanager
def prometheus_server(targets: list[str], root: Path, *, scrape_interval: str = "1s",
                      metrics_path: str = "/metrics") -> Iterator[str]:  # fmt: skip
    """Prometheus scraping ``targets`` (``host:port``) every ``scrape_interval``; yields its URL."""
    binary = _binary(PROMETHEUS_BIN)
    root.mkdir(parents=True, exist_ok=True)
    config = root / "prometheus.yml"
    quoted = ", ".join(f"'{t}'" for t in targets)
    config.write_text(
        f"global:\n  scrape_interval: {scrape_interval}\n  evaluation_interval: {scrape_interval}\n"
        f"scrape_configs:\n  - job_name: steward\n    metrics_path: {metrics_path}\n"
        f"    static_configs:\n      - targets: [{quoted}]\n"
    )
    port = free_port()
    command = [binary, f"--config.file={config}", f"--storage.tsdb.path={root / 'tsdb'}",
               f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]  # fmt: skip
    with _started(command, f"http://127.0.0.1:{port}", "/-/ready", root / "prometheus.log") as url:
        yield url


@contextlib.contextmanager
def pushgateway_server(root: Path) -> Iterator[str]:
    """A Prometheus Pushgateway on 127.0.0.1; yields its URL."""
    binary = _binary(PUSHGATEWAY_BIN)
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [binary, f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    with _started(command, f"http://127.0.0.1:{port}", "/-/ready", root / "pushgateway.log") as url:
        yield url


@pytest.fixture(scope="session")
def start_prometheus():
    """``start_prometheus(targets, root)``: the :func:`prometheus_server` context manager."""
    return prometheus_server


@pytest.fixture(scope="session")
def start_pushgateway():
    """``start_pushgateway(root)``: the :func:`pushgateway_server` context manager."""
    return pushgateway_server
