"""Build a :class:`Profile` from rows: features, and optionally the model's predictions and probabilities.

``build_profile(frame)`` fixes a new layout (quantile bins, kept categories) from the data itself: a
reference profile. ``build_profile(frame, like=reference)`` profiles new data in the reference's
layout, the form that checks compare and that merges with other parts. Infinite values count as
missing. Columns are profiled in parallel threads on large inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring._config import ProfileConfig
from mlflow_steward.monitoring._parallel import LateProgress, map_columns
from mlflow_steward.monitoring._profile import (
    FEATURE,
    PREDICTION,
    PREDICTION_COLUMN,
    PROBABILITY_PREFIX,
    UNSEEN_EXAMPLES,
    CategoricalLayout,
    ColumnProfile,
    NumericLayout,
    Profile,
)
from mlflow_steward.monitoring._summarize import (
    CATEGORICAL,
    EMPTY_MOMENTS,
    KINDS,
    NUMERIC,
    as_float,
    bin_counts,
    category_codes,
    category_totals,
    counts_in_layout,
    moments,
    quantile_edges,
)

#: Rows of a numeric column summarised at a time (the chunks' summaries merge exactly).
CHUNK_ROWS = 1 << 18

NOT_A_FRAME = "features must be a pandas DataFrame, got {type}"
NO_ROWS = "{source}: no rows to profile"
MISSING_COLUMNS = "{source} is missing column(s) {missing} that the model was trained on; expected columns: {expected}"
NOT_NUMBER = "{source}: column {column!r} must be numeric (as in training), got {value!r} ({type}) in row {row}"
BOOL_FOR_NUMBER = "{source}: column {column!r} must be numeric (as in training), got true/false values"
BAD_KIND = "kinds[{column!r}] must be one of {kinds}, got {kind!r}"
BAD_WEIGHTS = "weights must be non-negative integers, one per row ({rows}), got shape {shape}"
BAD_OUTPUTS = "{name} must have one entry per row ({rows}), got {got}"


def kind_of(series: pd.Series) -> str:
    """numeric for numbers and date/times (not booleans); categorical for everything else."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return CATEGORICAL
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return NUMERIC
    return CATEGORICAL


def numeric_values(series: pd.Series, column: str, source: str) -> np.ndarray:
    """The column as float64 with NaN for missing values; text that is not a number is an error."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        raise StewardInputError(BOOL_FOR_NUMBER.format(source=source, column=column))
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        values = as_float(series)
    else:
        parsed = pd.to_numeric(series, errors="coerce")
        bad = (parsed.isna() & series.notna()).to_numpy()
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            value = series.iloc[position]
            label = series.index[position]
            row = int(label) if isinstance(label, (int, np.integer)) else position  # rows of a file read in parts
            raise StewardInputError(NOT_NUMBER.format(source=source, column=column, value=value,
                                                      type=type(value).__name__, row=row))  # fmt: skip
        values = parsed.to_numpy(dtype="float64", na_value=np.nan)
    return values  # infinite values stay: the profile counts them as missing


def _numeric(name: str, role: str, series: pd.Series | np.ndarray, layout: NumericLayout | None,
             weights: np.ndarray | None, config: ProfileConfig, source: str) -> ColumnProfile:  # fmt: skip
    if isinstance(series, np.ndarray) and series.dtype.kind == "f":
        values = series
    else:
        values = numeric_values(pd.Series(series) if isinstance(series, np.ndarray) else series, name, source)
    if layout is None:  # a new reference: quantiles of the whole column
        finite = np.isfinite(values)
        low, high, inner = quantile_edges(values[finite], None if weights is None else weights[finite], config.n_bins)
        layout = NumericLayout(low=low, high=high, inner=tuple(float(v) for v in inner))
    inner_edges = np.asarray(layout.inner, dtype="float64")
    counts = np.zeros(layout.n_bins, dtype=np.int64)
    summary, missing, lowest, highest = EMPTY_MOMENTS, 0, np.inf, -np.inf
    for start in range(0, values.shape[0], CHUNK_ROWS):  # chunks bound the temporaries; they merge exactly
        part = values[start : start + CHUNK_ROWS]
        finite = np.isfinite(part)
        everything = bool(finite.all())
        x = part if everything else part[finite]
        chunk_weights = None if weights is None else weights[start : start + CHUNK_ROWS]
        w = chunk_weights if chunk_weights is None or everything else chunk_weights[finite]
        missing += int(part.shape[0] - x.shape[0]) if w is None else int(chunk_weights.sum() - w.sum())
        counts += bin_counts(x, w, layout.low, layout.high, inner_edges)
        summary = summary.merge(moments(x, w))
        observed = x if w is None else x[w > 0]
        if observed.shape[0]:
            lowest, highest = min(lowest, float(observed.min())), max(highest, float(observed.max()))
    return ColumnProfile(
        name=name, kind=NUMERIC, role=role, layout=layout, missing=missing, counts=tuple(counts.tolist()),
        moments=summary, minimum=lowest if summary.count else None, maximum=highest if summary.count else None,
    )  # fmt: skip


def _categorical(name: str, role: str, series: pd.Series | np.ndarray, layout: CategoricalLayout | None,
                 weights: np.ndarray | None, config: ProfileConfig) -> ColumnProfile:  # fmt: skip
    codes = category_codes(series)
    totals = category_totals(codes, weights)
    missing = int(codes.missing.sum()) if weights is None else int(weights[codes.missing].sum())
    unseen: tuple[tuple[str, int], ...] = ()
    unseen_distinct = 0
    if layout is None:
        order = sorted((i for i in range(len(codes.values)) if totals[i] > 0), key=lambda i: (-int(totals[i]), codes.values[i]))
        layout = CategoricalLayout(categories=tuple(codes.values[i] for i in order[: config.max_categories]),
                                   truncated=max(0, len(order) - config.max_categories))  # fmt: skip
    else:
        known = set(layout.categories)
        outside = [(codes.values[i], int(totals[i])) for i in range(len(codes.values))
                   if totals[i] > 0 and codes.values[i] not in known]  # fmt: skip
        unseen = tuple(sorted(outside, key=lambda item: (-item[1], item[0]))[:UNSEEN_EXAMPLES])
        unseen_distinct = len(outside)
    counts = counts_in_layout(codes, totals, layout.categories)
    return ColumnProfile(name=name, kind=CATEGORICAL, role=role, layout=layout, missing=missing,
                         counts=tuple(counts.tolist()), unseen=unseen, unseen_distinct=unseen_distinct)  # fmt: skip


def column_profile(
    name: str,
    values: pd.Series | np.ndarray,
    *,
    kind: str,
    role: str = FEATURE,
    layout: NumericLayout | CategoricalLayout | None = None,
    weights: np.ndarray | None = None,
    config: ProfileConfig | None = None,
    source: str = "data",
) -> ColumnProfile:
    """The profile of one column (its own layout, or ``layout``): the unit :func:`build_profile` runs
    per column, also usable on plain arrays."""
    config = config or ProfileConfig()
    if kind == NUMERIC:
        return _numeric(name, role, values, layout, weights, config, source)  # type: ignore[arg-type]
    return _categorical(name, role, values, layout, weights, config)  # type: ignore[arg-type]


def _outputs(predictions: Any, probabilities: Any, classes: Sequence[Any] | None, rows: int) -> pd.DataFrame:
    out: dict[str, Any] = {}
    if predictions is not None:
        values = np.asarray(predictions)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1 or values.shape[0] != rows:
            raise StewardInputError(BAD_OUTPUTS.format(name="predictions", rows=rows, got=f"shape {values.shape}"))
        out[PREDICTION_COLUMN] = values
    if probabilities is not None:
        if isinstance(probabilities, pd.DataFrame):
            names = [str(c) for c in probabilities.columns]
            matrix = probabilities.to_numpy(dtype="float64", na_value=np.nan)
        else:
            matrix = np.asarray(probabilities, dtype="float64")
            names = [str(c) for c in (classes if classes is not None else range(matrix.shape[1]))]
        if matrix.ndim != 2 or matrix.shape[0] != rows or matrix.shape[1] != len(names):
            raise StewardInputError(BAD_OUTPUTS.format(name="probabilities", rows=rows, got=f"shape {matrix.shape}"))
        for j, name in enumerate(names):
            out[f"{PROBABILITY_PREFIX}{name}"] = matrix[:, j]
    return pd.DataFrame(out)


def check_columns(columns: Iterable[Any], like: Profile, *, source: str = "data") -> None:
    """Refuse a window whose ``columns`` lack a feature column of ``like``."""
    present = {str(c) for c in columns}
    wanted = like.names(FEATURE)
    missing = [c for c in wanted if c not in present]
    if missing:
        raise StewardInputError(MISSING_COLUMNS.format(source=source, missing=", ".join(map(repr, missing)),
                                                       expected=", ".join(wanted)))  # fmt: skip


def validate_window(frame: pd.DataFrame, like: Profile, *, source: str = "data", parse: bool = True) -> None:
    """Refuse a window that cannot be compared with ``like``: no rows, a missing feature column, or
    (``parse``) text that is not a number in a numeric column. Raises before anything is computed."""
    if not isinstance(frame, pd.DataFrame):
        raise StewardInputError(NOT_A_FRAME.format(type=type(frame).__name__))
    if len(frame) == 0:
        raise StewardInputError(NO_ROWS.format(source=source))
    check_columns(frame.columns, like, source=source)
    if parse:
        for column in like.features:
            if column.kind == NUMERIC:
                numeric_values(frame[column.name], column.name, source)


def build_profile(
    features: pd.DataFrame,
    *,
    predictions: Any = None,
    probabilities: Any = None,
    classes: Sequence[Any] | None = None,
    like: Profile | None = None,
    kinds: Mapping[str, str] | None = None,
    task: str | None = None,
    config: ProfileConfig | Mapping[str, Any] | None = None,
    weights: np.ndarray | None = None,
    source: str = "data",
    n_jobs: int | None = None,
    progress: bool = True,
) -> Profile:
    """Profile ``features`` (and the model's ``predictions``/``probabilities`` on them).

    Without ``like`` every column of ``features`` is profiled and the layout comes from the data
    (``kinds`` may override a column's kind). With ``like`` the columns of that profile are profiled
    in its layout: a column it has that ``features`` lacks is an error; extra columns are ignored.
    ``weights`` (optional) are integer frequency weights, one per row. ``source`` names the data in
    error messages.
    """
    if not isinstance(features, pd.DataFrame):
        raise StewardInputError(NOT_A_FRAME.format(type=type(features).__name__))
    rows = len(features)
    if rows == 0:
        raise StewardInputError(NO_ROWS.format(source=source))
    config = config if isinstance(config, ProfileConfig) else ProfileConfig.from_dict(config)
    if weights is not None:
        weights = np.asarray(weights)
        if weights.shape != (rows,) or not np.issubdtype(weights.dtype, np.integer) or (weights < 0).any():
            raise StewardInputError(BAD_WEIGHTS.format(rows=rows, shape=weights.shape))
        weights = weights.astype(np.int64)
    outputs = _outputs(predictions, probabilities, classes, rows)
    for column, kind in (kinds or {}).items():
        if kind not in KINDS:
            raise StewardInputError(BAD_KIND.format(column=column, kinds=KINDS, kind=kind))
    jobs: list[tuple[str, str, pd.Series, str, Any]] = []
    if like is None:
        for name in features.columns:
            series = features[name]
            jobs.append((str(name), FEATURE, series, (kinds or {}).get(str(name), kind_of(series)), None))
        for name in outputs.columns:
            jobs.append((str(name), PREDICTION, outputs[name], kind_of(outputs[name]), None))
    else:
        validate_window(features, like, source=source, parse=False)
        for column in like.columns:
            frame = features if column.role == FEATURE else outputs
            if column.name in frame.columns:
                jobs.append((column.name, column.role, frame[column.name], column.kind, column.layout))

    def work(job: tuple[str, str, pd.Series, str, Any]) -> ColumnProfile:
        name, role, series, kind, layout = job
        return column_profile(name, series, kind=kind, role=role, layout=layout, weights=weights, config=config,
                              source=source)  # fmt: skip

    columns = map_columns(work, jobs, cells=rows * max(len(jobs), 1), n_jobs=n_jobs, progress=progress)
    has_outputs = any(c.role == PREDICTION for c in columns)
    if task is None and has_outputs:
        task = like.task if like is not None else (
            "classification" if probabilities is not None or kind_of(outputs[PREDICTION_COLUMN]) == CATEGORICAL
            else "regression"
        )  # fmt: skip
    probability_names = [c[len(PROBABILITY_PREFIX):] for c in outputs.columns if c.startswith(PROBABILITY_PREFIX)]
    total = rows if weights is None else int(weights.sum())
    return Profile(columns=tuple(columns), rows=total, task=task if has_outputs else None,
                   classes=tuple(probability_names) or (like.classes if like is not None else None), source=source)  # fmt: skip


def profile_parts(
    parts: Iterable[pd.DataFrame],
    like: Profile,
    *,
    predict: Callable[[pd.DataFrame], tuple[Any, Any]] | None = None,
    source: str = "data",
    total_parts: int | None = None,
    n_jobs: int | None = None,
    progress: bool = True,
) -> tuple[Profile, tuple[str, ...]]:
    """Profile a window given in parts (e.g. a file read in row batches) ``like`` a reference, one
    part in memory at a time; the parts' profiles merge exactly into the whole window's.

    ``predict(features) -> (predictions, probabilities)`` scores each part for prediction drift.
    Returns the merged profile and the columns of the window that the reference lacks.
    """
    merged: Profile | None = None
    extra: tuple[str, ...] = ()
    features = list(like.names(FEATURE))
    bar = LateProgress("profiling the window", total_parts or 0, enabled=progress and bool(total_parts))
    try:
        for part in parts:
            if merged is None:
                extra = tuple(str(c) for c in part.columns if str(c) not in like)
            validate_window(part, like, source=source)
            predictions, probabilities = predict(part[features]) if predict is not None else (None, None)
            profile = build_profile(part, predictions=predictions, probabilities=probabilities, like=like,
                                    source=source, n_jobs=n_jobs, progress=False)  # fmt: skip
            merged = profile if merged is None else merged.merge(profile)
            bar.advance()
    finally:
        bar.close()
    if merged is None:
        raise StewardInputError(NO_ROWS.format(source=source))
    return merged, extra
