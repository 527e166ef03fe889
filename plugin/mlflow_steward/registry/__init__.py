"""The registry: every write to MLflow's model registry goes through here.

Register a candidate (tags, description, its training rows, ``staging`` alias), gate it against
production on the test rows neither model was trained on with paired bootstrap intervals overall
and per slice, promote it all-or-nothing under a registry-held lock, keep the production history
(intent, then confirmation), roll back, report status. Nothing else in mlflow-steward moves an
alias.
"""

from mlflow_steward.registry._annotate import mark_not_deployable, warn_testset_overused
from mlflow_steward.registry._alert_state import read_alert_state, write_alert_state
from mlflow_steward.registry._candidate import metric_tags, register_candidate
from mlflow_steward.registry._config import DEFAULT_METRIC, DEFAULT_THRESHOLDS, GateConfig, Threshold
from mlflow_steward.registry._decision import Check, Estimate, GateDecision, GateRow, ThresholdResult
from mlflow_steward.registry._history import HISTORY_TAG_MAX_CHARS, HistoryEntry, full_history, read_history
from mlflow_steward.registry._lock import LockInfo, RegistryLock, read_lock
from mlflow_steward.registry._plot import ForestRecord, draw_forest, forest_record
from mlflow_steward.registry._promote import promote
from mlflow_steward.registry._rollback import RollbackResult, rollback
from mlflow_steward.registry._status import StatusReport, VersionStatus, status

__all__ = [
    "DEFAULT_METRIC",
    "DEFAULT_THRESHOLDS",
    "HISTORY_TAG_MAX_CHARS",
    "Check",
    "Estimate",
    "ForestRecord",
    "GateConfig",
    "GateDecision",
    "GateRow",
    "HistoryEntry",
    "LockInfo",
    "RegistryLock",
    "RollbackResult",
    "StatusReport",
    "Threshold",
    "ThresholdResult",
    "VersionStatus",
    "draw_forest",
    "forest_record",
    "full_history",
    "mark_not_deployable",
    "metric_tags",
    "promote",
    "read_history",
    "read_alert_state",
    "read_lock",
    "register_candidate",
    "rollback",
    "status",
    "warn_testset_overused",
    "write_alert_state",
]
