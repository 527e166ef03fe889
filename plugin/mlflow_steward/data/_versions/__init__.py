"""Named datasets with versions, a current pointer with history, and a lock, all in the tracking store.

One MLflow experiment ``steward-datasets/<name>`` per dataset, one run per version (the rows as
Parquet, the records as tags), the current version and its history as experiment tags, and a lease
tag that serialises writers across machines. No version is ever deleted. See ``_records.py`` for
where each record lives, ``_frames.py`` for how a batch joins a version, ``_pointer.py`` for the
history, ``_lease.py`` for the lock.
"""

from mlflow_steward.data._versions._frames import BATCH_COLUMN, VersionParts, assign_test, row_keys
from mlflow_steward.data._versions._killpoint import ENV_KILL_POINT, kill_point
from mlflow_steward.data._versions._lease import Lease, LeaseInfo, read_lease
from mlflow_steward.data._versions._operations import (
    BatchPlan,
    commit_batch,
    dataset_lock,
    fresh_batches,
    plan_batch,
    record_rejection,
    record_testset_use,
    refresh_test_set,
    rollback_dataset,
)
from mlflow_steward.data._versions._read import (
    DatasetInfo,
    DatasetSummary,
    dataset_info,
    dataset_settings,
    get_version,
    list_datasets,
    load_version,
)
from mlflow_steward.data._versions._records import (
    VERDICT_ACCEPTED,
    VERDICT_ALLOWED,
    VERDICT_QUARANTINED,
    VERDICT_REFRESH,
    VERDICT_REJECTED,
    DatasetSettings,
    DatasetVersion,
    PointerEntry,
)
from mlflow_steward.data._versions._store import parse_reference

__all__ = [
    "BATCH_COLUMN",
    "ENV_KILL_POINT",
    "VERDICT_ACCEPTED",
    "VERDICT_ALLOWED",
    "VERDICT_QUARANTINED",
    "VERDICT_REFRESH",
    "VERDICT_REJECTED",
    "BatchPlan",
    "DatasetInfo",
    "DatasetSettings",
    "DatasetSummary",
    "DatasetVersion",
    "Lease",
    "LeaseInfo",
    "PointerEntry",
    "VersionParts",
    "assign_test",
    "commit_batch",
    "dataset_info",
    "dataset_lock",
    "dataset_settings",
    "fresh_batches",
    "get_version",
    "kill_point",
    "list_datasets",
    "load_version",
    "parse_reference",
    "plan_batch",
    "read_lease",
    "record_rejection",
    "record_testset_use",
    "refresh_test_set",
    "rollback_dataset",
    "row_keys",
]
