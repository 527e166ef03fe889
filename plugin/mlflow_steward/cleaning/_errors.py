"""The errors ``cleaning`` raises on purpose, and their messages.

``cleaning`` travels inside every logged model, so it imports nothing of ours: it has its own
error types instead of ``mlflow_steward.exceptions``. They subclass ``ValueError`` (and
``TypeError`` for parameters, like scikit-learn's ``InvalidParameterError``), so callers that
catch the built-in types keep working. Messages are module constants so tests match them
exactly; each names the transformer (or function), the parameter or column, and what was expected.
"""

from __future__ import annotations


class CleaningError(ValueError):
    """Base class of every error ``mlflow_steward.cleaning`` raises on purpose."""


class CleaningParameterError(CleaningError, TypeError):
    """A transformer parameter or a builder argument has a wrong value or type."""


class CleaningColumnError(CleaningError):
    """A column is missing from the input or does not hold what the transformer expects."""


class CleaningConfigError(CleaningError):
    """A ``CleaningConfig`` field (or a key of its dict form) is unknown or invalid."""


def unknown_key_error(key: str, known: list[str], *, where: str, prefix: str = "") -> CleaningConfigError:
    """An unknown (``prefix.``) ``key``, with the closest known key suggested (``difflib``).

    The same message as ``mlflow_steward.exceptions.unknown_key_error``, which ``cleaning`` cannot
    import (it travels inside models alone).
    """
    import difflib

    matches = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = CONFIG_DID_YOU_MEAN.format(match=prefix + matches[0]) if matches else ""
    return CleaningConfigError(
        CONFIG_UNKNOWN_KEY.format(key=prefix + key, where=where, hint=hint, known=", ".join(known))
    )


# --- parameters -------------------------------------------------------------------------------
PARAM_OPTION = "{owner}: parameter {param!r} must be one of {options}; got {value!r}."
PARAM_NUMBER = "{owner}: parameter {param!r} must be a real number {bounds}; got {value!r}."
PARAM_INT = "{owner}: parameter {param!r} must be an integer {bounds}; got {value!r}."
PARAM_QUANTILES = (
    "{owner}: parameter {param!r} must be a pair (low, high) with 0 <= low < high <= 1; "
    "got {value!r}."
)
PARAM_STRINGS = "{owner}: parameter {param!r} must be a sequence of strings; got {value!r}."
PARAM_COLUMNS = (
    "{owner}: parameter {param!r} must be None or a sequence of column names; got {value!r}."
)
PARAM_RATIO = (
    "{owner}: each entry of parameter 'ratios' must be a triple (name, numerator, denominator) "
    "of column names; got {value!r}."
)
PARAM_RATIO_NAME = (
    "{owner}: ratio name {name!r} is used twice or clashes with an input column; "
    "expected a new, unique column name."
)
PARAM_OVERLAP = (
    "{owner}: column {column!r} is listed both in 'numeric_columns' and 'categorical_columns'; "
    "expected each column in at most one list."
)
PARAM_ORDER_BY = (
    "{owner}: column {column!r} is the 'order_by' column and cannot be smoothed; "
    "expected it outside 'columns'."
)

# --- columns ----------------------------------------------------------------------------------
COLUMN_MISSING = (
    "{owner}: column {column!r} (from {param!r}) is not in the input; "
    "expected one of {available}."
)
COLUMN_NOT_NUMERIC = (
    "{owner}: column {column!r} has dtype {dtype}; expected a numeric column{hint}."
)
COLUMN_ALL_MISSING = (
    "{owner}: column {column!r} has no observed value at fit, so its {strategy} is undefined; "
    "use strategy 'constant' or drop the column."
)
EMPTY_INPUT = (
    "Found array with {n_samples} sample(s) and {n_features} feature(s) (shape={shape}) while "
    "a minimum of 1 sample and 1 feature is required by {owner}."
)

# --- pipeline builder and report --------------------------------------------------------------
BUILD_NO_FEATURES = (
    "build_cleaning_pipeline: no feature columns; expected at least one numeric or "
    "categorical column."
)
BUILD_NOT_STRINGS = (
    "build_cleaning_pipeline: {param!r} must be a list of column names; got {value!r}."
)
BUILD_DUPLICATE = (
    "build_cleaning_pipeline: column {column!r} appears more than once in 'numeric' and "
    "'categorical'; expected each feature column once."
)
BUILD_UNKNOWN_COLUMN = (
    "build_cleaning_pipeline: config.{field} uses column {column!r}, which is not a numeric "
    "feature column; expected one of {numeric}."
)
BUILD_TIME_IS_FEATURE = (
    "build_cleaning_pipeline: time_column {column!r} is also a feature column; expected the "
    "time column outside 'numeric' and 'categorical'."
)
BUILD_NOT_CONFIG = "build_cleaning_pipeline: config must be a CleaningConfig; got {type}."
MODEL_NOT_PIPELINE = "build_model_pipeline: cleaning must be a sklearn Pipeline; got {type}."
MODEL_NOT_ESTIMATOR = (
    "build_model_pipeline: estimator must be a scikit-learn estimator with fit(); got {type}."
)
REPORT_NOT_FRAME = "cleaning_report: raw must be a pandas DataFrame; got {type}."
REPORT_NOT_PIPELINE = "cleaning_report: fitted_cleaning must be a sklearn Pipeline; got {type}."
REPORT_NO_IMPUTER = (
    "cleaning_report: fitted_cleaning has no TypedImputer step; expected a pipeline made by "
    "build_cleaning_pipeline."
)
REPORT_DUPLICATES = (
    "cleaning_report: duplicates_dropped must be a non-negative integer; got {value!r}."
)

# --- configuration ----------------------------------------------------------------------------
CONFIG_NOT_MAPPING = "CleaningConfig.from_dict: expected a mapping; got {type}."
CONFIG_UNKNOWN_KEY = "unknown key {key!r} in {where}{hint} (expected one of {known})"
CONFIG_DID_YOU_MEAN = "; did you mean {match!r}?"
CONFIG_OPTION = "CleaningConfig: {key!r} must be one of {options}; got {value!r}."
CONFIG_NUMBER = "CleaningConfig: {key!r} must be a real number {bounds}; got {value!r}."
CONFIG_INT = "CleaningConfig: {key!r} must be an integer {bounds}; got {value!r}."
CONFIG_QUANTILES = (
    "CleaningConfig: 'outlier_quantiles' must be a pair (low, high) with 0 <= low < high <= 1; "
    "got {value!r}."
)
CONFIG_STRINGS = "CleaningConfig: {key!r} must be a sequence of strings; got {value!r}."
CONFIG_RATIOS = (
    "CleaningConfig: 'ratios' must be a sequence of (name, numerator, denominator) string "
    "triples; got {value!r}."
)
CONFIG_NOT_DICT = "CleaningConfig: {key!r} must be None or a mapping; got {value!r}."
CONFIG_MISSING_SUBKEY = "CleaningConfig: {key!r} needs the key {subkey!r}."
