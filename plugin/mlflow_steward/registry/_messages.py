"""Error messages of the registry capability, as constants so tests match them exactly.

Each names the registered model and version (or the config key) and says what to do.
"""

from __future__ import annotations

# --- models, versions, records -----------------------------------------------------------------
UNKNOWN_MODEL = "registered model {name!r} does not exist (check the name with `steward status` or the MLflow UI)"
UNKNOWN_VERSION = "registered model {name!r} has no version {version!r}"
BAD_MODEL_NAME = "model name must be a non-empty string, got {name!r}"
ALREADY_PRODUCTION = "version {version} of {name!r} is already the production model; nothing to promote"
NO_TEST_DATA = (
    "version {version} of {name!r} has no steward records (tag {tag!r} is missing), so there is no "
    "test set to gate it on: pass data= (--data) with a CSV or Parquet test set"
)
NO_SPEC = (
    "version {version} of {name!r} has no dataset spec (tag {tag!r} is missing): pass spec= "
    "(--target and --task) together with data= (--data)"
)
BAD_SPEC = "{what} is not a valid dataset spec: {error}"
TEST_DATA_UNREADABLE = "could not read the test set {source!r} for version {version} of {name!r}: {error}"
TEST_DATA_NO_TARGET = "test set {source!r} has no target column {target!r} (columns: {columns})"
TEST_DATA_TOO_SMALL = "test set {source!r} has {n} rows; the gate needs at least {minimum}"
PREDICT_FAILED = "version {version} of {name!r} could not predict on the test set: {error}"
MODEL_NO_PROBA = (
    "version {version} of {name!r} has no predict_proba, but gate metric {metric!r} needs "
    "probabilities: choose a label metric (e.g. accuracy or f1) in the gate config"
)
SCORING_FAILED = "the gate could not score version {version} of {name!r}: {error}"

# --- candidates ----------------------------------------------------------------------------------
BAD_TASK = "task must be 'regression' or 'classification', got {task!r}"
BAD_METRIC_VALUE = "metric {key!r} must be a finite number, got {value!r}"
BAD_MODEL_URI = "model_uri must be a non-empty string such as 'models:/m-...' or 'runs:/<run>/model', got {uri!r}"

# --- config ----------------------------------------------------------------------------------------
CONFIG_NOT_MAPPING = "gate config must be a mapping of keys to values, got {type}"
CONFIG_BAD_VALUE = "gate config {key!r}: {problem}, got {value!r}"
CONFIG_UNKNOWN_METRIC = "gate config {key!r}: unknown metric {metric!r}; expected one of {expected}"
CONFIG_METRIC_TASK = (
    "gate config {key!r}: metric {metric!r} does not apply to a {task} model; expected one of {expected}"
)
CONFIG_BAD_THRESHOLD = (
    "gate config 'thresholds.{metric}': expected a number or a comparison such as '>=0.5' or "
    "'<=80000', got {value!r}"
)

# --- promotion, lock, rollback ------------------------------------------------------------------
PRODUCTION_CHANGED = (
    "the production alias of {name!r} moved from {before} to {after} while {action}; nothing was "
    "changed: run it again to decide against the new production model"
)
LOCK_HELD = (
    "registered model {name!r} is locked by {owner} until {expires} ({purpose}); try again when it "
    "is released or has expired"
)
LOCK_LOST = (
    "lost the lock on registered model {name!r} to {owner} before moving the production alias; "
    "nothing was changed"
)
LOCK_BAD_TIMING = "lock {key} must be a positive number of seconds, got {value!r}"
NOTHING_TO_ROLL_BACK = "nothing to roll back to for {name!r}: {why}"
WHY_NO_PRODUCTION = "it has no production model"
WHY_FIRST = "production version {version} was the first version ever promoted"
WHY_NOT_RECORDED = (
    "production version {version} has no recorded promotion in {tag!r}; pass to=VERSION (--to)"
)
NOT_EARLIER = (
    "cannot roll back {name!r} to version {to}: it is not earlier than production version "
    "{current} (use promote to move forward through the gate)"
)
EMPTY_REASON = "a rollback of {name!r} needs a non-empty reason (it is recorded in the history)"

# --- training rows: the gate scores only rows neither model trained on (issue 12) -----------------
TRAIN_DATA_MISSING = (
    "train_data_uri {uri!r} does not exist (run {run_id} has no artifact {path!r}): register with the "
    "URI of the rows the model was trained on"
)
TRAINING_ROWS_UNKNOWN = (
    "version {version} of {name!r} has no record of the rows it was trained on (tag {tag!r}, nor a "
    "data run with {artifact!r}), so the gate cannot tell which rows of the test set {source!r} it has "
    "seen: pass data= (--data) with a test set neither model was trained on, or force=True (--force)"
)
TRAINING_ROWS_UNREADABLE = (
    "could not read the training rows {source!r} of version {version} of {name!r}: {error}; pass "
    "data= (--data) with a test set neither model was trained on, or force=True (--force)"
)
TOO_FEW_UNSEEN = (
    "only {unseen:,} of the {total:,} test rows ({source!r}) are not in the training rows of {models} "
    "of {name!r} ({detail}); the gate needs at least {minimum:,} "
    "(gate config min_unseen_rows) to decide: pass data= (--data) with a test set neither model was "
    "trained on, lower min_unseen_rows, or force=True (--force)"
)
NOT_DEPLOYABLE = "version {version} of {name!r} is marked not deployable (tag steward.deployable=false): {reason}"
