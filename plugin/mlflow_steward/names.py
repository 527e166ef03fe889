"""The shared vocabulary: tag keys, aliases, metric-name rules and artifact paths, in one place.

Every module that writes a tag, a metric or an artifact takes its name from here, so the MLflow UI
shows one consistent set of names (see DESIGN.md, "Shared vocabulary").
"""

from __future__ import annotations

import re

# --- tags (all namespaced ``steward.``) -------------------------------------------------------
TAG_PREFIX = "steward."
TAG_STEP = "steward.step"  # which pipeline step a run is (clean, tune, train, evaluate, gate...)
TAG_STEP_KEY = "steward.step_key"  # hash of step + parameters + inputs + code version (run reuse)
TAG_CODE_VERSION = "steward.code_version"
TAG_TASK = "steward.task"  # regression | classification
TAG_TARGET = "steward.target"
TAG_DATASET_DIGEST = "steward.dataset_digest"  # hash of every row of the full dataset
TAG_DATASET_VERSION = "steward.dataset_version"  # short id derived from the digest
TAG_DATASET_SOURCE = "steward.dataset_source"
TAG_TRAIN_DIGEST = "steward.train_digest"
TAG_TEST_DIGEST = "steward.test_digest"
TAG_TEST_DATA_URI = "steward.test_data_uri"  # artifact URI of the fixed test set (Parquet)
TAG_SPEC = "steward.dataset_spec"  # JSON of the DatasetSpec
TAG_DATA_RUN = "steward.data_run_id"  # run that produced the split
TAG_TUNE_RUN = "steward.tune_run_id"
TAG_TRAIN_RUN = "steward.train_run_id"
TAG_MODEL_FAMILY = "steward.model_family"
TAG_SERIALIZATION = "steward.serialization"  # skops | cloudpickle, and why
TAG_GATE = "steward.gate"  # gate verdict on a model version
TAG_GATE_RUN = "steward.gate_run_id"
TAG_HISTORY = "steward.history"  # JSON list of production moves, on the registered model
TAG_LOCK = "steward.lock"  # promotion lock, on the registered model
TAG_FORCED = "steward.forced"
DATASET_CONTEXT_TRAINING = "training"  # mlflow.log_input(context=...) of the train split
DATASET_CONTEXT_TESTING = "testing"  # ... and of the test split

# --- aliases (MLflow 3's lifecycle) ----------------------------------------------------------
ALIAS_PRODUCTION = "production"
ALIAS_STAGING = "staging"

# --- artifacts ---------------------------------------------------------------------------------
ARTIFACT_TRAIN_DATA = "data/train.parquet"
ARTIFACT_TEST_DATA = "data/test.parquet"
ARTIFACT_DATASET_SPEC = "data/spec.json"  # the resolved DatasetSpec (also in TAG_SPEC when it fits)
ARTIFACT_CLEANING_REPORT = "cleaning/report.json"
ARTIFACT_SLICES_CSV = "evaluation/slices.csv"
ARTIFACT_SLICES_JSON = "evaluation/slices.json"
ARTIFACT_EVALUATION_DIR = "evaluation"
ARTIFACT_GATE_DECISION = "gate/decision.json"
ARTIFACT_MONITORING_REPORT = "monitoring/report.json"
ARTIFACT_MONITORING_DIR = "monitoring"
ARTIFACT_TUNING_DIR = "tuning"
ARTIFACT_OOF_PREDICTIONS = "tuning/oof_predictions.parquet"
MODEL_NAME_IN_RUN = "model"  # ``log_model(name=...)``

# --- metric names ------------------------------------------------------------------------------
CI_LOW_SUFFIX = "_ci_low"
CI_HIGH_SUFFIX = "_ci_high"

def ci_low(metric: str) -> str:
    """``rmse`` -> ``rmse_ci_low``."""
    return f"{metric}{CI_LOW_SUFFIX}"


def ci_high(metric: str) -> str:
    """``rmse`` -> ``rmse_ci_high``."""
    return f"{metric}{CI_HIGH_SUFFIX}"


def slice_metric(column: str, value: object, metric: str) -> str:
    """The metric key of a slice: ``slice/<column>/<value>/<metric>`` (see :func:`slice_metric_key`).

    DESIGN.md first proposed ``slice/<column>=<value>/<metric>``, but MLflow rejects ``=`` in metric
    keys, so the value is its own path segment.
    """
    return slice_metric_key(column, value, metric)


# --- registry (added by the registry capability) ---------------------------------------------
TAG_METRIC_PREFIX = "steward.metric."  # on a model version: ``steward.metric.rmse`` = "49,100 [48,200, 50,100]"
TAG_MODEL_NAME = "steward.model_name"  # on a gate/rollback run: which registered model
TAG_MODEL_VERSION = "steward.model_version"  # on a gate/rollback run: which version; on a train or
# ensemble run: the version it registered
TAG_CHAMPION_VERSION = "steward.champion_version"  # on a gate run: production version it was compared to
TAG_GATE_REASON = "steward.gate_reason"  # on a model version: one line, why the gate decided so
TAG_ROLLBACK_RUN = "steward.rollback_run_id"

STEP_GATE = "gate"  # values of TAG_STEP
STEP_ROLLBACK = "rollback"

GATE_PASSED = "passed"  # values of TAG_GATE
GATE_REJECTED = "rejected"
GATE_FORCED = "forced"

STAGE_STAGING = "Staging"  # legacy stage mirror (written by ``registry`` only)
STAGE_PRODUCTION = "Production"
STAGE_ARCHIVED = "Archived"

ARTIFACT_GATE_HISTORY = "gate/history.json"  # full production history at the time of the gate
ARTIFACT_GATE_FOREST = "gate/forest.png"
ARTIFACT_ROLLBACK_DECISION = "rollback/decision.json"
ARTIFACT_ROLLBACK_HISTORY = "rollback/history.json"


def metric_tag(metric: str) -> str:
    """``rmse`` -> ``steward.metric.rmse`` (the model-version tag holding its value and interval)."""
    return f"{TAG_METRIC_PREFIX}{metric}"


# --- tuning (added by the tuning capability) -------------------------------------------------
TAG_STUDY_NAME = "steward.study_name"  # on the tuning parent run and on every trial child run
TAG_STUDY_STORAGE = "steward.study_storage"  # Optuna storage URL (password hidden)
TAG_TRIAL_NUMBER = "steward.trial_number"  # on a trial child run
TAG_TRIAL_STATE = "steward.trial_state"  # COMPLETE | PRUNED | FAIL (Optuna's words) on a child run
TAG_TRIAL_ERROR = "steward.trial_error"  # on a FAILED child run: the exception, one line
TAG_TUNING_STRATEGY = "steward.tuning_strategy"  # optuna | grid
TAG_BEST_PARAMS = "steward.best_params"  # JSON of the best family's params, on the parent run
STEP_TUNE = "tune"  # values of TAG_STEP
STEP_TUNE_TRIAL = "tune.trial"
MLFLOW_PARENT_RUN_ID = "mlflow.parentRunId"  # MLflow's own nesting tag
MLFLOW_RUN_NAME = "mlflow.runName"
ARTIFACT_BEST_PARAMS = "tuning/best_params.json"
ARTIFACT_OPTIMIZATION_HISTORY = "tuning/optimization_history.png"
ARTIFACT_PARAM_IMPORTANCES = "tuning/param_importances.png"

# --- evaluation artifacts (added by the evaluation capability) --------------------------------
ARTIFACT_WORST_ROWS_CSV = "evaluation/worst_rows.csv"
ARTIFACT_FEATURE_IMPORTANCE_CSV = "evaluation/feature_importance.csv"
ARTIFACT_PLOT_SLICE_FOREST = "evaluation/slice_forest.png"
ARTIFACT_PLOT_PREDICTED_VS_ACTUAL = "evaluation/predicted_vs_actual.png"
ARTIFACT_PLOT_RESIDUALS = "evaluation/residuals.png"
ARTIFACT_PLOT_CALIBRATION = "evaluation/calibration.png"
ARTIFACT_PLOT_CONFUSION_MATRIX = "evaluation/confusion_matrix.png"
ARTIFACT_PLOT_FEATURE_IMPORTANCE = "evaluation/feature_importance.png"
SLICE_PREFIX = "slice/"  # metric keys ``slice/<column>/<value>/<metric>`` (see slice_metric_key)
STEP_EVALUATE = "evaluate"  # value of TAG_STEP on a run made by ``steward evaluate``

# --- serving (added by the serving capability) ------------------------------------------------
ENV_CAPTURE_PATH = "STEWARD_CAPTURE_PATH"  # capture URI: SQLite file, parquet:<dir> or SQLAlchemy URL (capture on)
ENV_MODEL_NAME = "STEWARD_MODEL_NAME"  # registered model name written on captured rows
ENV_MODEL_VERSION = "STEWARD_MODEL_VERSION"  # ... and its version (else resolved from the registry)
MODEL_CONFIG_CAPTURE_PATH = "capture_path"  # model_config key (log or load time), same as the env var
MODEL_CONFIG_MODEL_NAME = "model_name"  # model_config keys overriding the recorded name/version
MODEL_CONFIG_MODEL_VERSION = "model_version"
PARAM_REQUEST_ID = "request_id"  # inference param: the caller's id for a request (joins labels later)
MODEL_ARTIFACT_PIPELINE = "pipeline"  # pyfunc artifact key of the fitted sklearn pipeline file
MODEL_ARTIFACT_MANIFEST = "manifest"  # pyfunc artifact key of steward.json: columns, kinds, serialisation
ENV_CAPTURE_QUEUE_ROWS = "STEWARD_CAPTURE_QUEUE_ROWS"  # scored rows a worker may queue for capture (then drops)
ENV_CAPTURE_BATCH_SECONDS = "STEWARD_CAPTURE_BATCH_SECONDS"  # Parquet capture: seconds gathered into one file

# MLflow's real rule (mlflow.utils.validation.validate_param_and_metric_name): metric keys may hold
# only word characters, "_", "-", ".", " ", "/" (and ":" except on Windows); "=" is rejected by
# log_batch, and a key must be a normalised path (no "//", no "." or ".." segment). So
# ``slice/<column>=<value>/<metric>`` cannot be logged; slice metrics are
# ``slice/<column>/<value>/<metric>`` (``slice_metric_key``, aliased as ``slice_metric``).
_UNSAFE_METRIC_PART_CHARS = re.compile(r"[^\w\-. ]")


def metric_key_part(value: object) -> str:
    """Make a column name or category value one valid segment of an MLflow metric key."""
    part = _UNSAFE_METRIC_PART_CHARS.sub("_", str(value))
    return "_" if part.strip(" ") in ("", ".", "..") else part


sanitize_key_part = metric_key_part


def slice_metric_key(column: str, value: object, metric: str) -> str:
    """``slice/<column>/<value>/<metric>`` with every segment made valid (see above)."""
    return f"{SLICE_PREFIX}{metric_key_part(column)}/{metric_key_part(value)}/{metric}"

# --- ensemble (added by the ensemble capability) -------------------------------------------
STEP_ENSEMBLE = "ensemble"  # value of TAG_STEP on an ensemble run
TAG_ENSEMBLE_METHOD = "steward.ensemble_method"  # mean | weighted | stacking | greedy
TAG_ENSEMBLE_MEMBERS = "steward.ensemble_members"  # JSON {member name: trial run id}
TAG_ENSEMBLE_RUN = "steward.ensemble_run_id"  # on a parent (main) run: the ensemble step's run
TAG_MODEL_URI = "steward.model_uri"  # on a run that logged a model: its model URI (as workflow's train)
ARTIFACT_ENSEMBLE_DIR = "ensemble"
ARTIFACT_ENSEMBLE_COMPARISON = "ensemble/comparison.csv"  # members vs ensemble, CV and test
ARTIFACT_ENSEMBLE_PLOT = "ensemble/comparison.png"  # bar plot of that table (test metric + interval)
ARTIFACT_ENSEMBLE_MEMBERS = "ensemble/members.json"  # members: run, family, params, weight, sources
ARTIFACT_ENSEMBLE_SUMMARY = "ensemble/summary.json"  # the EnsembleOutcome (read back on reuse)

# --- registry: training rows, promotion intents, run owners (issue 12) ------------------------
TAG_TRAIN_DATA_URI = "steward.train_data_uri"  # on a model version: its training rows (Parquet artifact URI)
TAG_PROMOTION = "steward.promotion"  # on a model version: pending | promoted | not applied (history #)
TAG_OWNER = "steward.owner"  # on a gate/rollback run: JSON {host, pid, pidns} of the process writing it
TAG_CLOSED_REASON = "steward.closed_reason"  # on a gate/rollback run closed by another process: why
# --- step records and model files (gathered from workflow, tuning, serving, evaluation) ----------
ARTIFACT_CLEANING_CONFIG = "cleaning/config.json"  # the CleaningConfig a clean run used
ARTIFACT_BEST_TRIAL = "tuning/best.json"  # family, params and task of a tune run's best trial
PARAM_STEP_PREFIX = "step."  # a step run's own parameters: ``step.<name>`` (see workflow run reuse)
PARAM_MODEL_PREFIX = "model."  # a train run's estimator parameters: ``model.<name>``
PARAM_MODEL_URI = "model_uri"  # on a run made by ``steward evaluate``: the evaluated model
STUDY_ATTR_TARGET = "steward.trial_target"  # Optuna study user attribute: trial slots it should end with
STUDY_ATTR_CONFIG = "steward.config"  # Optuna study user attribute: the settings it was created with
TRIAL_ATTR_WORKER = "steward.worker"  # Optuna trial user attribute: "<host>:<pid>" of its worker
MODEL_METADATA_FEATURES = "steward_features"  # MLmodel metadata: input columns and kinds
MODEL_MANIFEST_FILE = "steward.json"  # inside a logged model: serialisation, trusted types, features
PARAM_FAMILY = "family"  # on a trial child run: its model family (also the Optuna parameter choosing it)
PARAM_TRIAL_NUMBER = "trial_number"  # on a trial child run: the Optuna trial number
PARAM_MEMBER_PREFIX = "member."  # on an ensemble run: ``member.<name>.run_id`` / ``member.<name>.family``
# --- serving fast path (added by the serving fast path) --------------------------------------
ENV_FAST_PATH = "STEWARD_FAST_PATH"  # "0"/"false"/"off": predict with the pipeline, not the compiled plan
MODEL_CONFIG_FAST_PATH = "fast_path"  # model_config key, same as the env var (the env var wins)
MODEL_METADATA_FAST_PATH = "steward_fast_path"  # MLmodel metadata: {"enabled": bool, "reason": str}


# --- monitoring (added by the monitoring capability) -----------------------------------------
ARTIFACT_REFERENCE_PROFILE = "monitoring/reference_profile.json"  # on a train run: the model's reference profile
MODEL_ARTIFACT_REFERENCE_PROFILE = "reference_profile"  # pyfunc artifact key (the file travels inside the model)
REFERENCE_PROFILE_FILE = "reference_profile.json"  # its file name in the model's ``artifacts/``
MONITORING_EXPERIMENT_PREFIX = "steward-monitoring/"  # drift runs go to ``steward-monitoring/<model name>``
STEP_DRIFT = "monitor"  # value of TAG_STEP on a drift run (a monitor window, as the app's pages read them)
TAG_DRIFT = "steward.drift"  # on a drift run: drift | healthy
TAG_MONITOR_STATE = "steward.monitor_state"  # on a monitor run: healthy | drift (| performance, issue 14)
TAG_WINDOW_START = "steward.window_start"  # on a monitor run: the window's first and last time (ISO 8601, UTC)
TAG_WINDOW_END = "steward.window_end"
DRIFT_ALARM_SUFFIX = "_alarm"  # ``drift/<column>/<check>_alarm`` = 1 when that check alarmed, else 0
TAG_DRIFT_COLUMNS = "steward.drift_columns"  # on a drift run: the alarming columns, comma-separated
ARTIFACT_DRIFT_PLOT = "monitoring/drift.png"  # training vs window histograms of the alarming columns
ARTIFACT_DRIFT_TABLE = "monitoring/drift.csv"  # one row per column and check
DRIFT_METRIC_PREFIX = "drift/"


def drift_metric(column: str, check: str) -> str:
    """``drift/<column>/<check>``: the score of one check of one column (plus ``_ci_low``/``_ci_high``)."""
    return f"{DRIFT_METRIC_PREFIX}{metric_key_part(column)}/{check}"


# --- dataset versions and retrain (added by the maintenance loop, issue 15) -------------------
DATASET_EXPERIMENT_PREFIX = "steward-datasets/"  # one MLflow experiment per named dataset
TAG_DATASET_NAME = "steward.dataset_name"  # on a version run, a data run and a model version
# TAG_DATASET_VERSION on a named dataset's runs and model versions: the version number ("3")
TAG_DATASET_PARENT = "steward.dataset_parent"  # the version a version was built on ("" for v1)
TAG_DATASET_ROWS = "steward.dataset_rows"  # "20433 (train 13,100, test 3,300, retired 0)" in JSON
TAG_DATASET_SCHEMA = "steward.dataset_schema"  # JSON [[column, dtype], ...]
TAG_DATASET_ACTION = "steward.dataset_action"  # create | add | refresh
TAG_BATCH_DIGEST = "steward.batch_digest"  # digest of the batch a version added
TAG_INGEST_VERDICT = "steward.ingest_verdict"  # accepted | allowed | quarantined | rejected
TAG_TESTSET_GENERATION = "steward.testset_generation"  # 1, 2, ...: a refresh starts a new one
TAG_TESTSET_DECISIONS = "steward.testset_decisions"  # gate decisions made on this version's test set
TAG_TESTSET_PROMOTIONS = "steward.testset_promotions"  # ... of which promoted
TAG_TESTSET_WARNING = "steward.testset_warning"  # on a model version / gate run: the test set is overused
# TAG_OWNER (above) also on dataset version and retrain runs (orphan detection)
TAG_DATASET_CURRENT = "steward.dataset_current"  # experiment tag: the current version number
TAG_DATASET_HISTORY = "steward.dataset_history"  # experiment tag: JSON list of pointer moves
TAG_DATASET_SETTINGS = "steward.dataset_settings"  # experiment tag: JSON spec, test share, seed
TAG_RETRAIN_LOCK = "steward.retrain_lock"  # experiment tag: one retrain of a dataset at a time
TAG_DATASET_RUN = "steward.dataset_run_id"  # on a data run: the dataset version's run it was made from
TAG_RETRAIN_KEY = "steward.retrain_key"  # on a retrain run: hash of dataset version, config, code
STEP_DATASET_VERSION = "dataset_version"  # values of TAG_STEP
STEP_DATASET_REJECTED = "dataset_rejected"
STEP_DATASET_ROLLBACK = "dataset_rollback"
STEP_RETRAIN = "retrain"
ARTIFACT_DATASET_TRAIN = "dataset/train.parquet"  # a version's rows, each with its batch number
ARTIFACT_DATASET_TEST = "dataset/test.parquet"
ARTIFACT_DATASET_RETIRED = "dataset/retired.parquet"  # old test rows: never trained on, no longer gated on
ARTIFACT_DATASET_MANIFEST = "dataset/manifest.json"
ARTIFACT_DATASET_HISTORY = "dataset/history.json"  # full pointer history at that move
ARTIFACT_INGEST_REPORT = "ingest/report.json"
ARTIFACT_INGEST_HTML = "ingest/report.html"
ARTIFACT_RETRAIN_REPORT = "retrain/report.json"
ARTIFACT_RETRAIN_HTML = "retrain/report.html"
TAG_DEPLOYABLE = "steward.deployable"  # "false" on a model version a killed retrain left behind: never promoted
# --- monitor runs (issue 14): the one layout ``steward drift``/``steward monitor`` write and the app reads ---
STEP_MONITOR = STEP_DRIFT  # value of TAG_STEP on every monitor run (drift and monitor windows alike)
MONITOR_HEALTHY = "healthy"  # values of TAG_MONITOR_STATE
MONITOR_DRIFT = "drift"
MONITOR_PERFORMANCE = "performance"
ALARM_SUFFIX = DRIFT_ALARM_SUFFIX  # ``<metric>_alarm`` = 1 when that score alarmed (drift checks and live metrics)
LIVE_METRIC_PREFIX = "live/"  # ``live/<metric>`` (+ _ci_low/_ci_high/_alarm): a window's measured metric
LIVE_LABELS_METRIC = "live/n_labels"  # labelled rows behind a window's live metrics
LIVE_ESTIMATE_SUFFIX = "_estimate"  # ``live/accuracy_estimate``: estimated from probabilities, before labels
LIVE_SLICE_PREFIX = "live_slice/"  # ``live_slice/<column>/<value>/<metric>`` (+ twins): a slice's live metric
TAG_MONITOR_KEY = "steward.monitor_key"  # on a monitor run: hash of model, version, window and labels (cron reuse)
TAG_PERFORMANCE = "steward.performance"  # on a monitor run: ok | worse | not enough labels | no labels
TAG_LIVE_ALARMS = "steward.live_alarms"  # on a monitor run: the live metrics that alarmed, comma-separated
TAG_ALERT_STATE = "steward.alert_state"  # on a registered model: JSON of the last alert sent (cool-down)
ARTIFACT_MONITORING_HTML = "monitoring/report.html"  # self-contained HTML report of a monitor window
ARTIFACT_MONITORING_DASHBOARD = "monitoring/dashboard.png"  # drift + live performance of a window, one figure
ARTIFACT_LIVE_TABLE = "monitoring/live.csv"  # live metrics overall and per slice, with the test values
ENV_WEBHOOK_SECRET = "STEWARD_WEBHOOK_SECRET"  # HMAC secret of monitor alert webhooks
ENV_METRICS = "STEWARD_METRICS"  # "0"/"false"/"off": no Prometheus metrics inside mlflow models serve
ENV_METRICS_PORT = "STEWARD_METRICS_PORT"  # serve /metrics on this port too (first worker to bind it)


def monitoring_experiment(model_name: str) -> str:
    """``steward-monitoring/<model name>``: where every monitor run of a model goes."""
    return f"{MONITORING_EXPERIMENT_PREFIX}{model_name}"


def live_metric(metric: str) -> str:
    """``live/<metric>``: a window's live metric (plus ``_ci_low``/``_ci_high``/``_alarm``)."""
    return f"{LIVE_METRIC_PREFIX}{metric}"


def live_slice_metric(column: str, value: object, metric: str) -> str:
    """``live_slice/<column>/<value>/<metric>``: a slice's live metric (kept apart from ``live/``)."""
    return f"{LIVE_SLICE_PREFIX}{metric_key_part(column)}/{metric_key_part(value)}/{metric}"
