"""Slices of an evaluation frame: one boolean mask per (slice column, slice value).

* categorical columns: one slice per value (missing values form their own slice, ``<missing>``);
* numeric columns: ``n_bins`` quantile bins of the frame itself (a column with at most ``n_bins``
  distinct values is sliced by value), labelled ``[lo, hi]`` / ``(lo, hi]``;
* crosses ``(a, b)``: every observed combination, column ``"a x b"``, value ``"va x vb"``;
* queries ``name -> expression``: column ``"query"``, value ``name``.

Bins depend only on the frame, so two models scored on the same frame see the same slices (the
registry gate relies on it). Which slices: a :class:`~mlflow_steward.evaluation.SliceSpec` (the
evaluation's and the gate's configs both give theirs as ``config.slices``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward.evaluation._slice_spec import SliceSpec
from mlflow_steward.exceptions import StewardInputError

MISSING_LABEL = "<missing>"
QUERY_COLUMN = "query"
CROSS_SEPARATOR = " x "

UNKNOWN_SLICE_COLUMN = "slice column {column!r} is not in the data; columns: {columns}"
BAD_QUERY = "slice query {name!r} ({expression!r}) failed: {error}"
QUERY_NOT_BOOLEAN = "slice query {name!r} ({expression!r}) must give one true/false value per row"


def is_categorical(series: pd.Series) -> bool:
    """object, string, category and bool columns are categorical."""
    return (
        pd.api.types.is_object_dtype(series)
        or pd.api.types.is_string_dtype(series)
        or isinstance(series.dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(series)
    )


def _fmt(value: float) -> str:
    text = format(float(value), ".6g")
    return text


def _value_labels(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """One label per row (the value as text), and the labels in display order."""
    missing = series.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        texts = np.array([_fmt(v) if not m else MISSING_LABEL for v, m in zip(series.to_numpy(), missing)], dtype=object)
        order_values = sorted({float(v) for v, m in zip(series.to_numpy(), missing) if not m})
        order = [_fmt(v) for v in order_values]
    else:
        texts = np.array([MISSING_LABEL if m else str(v) for v, m in zip(series.to_numpy(dtype=object), missing)], dtype=object)
        order = sorted({t for t, m in zip(texts, missing) if not m})
    if missing.any():
        order.append(MISSING_LABEL)
    return texts, order


def _bin_labels(series: pd.Series, n_bins: int) -> tuple[np.ndarray, list[str]]:
    """Quantile bins of a numeric column, labelled by their edges."""
    values = series.to_numpy(dtype=float, na_value=np.nan)
    finite = values[~np.isnan(values)]
    if len(np.unique(finite)) <= n_bins:
        return _value_labels(series)
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, n_bins + 1)))
    names = [
        (f"[{_fmt(lo)}, {_fmt(hi)}]" if i == 0 else f"({_fmt(lo)}, {_fmt(hi)}]")
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:]))
    ]
    index = np.searchsorted(edges[1:-1], values, side="left")
    labels = np.array([MISSING_LABEL if np.isnan(v) else names[i] for v, i in zip(values, index)], dtype=object)
    order = [n for n in names if (labels == n).any()]
    if np.isnan(values).any():
        order.append(MISSING_LABEL)
    return labels, order


def column_labels(
    frame: pd.DataFrame, column: str, config: SliceSpec, categorical: set[str] | None
) -> tuple[np.ndarray, list[str]]:
    """Per-row slice label of ``column`` and the ordered list of labels."""
    if column not in frame.columns:
        raise StewardInputError(UNKNOWN_SLICE_COLUMN.format(column=column, columns=", ".join(map(str, frame.columns))))
    series = frame[column]
    as_category = column in categorical if categorical is not None else is_categorical(series)
    if as_category or not pd.api.types.is_numeric_dtype(series):
        return _value_labels(series)
    return _bin_labels(series, config.n_bins)


def default_slice_columns(
    frame: pd.DataFrame, categorical: set[str] | None, exclude: Iterable[str] = ()
) -> list[str]:
    """Every categorical column, then every numeric one (datetimes and excluded columns skipped)."""
    skip = set(exclude)
    cats, nums = [], []
    for column in frame.columns:
        if column in skip:
            continue
        series = frame[column]
        if (categorical is not None and column in categorical) or (categorical is None and is_categorical(series)):
            cats.append(column)
        elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            nums.append(column)
    return cats + nums


def _query_mask(frame: pd.DataFrame, name: str, expression: str) -> np.ndarray:
    try:
        result = frame.eval(expression)
    except Exception as exc:  # pandas raises many types (NameError, SyntaxError, TypeError...)
        raise StewardInputError(BAD_QUERY.format(name=name, expression=expression, error=exc)) from exc
    if isinstance(result, pd.Series) and len(result) == len(frame) and (
        pd.api.types.is_bool_dtype(result)
    ):
        return result.fillna(False).to_numpy(dtype=bool)
    raise StewardInputError(QUERY_NOT_BOOLEAN.format(name=name, expression=expression))


def slice_masks(
    frame: pd.DataFrame,
    config: SliceSpec | Any,
    *,
    categorical: Sequence[str] | None = None,
    exclude: Iterable[str] = (),
) -> dict[tuple[str, str], np.ndarray]:
    """Boolean row masks of every slice the config asks for, keyed ``(slice_column, slice_value)``.

    ``categorical`` overrides dtype detection (those columns are sliced by value, the others
    binned); ``exclude`` removes columns (e.g. the target) from the default slice columns.
    Column and cross slices are never empty; a query slice may be (it is still returned, as the
    user asked for it). Too-small slices are returned too: the report marks them.
    ``config``: a :class:`SliceSpec`, or a config holding the slice keys (``EvaluationConfig``,
    ``GateConfig``).
    """
    config = SliceSpec.of(config)
    cat_set = None if categorical is None else set(categorical)
    columns = (
        default_slice_columns(frame, cat_set, exclude)
        if config.slice_columns is None
        else list(config.slice_columns)
    )
    cache: dict[str, tuple[np.ndarray, list[str]]] = {}

    def labels_of(column: str) -> tuple[np.ndarray, list[str]]:
        if column not in cache:
            cache[column] = column_labels(frame, column, config, cat_set)
        return cache[column]

    masks: dict[tuple[str, str], np.ndarray] = {}
    for column in columns:
        labels, order = labels_of(column)
        for value in order:
            masks[(column, value)] = labels == value
    for a, b in config.crosses:
        labels_a, order_a = labels_of(a)
        labels_b, order_b = labels_of(b)
        for value_a in order_a:
            in_a = labels_a == value_a
            for value_b in order_b:
                mask = in_a & (labels_b == value_b)
                if mask.any():
                    masks[(f"{a}{CROSS_SEPARATOR}{b}", f"{value_a}{CROSS_SEPARATOR}{value_b}")] = mask
    for name, expression in config.slice_queries.items():
        masks[(QUERY_COLUMN, name)] = _query_mask(frame, name, expression)
    return masks
