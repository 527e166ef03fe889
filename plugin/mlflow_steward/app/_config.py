"""The server page's settings, read once from the environment when the app is created.

Authentication. ``mlflow server --app-name steward`` composes MLflow's basic-auth app when

* ``STEWARD_APP_AUTH=basic-auth``, or
* ``STEWARD_APP_AUTH`` is unset and ``MLFLOW_AUTH_CONFIG_PATH`` names a file (the configuration
  ``mlflow server --app-name basic-auth`` reads: users database, default permission, admin).

``STEWARD_APP_AUTH=none`` runs open even then (a warning is logged). Without either variable the
app runs open, like ``mlflow server``. MLflow's packaged ``basic_auth.ini`` is never picked up
silently: serving users' data behind a password is a decision, so it is made explicitly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mlflow_steward.exceptions import StewardInputError

ENV_AUTH = "STEWARD_APP_AUTH"
ENV_MLFLOW_AUTH_CONFIG = "MLFLOW_AUTH_CONFIG_PATH"
AUTH_BASIC = "basic-auth"
AUTH_NONE = "none"
_AUTH_CHOICES = (AUTH_BASIC, AUTH_NONE)

BAD_AUTH_MODE = "{env}={value!r}: expected one of {choices} (or unset: basic-auth when {config} is set)"
MISSING_AUTH_CONFIG = "{env}={path!r}: no such file (MLflow's basic-auth configuration, e.g. basic_auth.ini)"
BAD_AUTH_CONFIG = "{env}={path!r}: expected an INI file with a [mlflow] section ({reason})"

#: How many gate decisions the model page shows in full (forest plot and table); older ones are
#: listed and open on their own page.
GATE_DETAILS = 3
#: At most this many gate runs and monitor windows are read for one model page.
MAX_GATE_RUNS = 500
MAX_MONITOR_WINDOWS = 2000


@dataclass(frozen=True)
class AppConfig:
    """``auth``: compose MLflow's basic-auth; ``prefix``: MLflow's ``--static-prefix`` ("" or "/x")."""

    auth: bool = False
    prefix: str = ""
    gate_details: int = GATE_DETAILS
    max_gate_runs: int = MAX_GATE_RUNS
    max_monitor_windows: int = MAX_MONITOR_WINDOWS

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AppConfig:
        """Parse the environment (bad values raise StewardInputError naming the variable)."""
        env = os.environ if environ is None else environ
        return cls(auth=auth_enabled(env), prefix=static_prefix(env))


def auth_enabled(env: dict[str, str] | os._Environ) -> bool:
    mode = (env.get(ENV_AUTH) or "").strip().lower()
    config_path = (env.get(ENV_MLFLOW_AUTH_CONFIG) or "").strip()
    if mode and mode not in _AUTH_CHOICES:
        raise StewardInputError(
            BAD_AUTH_MODE.format(env=ENV_AUTH, value=mode, choices=list(_AUTH_CHOICES), config=ENV_MLFLOW_AUTH_CONFIG)
        )
    if mode == AUTH_NONE:
        if config_path:
            import logging

            logging.getLogger(__name__).warning(
                "%s=none: the steward pages run without authentication although %s is set",
                ENV_AUTH, ENV_MLFLOW_AUTH_CONFIG,
            )
        return False
    if config_path:
        _check_auth_config(config_path)
        return True
    return mode == AUTH_BASIC


def _check_auth_config(path: str) -> None:
    import configparser

    if not Path(path).is_file():
        raise StewardInputError(MISSING_AUTH_CONFIG.format(env=ENV_MLFLOW_AUTH_CONFIG, path=path))
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error as exc:
        raise StewardInputError(
            BAD_AUTH_CONFIG.format(env=ENV_MLFLOW_AUTH_CONFIG, path=path, reason=str(exc).splitlines()[0])
        ) from None
    if not parser.has_section("mlflow"):
        raise StewardInputError(
            BAD_AUTH_CONFIG.format(env=ENV_MLFLOW_AUTH_CONFIG, path=path, reason="no [mlflow] section")
        )


def static_prefix(env: dict[str, str] | os._Environ) -> str:
    """MLflow's ``--static-prefix`` (it passes it to the workers in a private variable)."""
    from mlflow_steward._compat.mlflow.tracking_server import server_environment

    return server_environment(env).static_prefix
