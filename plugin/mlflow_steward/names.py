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

# --- aliases (MLflow 3's lifecycle) ----------------------------------------------------------
ALIAS_PRODUCTION = "production"
ALIAS_STAGING = "staging"

# --- artifacts ---------------------------------------------------------------------------------
ARTIFACT_TRAIN_DATA = "data/train.parquet"
ARTIFACT_TEST_DATA = "data/test.parquet"
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

# MLflow metric keys allow alphanumerics, "_", "-", ".", " ", "/" (and "=" is accepted too).
_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /=]")


def sanitize_key_part(value: object) -> str:
    """Make a category value safe inside an MLflow metric key (other characters become ``_``)."""
    return _UNSAFE_KEY_CHARS.sub("_", str(value))


def ci_low(metric: str) -> str:
    """``rmse`` -> ``rmse_ci_low``."""
    return f"{metric}{CI_LOW_SUFFIX}"


def ci_high(metric: str) -> str:
    """``rmse`` -> ``rmse_ci_high``."""
    return f"{metric}{CI_HIGH_SUFFIX}"


def slice_metric(column: str, value: object, metric: str) -> str:
    """``slice/<column>=<value>/<metric>``, with unsafe characters replaced."""
    return f"slice/{sanitize_key_part(column)}={sanitize_key_part(value)}/{metric}"
