"""Dataset versions (issue 15): named datasets, versions with digests, a current pointer with history.

Read through :mod:`mlflow_steward.data`'s readers (one experiment ``steward-datasets/<name>`` per
dataset: its versions are runs, its pointer and history experiment tags), turned into the records
of :mod:`._records`. A model version names the dataset version it was trained on with the tags
``steward.dataset_name`` and ``steward.dataset_version`` (copied onto its training run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from mlflow_steward.app._records import DatasetSummary, DatasetVersion, PointerMove, VersionRow

if TYPE_CHECKING:
    from mlflow import MlflowClient

_MAX_MODEL_VERSIONS = 50  # newest model versions whose dataset versions the model page lists


def _label(number: int | None) -> str | None:
    return None if number is None else f"v{number}"


def _record(version: Any, current: int | None) -> DatasetVersion:
    return DatasetVersion(
        dataset=version.name, version=_label(version.version), rows=version.n_rows, created=version.created,
        ingest_verdict=version.verdict, digest=version.digest, parent=_label(version.parent),
        current=version.version == current, run_id=version.run_id, experiment_id=version.experiment_id,
    )


def read_datasets(client: MlflowClient) -> tuple[DatasetSummary, ...]:
    """Every named dataset with its current version."""
    from mlflow_steward import data

    return tuple(
        DatasetSummary(name=s.name, current=_label(s.current), versions=s.versions, rows=s.rows)
        for s in data.list_datasets(client)
    )


def read_dataset(client: MlflowClient, name: str) -> tuple[tuple[DatasetVersion, ...], tuple[PointerMove, ...]]:
    """The versions of dataset ``name`` (newest first) and its pointer's moves (oldest first)."""
    from mlflow_steward import data
    from mlflow_steward.exceptions import StewardInputError

    try:
        info = data.dataset_info(name, client)
    except StewardInputError:
        return (), ()
    versions = tuple(_record(v, info.current) for v in info.versions)
    moves = tuple(
        PointerMove(seq=e.seq, action=e.action, from_version=_label(e.from_version), to_version=_label(e.to_version) or "",
                    at=e.at, by=e.by, reason=e.reason)
        for e in info.history if e.state == "confirmed"
    )
    return versions, moves


def versions_for_model(client: MlflowClient, versions: Sequence[VersionRow]) -> tuple[DatasetVersion, ...]:
    """The dataset versions the given model versions were trained and tested on (named datasets only)."""
    from mlflow_steward import data
    from mlflow_steward.exceptions import StewardInputError

    wanted: dict[str, set[int]] = {}
    for row in list(versions)[:_MAX_MODEL_VERSIONS]:
        if not row.run_id or not row.dataset_version.isdigit():
            continue
        try:
            name = client.get_run(row.run_id).data.tags.get("steward.dataset_name")
        except Exception:  # a deleted run: nothing to show
            continue
        if name:
            wanted.setdefault(name, set()).add(int(row.dataset_version))
    found = []
    for name, numbers in sorted(wanted.items()):
        try:
            info = data.dataset_info(name, client)
        except StewardInputError:
            continue
        found.extend(_record(v, info.current) for v in info.versions if v.version in numbers)
    return tuple(found)
