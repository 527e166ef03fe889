"""Small wrappers over MlflowClient: lookups that raise our errors, aliases, the stage mirror.

Every alias write in the package goes through :func:`set_alias` / :func:`delete_alias` here.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError, StewardRegistryError
from mlflow_steward.registry import _messages as msg

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel

_logger = logging.getLogger(__name__)


def get_client(client: MlflowClient | None = None) -> MlflowClient:
    """``client`` or a new MlflowClient for the current tracking and registry URIs."""
    if client is not None:
        return client
    from mlflow import MlflowClient

    return MlflowClient()


def _is_not_found(exc: Exception) -> bool:
    return getattr(exc, "error_code", None) == "RESOURCE_DOES_NOT_EXIST"


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise StewardInputError(msg.BAD_MODEL_NAME.format(name=name))
    return name


def get_model(client: MlflowClient, name: str) -> RegisteredModel:
    """The registered model, or StewardRegistryError naming it."""
    from mlflow.exceptions import MlflowException

    check_name(name)
    try:
        return client.get_registered_model(name)
    except MlflowException as exc:
        if _is_not_found(exc):
            raise StewardRegistryError(msg.UNKNOWN_MODEL.format(name=name)) from None
        raise


def get_version(client: MlflowClient, name: str, version: object) -> ModelVersion:
    """The model version, or StewardRegistryError naming model and version."""
    from mlflow.exceptions import MlflowException

    get_model(client, name)
    text = str(version).strip()
    if not text.isdigit():
        raise StewardRegistryError(msg.UNKNOWN_VERSION.format(name=name, version=str(version)))
    try:
        return client.get_model_version(name, text)
    except MlflowException as exc:
        if _is_not_found(exc):
            raise StewardRegistryError(msg.UNKNOWN_VERSION.format(name=name, version=text)) from None
        raise


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version an alias points to, or None when the alias is not set.

    Read from the registered model's alias map: a missing alias is not an error there (the
    by-alias lookup raises different error codes in different stores).
    """
    version = (get_model(client, name).aliases or {}).get(alias)
    return None if version is None else str(version)


def production_version(client: MlflowClient, name: str) -> str | None:
    """The version the ``production`` alias points to, or None."""
    return alias_version(client, name, names.ALIAS_PRODUCTION)


def set_alias(client: MlflowClient, name: str, alias: str, version: str) -> None:
    """Point ``alias`` at ``version`` (a plain overwrite in MLflow: callers hold the lock)."""
    client.set_registered_model_alias(name, alias, str(version))


def delete_alias(client: MlflowClient, name: str, alias: str) -> None:
    client.delete_registered_model_alias(name, alias)


def mirror_stage(
    client: MlflowClient, name: str, version: str, stage: str, *, archive_existing: bool = False
) -> None:
    """Mirror a lifecycle move into MLflow's deprecated stages, best effort.

    Aliases are the source of truth; the stage is only there for older UIs and clients. The
    deprecation warning is silenced, and any failure (e.g. a registry without stages) is logged
    at debug level and ignored.
    """
    transition = getattr(client, "transition_model_version_stage", None)
    if transition is None:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            transition(name, str(version), stage, archive_existing_versions=archive_existing)
    except Exception as exc:  # the mirror must never decide anything
        _logger.debug("stage mirror %s v%s -> %s failed: %s", name, version, stage, exc)


def client_uris(client: MlflowClient) -> tuple[str, str | None]:
    """(tracking URI, registry URI) of ``client``, for MLflow's URI-based download helpers."""
    from mlflow_steward._compat.mlflow import client_registry_uri

    return client.tracking_uri, client_registry_uri(client)


def download(client: MlflowClient, artifact_uri: str, dst_path: str) -> str:
    """Download ``artifact_uri`` (runs:/, models:/, mlflow-artifacts:/, file:...) through ``client``'s URIs."""
    import mlflow

    tracking_uri, registry_uri = client_uris(client)
    return mlflow.artifacts.download_artifacts(
        artifact_uri=artifact_uri, dst_path=dst_path, tracking_uri=tracking_uri, registry_uri=registry_uri
    )


def recheck_production(client: MlflowClient, name: str, expected: str | None, action: str) -> None:
    """Raise unless ``production`` still points at ``expected`` (None: still unset)."""
    now = production_version(client, name)
    if now != expected:
        raise StewardRegistryError(
            msg.PRODUCTION_CHANGED.format(
                name=name, before=_version_text(expected), after=_version_text(now), action=action
            )
        )


def _version_text(version: str | None) -> str:
    return "no version" if version is None else f"version {version}"
