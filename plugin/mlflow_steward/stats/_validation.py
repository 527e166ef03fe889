"""Input checks in one place; every message names the argument and what was expected."""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

from ._errors import (
    MSG_BAD_ALTERNATIVE,
    MSG_BAD_CONFIDENCE,
    MSG_BAD_METHOD,
    MSG_BAD_N_JOBS,
    MSG_BAD_N_RESAMPLES,
    MSG_BAD_RANDOM_STATE,
    MSG_LENGTH_MISMATCH,
    MSG_MISSING_LABELS,
    MSG_MIXED_LABELS,
    MSG_NOT_1D,
    MSG_NOT_FINITE,
    MSG_NOT_NUMERIC,
    MSG_STRATA_LENGTH,
    MSG_TOO_FEW_ROWS,
    StatsInputError,
)

MIN_ROWS = 2
"""Fewest rows any interval accepts (a variance or a jackknife needs two)."""
MIN_RESAMPLES = 10
"""Fewest bootstrap resamples accepted (use thousands in practice)."""
METHODS = ("percentile", "bca")
ALTERNATIVES = ("two-sided", "greater", "less")


def check_confidence(confidence: object) -> float:
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, numbers.Real)
        or not 0.0 < float(confidence) < 1.0
    ):
        raise StatsInputError(MSG_BAD_CONFIDENCE.format(value=confidence))
    return float(confidence)


def check_n_resamples(n_resamples: object) -> int:
    if (
        isinstance(n_resamples, bool)
        or not isinstance(n_resamples, numbers.Integral)
        or int(n_resamples) < MIN_RESAMPLES
    ):
        raise StatsInputError(MSG_BAD_N_RESAMPLES.format(minimum=MIN_RESAMPLES, value=n_resamples))
    return int(n_resamples)


def check_method(method: object) -> str:
    key = method.lower() if isinstance(method, str) else method
    if key not in METHODS:
        raise StatsInputError(MSG_BAD_METHOD.format(valid=list(METHODS), value=method))
    return key


def check_alternative(alternative: object) -> str:
    if alternative not in ALTERNATIVES:
        raise StatsInputError(MSG_BAD_ALTERNATIVE.format(valid=list(ALTERNATIVES), value=alternative))
    return str(alternative)


def check_n_jobs(n_jobs: object) -> int:
    if n_jobs is None:
        return os.cpu_count() or 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs < 1:
        raise StatsInputError(MSG_BAD_N_JOBS.format(value=n_jobs))
    return int(n_jobs)


def seed_sequence(random_state: object) -> np.random.SeedSequence:
    """A SeedSequence from None, an int, a SeedSequence or a Generator (which is advanced)."""
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    if (
        isinstance(random_state, numbers.Integral)
        and not isinstance(random_state, bool)
        and random_state >= 0
    ):
        return np.random.SeedSequence(int(random_state))
    raise StatsInputError(MSG_BAD_RANDOM_STATE.format(value=random_state))


def check_min_rows(n: int, name: str, minimum: int = MIN_ROWS) -> None:
    if n < minimum:
        raise StatsInputError(MSG_TOO_FEW_ROWS.format(name=name, n=n, minimum=minimum))


def check_same_length(arr: np.ndarray, name: str, n: int, other: str = "y_true") -> None:
    if arr.shape[0] != n:
        raise StatsInputError(
            MSG_LENGTH_MISMATCH.format(name=name, n=arr.shape[0], other=other, n_other=n)
        )


def _object_missing(arr: np.ndarray) -> int:
    """How many None / float NaN / pandas NA entries an object array holds (no pandas import)."""
    return sum(
        1
        for v in arr.ravel()
        if v is None
        or (isinstance(v, float) and math.isnan(v))
        or type(v).__name__ in ("NAType", "NaTType")
    )


def as_float_array(values: object, name: str, *, ndim: tuple[int, ...] = (1,)) -> np.ndarray:
    """A float64 array of one of the allowed dimensions, with every value finite."""
    arr = np.asarray(values)
    if arr.ndim not in ndim:
        raise StatsInputError(MSG_NOT_1D.format(name=name, shape=arr.shape))
    if arr.dtype.kind == "O":
        missing = _object_missing(arr)
        if missing:
            raise StatsInputError(MSG_NOT_FINITE.format(name=name, count=missing, n=arr.shape[0]))
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise StatsInputError(MSG_NOT_NUMERIC.format(name=name, dtype=arr.dtype)) from None
    elif arr.dtype.kind in "biuf":
        arr = arr.astype(np.float64, copy=False)
    else:
        raise StatsInputError(MSG_NOT_NUMERIC.format(name=name, dtype=arr.dtype))
    bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
    if bad:
        raise StatsInputError(MSG_NOT_FINITE.format(name=name, count=bad, n=arr.shape[0]))
    return arr


def as_labels(values: object, name: str) -> np.ndarray:
    """A 1-D array of class labels (any comparable dtype) without missing values."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise StatsInputError(MSG_NOT_1D.format(name=name, shape=arr.shape))
    if arr.dtype.kind == "f":
        missing = int(np.count_nonzero(~np.isfinite(arr)))
    elif arr.dtype.kind == "O":
        missing = _object_missing(arr)
    else:
        missing = 0
    if missing:
        raise StatsInputError(MSG_MISSING_LABELS.format(name=name, count=missing, n=arr.shape[0]))
    return arr


def encode_labels(*arrays: tuple[np.ndarray, str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted union of the labels of every array, and each array as integer codes into it."""
    try:
        classes = np.unique(np.concatenate([a for a, _ in arrays]))
    except TypeError as exc:
        raise StatsInputError(
            MSG_MIXED_LABELS.format(name=" and ".join(n for _, n in arrays), error=exc)
        ) from None
    return classes, [np.searchsorted(classes, a).astype(np.intp) for a, _ in arrays]


def strata_order(strata: object, n: int) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Working order (rows grouped by stratum) and the start and size of each stratum in it.

    ``None`` strata give the identity order (returned as ``None``) and one segment.
    """
    if strata is None:
        return None, np.array([0]), np.array([n])
    labels = as_labels(strata, "strata")
    if labels.shape[0] != n:
        raise StatsInputError(MSG_STRATA_LENGTH.format(n=labels.shape[0], n_true=n))
    _, codes = encode_labels((labels, "strata"))
    codes = codes[0]
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes)
    sizes = sizes[sizes > 0]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return order, starts, sizes
