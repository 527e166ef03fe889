"""Reading and writing a named dataset in the tracking store (MlflowClient only, never the fluent
API, so a dataset written inside someone's active run does not log into it)."""

from __future__ import annotations

import json
import logging
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlflow_steward import names
from mlflow_steward._paging import every_page
from mlflow_steward.data._versions import _messages as msg
from mlflow_steward.data._versions._frames import PARTS, VersionParts
from mlflow_steward._process import ProcessId
from mlflow_steward.data._versions._records import DatasetSettings, DatasetVersion
from mlflow_steward.exceptions import StewardInputError

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Experiment

_logger = logging.getLogger(__name__)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_PART_ARTIFACT = {
    "train": names.ARTIFACT_DATASET_TRAIN,
    "test": names.ARTIFACT_DATASET_TEST,
    "retired": names.ARTIFACT_DATASET_RETIRED,
}


def get_client(client: MlflowClient | None = None) -> MlflowClient:
    if client is not None:
        return client
    from mlflow import MlflowClient

    return MlflowClient()


def check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise StewardInputError(msg.BAD_NAME.format(name=name))
    return name


def experiment_name(name: str) -> str:
    return f"{names.DATASET_EXPERIMENT_PREFIX}{check_name(name)}"


def parse_reference(text: str) -> tuple[str, int | None]:
    """``"housing"`` -> ``("housing", None)``; ``"housing@3"`` -> ``("housing", 3)``."""
    if not isinstance(text, str) or text.count("@") > 1:
        raise StewardInputError(msg.BAD_REFERENCE.format(text=text))
    name, _, version = text.partition("@")
    return check_name(name), (check_version(version) if version else None)


def check_version(version: object) -> int:
    text = str(version).strip().lstrip("v")
    if not text.isdigit() or int(text) < 1:
        raise StewardInputError(msg.BAD_VERSION_TEXT.format(version=version))
    return int(text)


def find_experiment(client: MlflowClient, name: str) -> Experiment | None:
    experiment = client.get_experiment_by_name(experiment_name(name))
    if experiment is None or experiment.lifecycle_stage != "active":
        return None
    return experiment


def require_experiment(client: MlflowClient, name: str) -> Experiment:
    experiment = find_experiment(client, name)
    if experiment is None or names.TAG_DATASET_SETTINGS not in experiment.tags:
        raise StewardInputError(msg.UNKNOWN_DATASET.format(name=name, uri=client.tracking_uri))
    return experiment


def create_experiment(client: MlflowClient, name: str, settings: DatasetSettings) -> str:
    """The dataset's experiment (created, or found when a competitor created it first) with its settings."""
    from mlflow.exceptions import MlflowException

    try:
        experiment_id = client.create_experiment(
            experiment_name(name),
            tags={names.TAG_DATASET_SETTINGS: settings.to_json(), names.TAG_DATASET_NAME: name,
                  "mlflow.note.content": f"Dataset `{name}`, versioned by mlflow-steward: `steward data show {name}`."},
        )
    except MlflowException as exc:
        if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
        experiment = client.get_experiment_by_name(experiment_name(name))
        experiment_id = experiment.experiment_id
        if names.TAG_DATASET_SETTINGS not in experiment.tags:
            client.set_experiment_tag(experiment_id, names.TAG_DATASET_SETTINGS, settings.to_json())
    return experiment_id


def read_settings(experiment: Experiment) -> DatasetSettings:
    return DatasetSettings.from_json(experiment.tags[names.TAG_DATASET_SETTINGS])


def experiment_tags(client: MlflowClient, experiment_id: str) -> dict[str, str]:
    return dict(client.get_experiment(experiment_id).tags)


def dataset_experiments(client: MlflowClient) -> list[Experiment]:
    """Every active dataset experiment (name ``steward-datasets/...``)."""
    found = every_page(client.search_experiments, filter_string=f"name LIKE '{names.DATASET_EXPERIMENT_PREFIX}%'")
    return sorted((e for e in found if names.TAG_DATASET_SETTINGS in e.tags), key=lambda e: e.name)


def _search(client: MlflowClient, experiment_id: str, filter_string: str) -> list[Any]:
    return every_page(client.search_runs, [experiment_id], filter_string=filter_string)


def version_runs(client: MlflowClient, experiment_id: str, *, finished_only: bool = True) -> list[Any]:
    """The version runs (newest number first); with ``finished_only=False`` also unfinished ones."""
    query = f"tags.`{names.TAG_STEP}` = '{names.STEP_DATASET_VERSION}'"
    if finished_only:
        query += " and attributes.status = 'FINISHED'"
    runs = _search(client, experiment_id, query)
    return sorted(runs, key=lambda r: int(r.data.tags.get(names.TAG_DATASET_VERSION, "0")), reverse=True)


def list_versions(client: MlflowClient, experiment_id: str) -> list[DatasetVersion]:
    return [DatasetVersion.from_run(r) for r in version_runs(client, experiment_id)]


def next_number(client: MlflowClient, experiment_id: str) -> int:
    """1 + the highest number any version run claimed (unfinished ones included: never reused)."""
    runs = version_runs(client, experiment_id, finished_only=False)
    return 1 + max((int(r.data.tags.get(names.TAG_DATASET_VERSION, "0")) for r in runs), default=0)


def get_version(client: MlflowClient, name: str, experiment_id: str, version: int) -> DatasetVersion:
    query = (
        f"tags.`{names.TAG_STEP}` = '{names.STEP_DATASET_VERSION}' and "
        f"tags.`{names.TAG_DATASET_VERSION}` = '{int(version)}' and attributes.status = 'FINISHED'"
    )
    runs = client.search_runs([experiment_id], filter_string=query, max_results=1)
    if not runs:
        known = ", ".join(str(v.version) for v in reversed(list_versions(client, experiment_id))) or "none yet"
        raise StewardInputError(msg.UNKNOWN_VERSION.format(name=name, version=version, versions=known))
    return DatasetVersion.from_run(runs[0])


def load_parts(client: MlflowClient, record: DatasetVersion) -> VersionParts:
    """The three stored frames of a version, exactly as written (three Parquet downloads)."""
    with tempfile.TemporaryDirectory(prefix="steward-dataset-") as tmp:
        frames = [pd.read_parquet(client.download_artifacts(record.run_id, _PART_ARTIFACT[p], tmp)) for p in PARTS]
    return VersionParts(*frames)


def start_version_run(client: MlflowClient, experiment_id: str, name: str, number: int, run_name: str) -> str:
    """A RUNNING run that claims version ``number`` (its owner recorded, for orphan detection)."""
    tags = {
        names.TAG_STEP: names.STEP_DATASET_VERSION,
        names.TAG_DATASET_NAME: name,
        names.TAG_DATASET_VERSION: str(number),
        names.TAG_OWNER: ProcessId.current().to_json(),
    }
    return client.create_run(experiment_id, tags=tags, run_name=run_name).info.run_id


def start_record_run(client: MlflowClient, experiment_id: str, step: str, run_name: str, tags: dict[str, str]) -> str:
    all_tags = {names.TAG_STEP: step, names.TAG_OWNER: ProcessId.current().to_json(), **tags}
    return client.create_run(experiment_id, tags=all_tags, run_name=run_name).info.run_id


def log_parts(client: MlflowClient, run_id: str, parts: VersionParts) -> None:
    with tempfile.TemporaryDirectory(prefix="steward-dataset-") as tmp:
        for part in PARTS:
            path = Path(tmp) / Path(_PART_ARTIFACT[part]).name
            parts.part(part).to_parquet(path, index=False)
        client.log_artifacts(run_id, tmp, "dataset")


def log_json(client: MlflowClient, run_id: str, payload: Any, artifact_path: str) -> None:
    client.log_text(run_id, json.dumps(payload, indent=2, default=str), artifact_path)


def finish_run(client: MlflowClient, run_id: str, *, ok: bool) -> None:
    try:
        client.set_terminated(run_id, status="FINISHED" if ok else "FAILED")
    except Exception as exc:  # never masks the original error
        _logger.warning("could not close run %s: %s", run_id, exc)


def close_orphans(client: MlflowClient, experiment_id: str) -> list[str]:
    """Close as FAILED the RUNNING runs of this dataset whose writer is known to be gone (same
    machine, pid ended): a killed ``data add`` or rollback. Runs of live or remote writers stay."""
    closed = []
    for run in _search(client, experiment_id, "attributes.status = 'RUNNING'"):
        owner = ProcessId.parse(run.data.tags.get(names.TAG_OWNER))
        if owner is not None and owner.is_gone():
            client.set_tag(run.info.run_id, "steward.orphaned", f"its writer ({owner}) stopped before finishing")
            finish_run(client, run.info.run_id, ok=False)
            closed.append(run.info.run_id)
    return closed
