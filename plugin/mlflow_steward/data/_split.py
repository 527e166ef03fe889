"""Stratified, reproducible train/test split that does not depend on the file's row order."""

from __future__ import annotations


import numpy as np
import pandas as pd

from mlflow_steward.data._spec import DatasetSpec, is_categorical_dtype
from mlflow_steward.data._version import _row_hashes
from mlflow_steward.exceptions import StewardInputError, check_scalar

SPLIT_NOT_A_FRAME = "split_train_test expects a pandas DataFrame, got {kind}"
# the three messages of ``check_scalar`` for the split's parameters
SPLIT_BAD_TEST_SIZE = "split_train_test: test_size must be a number above 0 and below 1, got {value!r}"
SPLIT_BAD_N_BINS = "split_train_test: n_bins must be an integer >= 2, got {value!r}"
SPLIT_BAD_RANDOM_STATE = "split_train_test: random_state must be an integer, got {value!r}"
SPLIT_TARGET_NAN = "split_train_test: target column {target!r} is missing in {count} rows"
SPLIT_CLASS_TOO_SMALL = (
    "split_train_test: class {value!r} of target {target!r} has only {count} row; "
    "a stratified split needs at least 2 rows per class"
)
SPLIT_CONSTANT_TARGET = (
    "split_train_test: regression target {target!r} is constant ({value!r} in all {n} rows); "
    "there is nothing to learn (and R² is undefined): check the target column"
)
SPLIT_FAILED = "split_train_test: cannot split {rows} rows stratified on {strata}: {reason}"

_MISSING_STRATUM = "<missing>"

#: Fraction of rows in the test set (the default of the main job, ``steward run`` and the MLproject).
DEFAULT_TEST_SIZE = 0.2


def stratification_labels(frame: pd.DataFrame, spec: DatasetSpec, *, n_bins: int = 5) -> pd.Series:
    """The stratum of each row, as strings.

    Classification: the target's classes (``stratify_column`` is not used). Regression:
    ``spec.stratify_column`` (else the target) cut into ``n_bins`` quantile bins (``pd.qcut``,
    equal-count bins; a categorical stratify column is used as is); missing values form their own
    stratum, and strata of a single row join the largest stratum (a split needs two per stratum).
    """
    if spec.task == "classification":
        labels = frame[spec.target].astype(str)
        counts = labels.value_counts()
        if counts.min() < 2:
            raise StewardInputError(
                SPLIT_CLASS_TOO_SMALL.format(
                    value=counts.idxmin(), target=spec.target, count=int(counts.min())
                )
            )
        return labels
    column = spec.stratify_column or spec.target
    values = frame[column]
    if is_categorical_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        labels = values.astype(object).where(values.notna(), _MISSING_STRATUM).astype(str)
    else:
        bins = pd.qcut(values, q=n_bins, labels=False, duplicates="drop")
        labels = bins.map(lambda b: _MISSING_STRATUM if pd.isna(b) else f"bin{int(b)}").astype(str)
    counts = labels.value_counts()
    lonely = counts.index[counts < 2]
    if len(lonely):
        labels = labels.where(~labels.isin(lonely), counts.idxmax())
    return labels


def _check_args(frame: object, test_size: object, random_state: object, n_bins: object) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise StewardInputError(SPLIT_NOT_A_FRAME.format(kind=type(frame).__name__))
    check_scalar(test_size, "split_train_test: test_size", float, minimum=0, maximum=1,
                 include_minimum=False, include_maximum=False)
    check_scalar(random_state, "split_train_test: random_state", int)
    check_scalar(n_bins, "split_train_test: n_bins", int, minimum=2)


def split_train_test(
    frame: pd.DataFrame,
    spec: DatasetSpec,
    *,
    test_size: float = DEFAULT_TEST_SIZE,
    random_state: int = 42,
    n_bins: int = 5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train/test split (see :func:`stratification_labels` for the strata).

    Rows are first put in a canonical order (by a hash of their values), so the same rows give
    the same test set whatever order the file lists them in; the seed is fixed by ``random_state``.
    Both frames keep ``frame``'s index (for ``load_dataset`` output: the row number in the file)
    and its row order.
    """
    _check_args(frame, test_size, random_state, n_bins)
    spec.check_columns(frame)
    missing = int(frame[spec.target].isna().sum())
    if missing:
        raise StewardInputError(SPLIT_TARGET_NAN.format(target=spec.target, count=missing))
    if spec.task == "regression" and len(frame) and frame[spec.target].nunique() < 2:
        value = frame[spec.target].iloc[0]
        raise StewardInputError(
            SPLIT_CONSTANT_TARGET.format(
                target=spec.target, value=value.item() if hasattr(value, "item") else value, n=len(frame)
            )
        )
    labels = stratification_labels(frame, spec, n_bins=n_bins).to_numpy()
    canonical = np.argsort(_row_hashes(frame), kind="stable")

    from sklearn.model_selection import train_test_split

    try:
        train_pos, test_pos = train_test_split(
            canonical,
            test_size=float(test_size),
            random_state=int(random_state),
            stratify=labels[canonical],
        )
    except ValueError as exc:
        what = spec.target if spec.task == "classification" else (spec.stratify_column or spec.target)
        raise StewardInputError(
            SPLIT_FAILED.format(rows=len(frame), strata=repr(what), reason=exc)
        ) from exc
    return frame.iloc[np.sort(train_pos)], frame.iloc[np.sort(test_pos)]
