"""The one error type of ``stats`` and every message it raises, as module constants.

``stats`` imports nothing of ours, so it cannot raise ``StewardInputError``; its own
:class:`StatsInputError` is a ``ValueError`` that the CLI catches like the others. Tests match these
messages exactly (formatted with the same arguments).
"""

from __future__ import annotations


class StatsInputError(ValueError):
    """Bad input to a ``stats`` function: too few rows, NaN, a metric undefined on the data, ..."""


MSG_TOO_FEW_ROWS = "{name} has {n} rows; at least {minimum} are needed"
MSG_NOT_FINITE = (
    "{name} contains {count} non-finite value(s) (NaN or inf) out of {n}; drop or impute them first"
)
MSG_MISSING_LABELS = "{name} contains {count} missing value(s) out of {n}; drop them first"
MSG_NOT_1D = "{name} must be one-dimensional, got an array of shape {shape}"
MSG_NOT_NUMERIC = "{name} must be numeric, got dtype {dtype}"
MSG_LENGTH_MISMATCH = (
    "{name} has {n} rows but {other} has {n_other}; they must have the same length"
)
MSG_UNKNOWN_METRIC = "unknown metric {name!r}; valid names: {valid}"
MSG_METRIC_TYPE = (
    "metric must be a name from METRICS or a callable(y_true, y_pred) -> float, got {type}"
)
MSG_BAD_CONFIDENCE = "confidence must be a number strictly between 0 and 1, got {value!r}"
MSG_BAD_N_RESAMPLES = "n_resamples must be an integer >= {minimum}, got {value!r}"
MSG_BAD_METHOD = "method must be one of {valid}, got {value!r}"
MSG_BAD_ALTERNATIVE = "alternative must be one of {valid}, got {value!r}"
MSG_BAD_N_JOBS = "n_jobs must be None or a positive integer, got {value!r}"
MSG_BAD_RANDOM_STATE = (
    "random_state must be None, an int >= 0, a numpy SeedSequence or Generator, got {value!r}"
)

# metrics undefined on the data
MSG_ONE_CLASS = (
    "metric {metric!r} is undefined: y_true has a single class ({label!r}); it needs at least two"
)
MSG_CONSTANT_Y_TRUE = (
    "metric 'r2' is undefined: y_true is constant ({value!r}), so its variance is zero"
)
MSG_MAPE_ZERO = "metric 'mape' is undefined: y_true contains {count} zero(s)"
MSG_F1_NO_POSITIVE = (
    "metric 'f1' is undefined: neither y_true nor y_pred contains the positive class {label!r}"
)
MSG_PROBA_RANGE = (
    "y_pred for metric {metric!r} must hold probabilities in [0, 1]; {count} value(s) fall outside"
)
MSG_PROBA_SHAPE = (
    "y_pred for metric {metric!r} has {k} column(s) but y_true has {n_classes} classes {classes}; "
    "pass the positive-class probability (binary) or an (n, k) matrix with one column per class"
)
MSG_MIXED_LABELS = "{name} mixes label types that cannot be compared ({error})"
MSG_METRIC_NOT_FINITE = "metric {metric!r} returned a non-finite value ({value!r}) on the full data"
MSG_UNDEFINED_RESAMPLES = (
    "metric {metric!r} was undefined in {count} of {total} bootstrap resamples "
    "(e.g. a resample with a single class); pass strata=y_true so every resample keeps each class"
)
MSG_UNDEFINED_JACKKNIFE = (
    "metric {metric!r} was undefined in {count} of {total} leave-one-out subsamples, "
    "which BCa needs; use method='percentile'"
)

# strata
MSG_STRATA_LENGTH = (
    "strata has {n} labels but y_true has {n_true} rows; they must have the same length"
)

# multiple testing
MSG_P_VALUES = "p_values must be finite numbers in [0, 1]; {count} value(s) are not"
MSG_CLASS_ABSENT = (
    "metric {metric!r} (one-vs-rest) is undefined: class {label!r} never occurs in y_true"
)
