"""Dataset versions (issue 15: named datasets, versions with digests, a current pointer with history).

Not recorded anywhere yet, so every reader returns nothing and the pages say "no dataset versions
yet". The pages and their views already take the records of :mod:`._records` (``DatasetSummary``,
``DatasetVersion``, ``PointerMove``); once ``data`` records dataset versions, filling these three
functions is all the server page needs. Read through MlflowClient with bounded searches, like the
other sources. Model versions already carry ``steward.dataset_version`` (shown on the model page).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from mlflow_steward.app._records import DatasetSummary, DatasetVersion, PointerMove, VersionRow

if TYPE_CHECKING:
    from mlflow import MlflowClient


def read_datasets(client: MlflowClient) -> tuple[DatasetSummary, ...]:
    """Every named dataset with its current version (none recorded yet)."""
    return ()


def read_dataset(client: MlflowClient, name: str) -> tuple[tuple[DatasetVersion, ...], tuple[PointerMove, ...]]:
    """The versions of dataset ``name`` (newest first) and its pointer's moves (oldest first)."""
    return (), ()


def versions_for_model(client: MlflowClient, versions: Sequence[VersionRow]) -> tuple[DatasetVersion, ...]:
    """The dataset versions the given model versions were trained and tested on."""
    return ()
