"""Reading named datasets: the list, a dataset's versions and history, one version's rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlflow_steward import names
from mlflow_steward.data._versions import _frames, _pointer, _store
from mlflow_steward.data._versions import _messages as msg
from mlflow_steward.data._versions._records import DatasetSettings, DatasetVersion, PointerEntry
from mlflow_steward.exceptions import StewardInputError

if TYPE_CHECKING:
    from mlflow import MlflowClient


@dataclass(frozen=True)
class DatasetSummary:
    """A named dataset in the list: its current version, how many versions, the current row count."""

    name: str
    current: int | None
    versions: int
    rows: int | None
    experiment_id: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset in full: settings, versions (newest first), current version, pointer history."""

    name: str
    settings: DatasetSettings
    versions: tuple[DatasetVersion, ...]
    current: int | None
    history: tuple[PointerEntry, ...]
    experiment_id: str

    def version(self, number: int) -> DatasetVersion:
        for record in self.versions:
            if record.version == number:
                return record
        known = ", ".join(str(v.version) for v in reversed(self.versions)) or "none yet"
        raise StewardInputError(msg.UNKNOWN_VERSION.format(name=self.name, version=number, versions=known))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "current": self.current, "experiment_id": self.experiment_id,
            "settings": {"spec": self.settings.spec.to_dict(), "test_share": self.settings.test_share,
                         "seed": self.settings.seed, "created": self.settings.created,
                         "created_by": self.settings.created_by},
            "versions": [v.to_dict() for v in self.versions],
            "history": [e.to_dict() for e in self.history],
        }


def list_datasets(client: MlflowClient | None = None) -> list[DatasetSummary]:
    """Every named dataset in the tracking store."""
    client = _store.get_client(client)
    out = []
    for experiment in _store.dataset_experiments(client):
        name = experiment.name[len(names.DATASET_EXPERIMENT_PREFIX):]
        versions = _store.list_versions(client, experiment.experiment_id)
        current = _pointer.read_current(dict(experiment.tags))
        rows = next((v.n_rows for v in versions if v.version == current), None)
        out.append(DatasetSummary(name, current, len(versions), rows, experiment.experiment_id))
    return out


def dataset_info(name: str, client: MlflowClient | None = None) -> DatasetInfo:
    """Settings, versions, current version and history of dataset ``name``."""
    _store.check_name(name)  # before the client: creating one creates a SQLite store
    client = _store.get_client(client)
    experiment = _store.require_experiment(client, name)
    tags = dict(experiment.tags)
    return DatasetInfo(
        name=name, settings=_store.read_settings(experiment),
        versions=tuple(_store.list_versions(client, experiment.experiment_id)),
        current=_pointer.read_current(tags),
        history=tuple(_pointer.full_history(client, experiment.experiment_id, tags)),
        experiment_id=experiment.experiment_id,
    )


def get_version(name: str, version: int | str | None = None, *, client: MlflowClient | None = None) -> DatasetVersion:
    """Version ``version`` of dataset ``name`` (None: the current one)."""
    _store.check_name(name)
    number = None if version is None else _store.check_version(version)  # refused before the store is touched
    client = _store.get_client(client)
    experiment = _store.require_experiment(client, name)
    if number is None:
        number = _pointer.read_current(dict(experiment.tags))
        if number is None:
            raise StewardInputError(msg.NO_CURRENT.format(name=name))
    return _store.get_version(client, name, experiment.experiment_id, number)


def load_version(
    name: str, version: int | str | None = None, *, client: MlflowClient | None = None
) -> tuple[DatasetVersion, _frames.VersionParts]:
    """The record and the rows of a version (None: the current one), exactly as stored."""
    client = _store.get_client(client)
    record = get_version(name, version, client=client)
    return record, _store.load_parts(client, record)


def dataset_settings(name: str, *, client: MlflowClient | None = None) -> DatasetSettings:
    client = _store.get_client(client)
    return _store.read_settings(_store.require_experiment(client, name))
