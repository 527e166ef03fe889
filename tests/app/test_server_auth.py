"""``mlflow server --app-name steward`` with MLflow's basic-auth configuration: the pages compose
basic-auth instead of replacing it. No credentials: 401 (pages and MLflow's API alike); a user sees
only the models they may read; an admin sees all."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e

ADMIN = ("admin", "Steward-admin-passw0rd!")
BOB = ("bob", "Bob-the-reader-passw0rd!")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory, start_tracking_server):
    pytest.importorskip("flask_wtf", reason="MLflow's basic-auth needs Flask-WTF (mlflow-steward[auth])")
    import mlflow
    from mlflow.server.auth.client import AuthServiceClient

    root = tmp_path_factory.mktemp("steward-auth")
    ini = root / "basic_auth.ini"
    ini.write_text(
        "[mlflow]\n"
        "default_permission = NO_PERMISSIONS\n"
        f"database_uri = sqlite:///{root / 'auth.db'}\n"
        f"admin_username = {ADMIN[0]}\n"
        f"admin_password = {ADMIN[1]}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    env = {"MLFLOW_AUTH_CONFIG_PATH": str(ini), "MLFLOW_FLASK_SERVER_SECRET_KEY": "steward-test-secret"}
    previous = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    patch = pytest.MonkeyPatch()
    with start_tracking_server(f"sqlite:///{root / 'db.sqlite'}", root, extra_args=("--app-name", "steward"),
                               extra_env=env) as url:
        try:
            patch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
            patch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
            client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
            for name in ("shared-model", "secret-model"):
                client.create_registered_model(name)
            users = AuthServiceClient(url)
            users.create_user(*BOB)
            users.grant_user_permission(BOB[0], "registered_model", "shared-model", "READ")
            yield url
        finally:
            mlflow.set_tracking_uri(previous[0])
            mlflow.set_registry_uri(previous[1])
            patch.undo()


def _get(url: str, auth: tuple[str, str] | None = None) -> requests.Response:
    return requests.get(url, auth=auth, timeout=60)


def test_no_credentials_no_access(auth_server):
    for path in ("/steward/", "/steward/models/shared-model", "/steward/datasets/x",
                 "/api/2.0/mlflow/registered-models/search"):
        response = _get(auth_server + path)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert _get(auth_server + "/steward/", ("bob", "wrong password")).status_code == 401


def test_a_user_sees_only_models_they_may_read(auth_server):
    page = _get(auth_server + "/steward/", BOB)
    assert page.status_code == 200
    assert "shared-model" in page.text and "secret-model" not in page.text
    assert "1 model(s) you may not read are not listed" in page.text and "signed in as bob" in page.text
    assert _get(auth_server + "/steward/models/shared-model", BOB).status_code == 200
    hidden = _get(auth_server + "/steward/models/secret-model", BOB)
    assert hidden.status_code == 404 and "secret-model" in hidden.text  # the name asked for, nothing more
    # MLflow's own API keeps its own rules under our app
    found = _get(auth_server + "/api/2.0/mlflow/registered-models/search", BOB).json()
    assert [m["name"] for m in found.get("registered_models", [])] == ["shared-model"]


def test_an_admin_sees_everything(auth_server):
    page = _get(auth_server + "/steward/", ADMIN)
    assert page.status_code == 200 and "shared-model" in page.text and "secret-model" in page.text
    assert "you may not read" not in page.text
    assert _get(auth_server + "/steward/models/secret-model", ADMIN).status_code == 200


@pytest.mark.browser
def test_the_page_in_a_browser_as_a_user(auth_server, browser):
    token = base64.b64encode(f"{BOB[0]}:{BOB[1]}".encode()).decode()
    browser.set_headers({"Authorization": f"Basic {token}"})
    try:
        result = browser.open(auth_server + "/steward/")
        assert result.errors == []
        names = browser.evaluate("Array.from(document.querySelectorAll('table.models tbody tr')).map(r => r.cells[0].innerText)")
        assert names == ["shared-model"]
        shot = browser.screenshot(Path(__file__).resolve().parents[2] / "test-output" / "app" / "models-as-bob.png")
        assert shot.stat().st_size > 5_000
    finally:
        browser.set_headers({})
