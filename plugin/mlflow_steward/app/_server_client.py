"""The client and artifacts inside ``mlflow server``: the stores and artifacts destination the
server hands its workers (read through ``_compat.mlflow.tracking_server``), without a worker ever
calling its own server over HTTP.

* :func:`server_client`: an ``MlflowClient`` on the server's own stores;
* artifacts behind ``mlflow-artifacts:/`` URIs: inside the server they live under
  ``--artifacts-destination`` (a client outside resolves them over HTTP, which a worker must not
  do to itself): :func:`local_artifact_uri`, :func:`read_artifact_text` (memoised).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from mlflow_steward._compat.mlflow.tracking_server import server_environment

if TYPE_CHECKING:
    from mlflow import MlflowClient


def server_client() -> MlflowClient:
    """An MlflowClient on the server's own stores (outside a server: the default URIs)."""
    env = server_environment()
    if not env.backend_store_uri:
        return ServerClient()
    return ServerClient(tracking_uri=env.backend_store_uri, registry_uri=env.registry_store_uri)


def local_artifact_uri(artifact_uri: str) -> str:
    """``mlflow-artifacts:/1/abc/artifacts`` -> ``<--artifacts-destination>/1/abc/artifacts`` inside the
    server; any other URI unchanged."""
    destination = server_environment().artifacts_destination
    if not artifact_uri.startswith("mlflow-artifacts:") or not destination:
        return artifact_uri
    return f"{destination.rstrip('/')}/{urlparse(artifact_uri).path.lstrip('/')}"


class _ArtifactMemo:
    """Small artifacts already read (a gate decision, a history), by (run or root, path): the
    records our pages read are written once, when their run is made, and never rewritten."""

    def __init__(self, size: int = 256, largest: int = 1 << 20):
        import collections
        import threading

        self.size, self.largest = size, largest
        self._items: collections.OrderedDict[tuple[str, str], bytes] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> bytes | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: tuple[str, str], data: bytes) -> None:
        if len(data) > self.largest:
            return
        with self._lock:
            self._items[key] = data
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_MEMO = _ArtifactMemo()


def read_artifact_text(client: MlflowClient, artifact_uri: str, path: str) -> str:
    """The text of artifact ``path`` of the run whose artifact root is ``artifact_uri`` (memoised).

    Local roots (``file:`` or a path, also behind ``mlflow-artifacts:`` inside the server) are read
    in place; others are downloaded to a temporary directory."""
    cached = _MEMO.get((artifact_uri, path))
    if cached is not None:
        return cached.decode("utf-8")
    text = _read_artifact_text(client, artifact_uri, path)
    _MEMO.put((artifact_uri, path), text.encode("utf-8"))
    return text


def _read_artifact_text(client: MlflowClient, artifact_uri: str, path: str) -> str:
    import tempfile
    from pathlib import Path

    resolved = local_artifact_uri(artifact_uri)
    parsed = urlparse(resolved)
    if parsed.scheme in ("", "file"):
        from urllib.request import url2pathname

        root = Path(url2pathname(parsed.path)) if parsed.scheme == "file" else Path(resolved)
        return (root / path).read_text()
    import mlflow.artifacts

    with tempfile.TemporaryDirectory(prefix="steward-app-") as tmp:
        if resolved.startswith("mlflow-artifacts:"):  # outside a server: through the tracking server
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{resolved}/{path}", dst_path=tmp, tracking_uri=client.tracking_uri
            )
        else:
            local = mlflow.artifacts.download_artifacts(artifact_uri=f"{resolved}/{path}", dst_path=tmp)
        return Path(local).read_text()


@functools.lru_cache(maxsize=1)
def _server_client_class() -> type:
    from mlflow import MlflowClient

    class _ServerClient(MlflowClient):
        """``download_artifacts`` also works inside the server for proxied (``mlflow-artifacts:``) runs."""

        def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
            from pathlib import Path

            cached = _MEMO.get((run_id, path))
            if cached is not None and dst_path is not None:  # a file read before (e.g. a history)
                local = Path(dst_path) / path
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_bytes(cached)
                return str(local)
            local = self._download(run_id, path, dst_path)
            if Path(local).is_file():
                _MEMO.put((run_id, path), Path(local).read_bytes())
            return local

        def _download(self, run_id: str, path: str, dst_path: str | None) -> str:
            artifact_uri = self.get_run(run_id).info.artifact_uri
            if artifact_uri.startswith("mlflow-artifacts:") and server_environment().artifacts_destination:
                import mlflow.artifacts

                return mlflow.artifacts.download_artifacts(
                    artifact_uri=f"{local_artifact_uri(artifact_uri)}/{path}", dst_path=dst_path
                )
            return super().download_artifacts(run_id, path, dst_path)

    return _ServerClient


def ServerClient(**kwargs: Any) -> MlflowClient:  # noqa: N802 - behaves like the class it builds
    return _server_client_class()(**kwargs)
