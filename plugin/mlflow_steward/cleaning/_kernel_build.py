"""``array_kernel(step)``: the array kernel of a fitted cleaning step, or ``KernelUnavailable``;
``frame_columns(frame, names)``: a frame's columns as kernels take them.

Our transformers build their own (``_array_kernel()``, next to their ``transform``). The
scikit-learn steps the pipeline builder uses are built here from their fitted attributes:
``Pipeline``, ``ColumnTransformer``, ``StandardScaler``, ``MinMaxScaler``, ``OneHotEncoder``,
``SimpleImputer``, an identity ``FunctionTransformer`` and ``"passthrough"``. Types are matched
exactly, not by ``isinstance``: a subclass may transform differently, so it gets no kernel and
the serving plan keeps the pipeline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, OneHotEncoder, StandardScaler

from ._base import PUBLIC_MODULE
from ._compat import (
    column_transformer_input_indices,
    frame_column,
    one_hot_infrequent_enabled,
    simple_imputer_fill_dtype,
)
from ._kernels import ArrayKernel, Chain, Coded, Concat, KernelFallback, KernelUnavailable, Passthrough
from ._kernels_sklearn import MinMax, OneHot, SimpleImpute, Standardize

NO_KERNEL = "{owner} has no array kernel (a step of your own, or an option the fast path does not cover)"


def array_kernel(step) -> ArrayKernel:
    """The kernel of a fitted step; raises :class:`KernelUnavailable` naming the step otherwise."""
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return Passthrough()
    kind = type(step)
    if kind.__module__ == PUBLIC_MODULE and hasattr(step, "_array_kernel"):
        return step._array_kernel()
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise KernelUnavailable(NO_KERNEL.format(owner=kind.__name__))
    return builder(step)


def frame_columns(frame: pd.DataFrame, names) -> list:
    """The columns ``names`` of ``frame`` as kernels take them (no copy where possible).

    Numbers become float64 (as every numeric step converts them); text, booleans and categories
    :class:`~._kernels.Coded` columns (``None`` stays ``None``; a category's missing value is
    NaN); naive times ``datetime64``. Anything else (``pd.NA`` in a string column, time zones,
    nullable integers, a missing or doubled column name) raises :class:`KernelFallback`: the
    pipeline's pandas code decides.
    """
    position = {name: i for i, name in enumerate(frame.columns)}
    if len(position) != frame.shape[1]:
        raise KernelFallback("the frame has duplicate column names")
    try:
        return [_column(frame_column(frame, position[name]), name) for name in names]
    except KeyError as exc:
        raise KernelFallback(f"column {exc} is missing") from None


def _column(values, name):
    dtype = values.dtype
    if isinstance(values, np.ndarray):
        kind = dtype.kind
        if kind == "f" or kind in "iu":
            return values if dtype == np.float64 else values.astype(np.float64)
        if kind == "O":
            return Coded.encode(values)
        if kind == "b":
            return Coded.encode(values.astype(object))
        if kind == "M":
            return values
    elif isinstance(dtype, pd.StringDtype):
        if dtype.na_value is not np.nan and values.isna().any():  # pd.NA: leave it to pandas
            raise KernelFallback(f"column {name!r}: pd.NA in a string column")
        return Coded.encode(values.to_numpy(dtype=object))
    elif isinstance(dtype, pd.CategoricalDtype):
        return Coded.encode(np.asarray(values, dtype=object))
    elif getattr(dtype, "kind", None) == "M" and getattr(dtype, "tz", None) is None:
        return values.to_numpy()
    raise KernelFallback(f"column {name!r} of {dtype}")


def produces_sparse(step) -> bool:
    """Whether a fitted step hands a sparse matrix to what follows it."""
    kind = type(step)
    if kind is OneHotEncoder:
        return bool(step.sparse_output)
    if kind is ColumnTransformer:
        return bool(getattr(step, "sparse_output_", False))
    if kind is Pipeline:
        last = step.steps[-1][1] if step.steps else None
        return last is not None and produces_sparse(last)
    return False


def _pipeline(pipeline: Pipeline) -> ArrayKernel:
    kernels = []
    for name, step in pipeline.steps:
        try:
            kernels.append(array_kernel(step))
        except KernelUnavailable as exc:
            raise KernelUnavailable(f"step {name!r}: {exc}") from None
    return Chain(tuple(kernels))


def _column_transformer(transformer: ColumnTransformer) -> ArrayKernel:
    if getattr(transformer, "sparse_output_", False):
        raise KernelUnavailable(NO_KERNEL.format(owner="ColumnTransformer with sparse output"))
    indices = column_transformer_input_indices(transformer)
    parts = []
    for name, step, _ in transformer.transformers_:
        positions = tuple(int(i) for i in indices.get(name, ()))
        if not positions or (isinstance(step, str) and step == "drop"):
            continue  # the ColumnTransformer skips these too
        try:
            kernel = array_kernel(step)
        except KernelUnavailable as exc:
            raise KernelUnavailable(f"transformer {name!r}: {exc}") from None
        parts.append((positions, kernel))
    return Concat(tuple(parts))


def _function(transformer: FunctionTransformer) -> ArrayKernel:
    if transformer.func is not None or transformer.validate:
        raise KernelUnavailable(NO_KERNEL.format(owner="FunctionTransformer with a function"))
    return Passthrough()


def _float_or_none(values) -> np.ndarray | None:
    return None if values is None else np.asarray(values, dtype=np.float64)


def _standard_scaler(scaler: StandardScaler) -> ArrayKernel:
    mean = _float_or_none(scaler.mean_) if scaler.with_mean else None
    scale = _float_or_none(scaler.scale_) if scaler.with_std else None
    return Standardize(mean=mean, scale=scale)


def _min_max_scaler(scaler: MinMaxScaler) -> ArrayKernel:
    clip = tuple(float(v) for v in scaler.feature_range) if scaler.clip else None
    return MinMax(scale=_float_or_none(scaler.scale_), offset=_float_or_none(scaler.min_), clip=clip)


def _has_missing(values) -> bool:
    return any(v is None or v != v for v in values)


def _one_hot(encoder: OneHotEncoder) -> ArrayKernel:
    if one_hot_infrequent_enabled(encoder):
        raise KernelUnavailable(NO_KERNEL.format(owner="OneHotEncoder with infrequent categories"))
    drop_idx = encoder.drop_idx_
    lookups, known, widths = [], [], []
    for j, categories in enumerate(encoder.categories_):
        values = categories.tolist()
        if _has_missing(values):  # None and NaN as categories: leave them to the encoder
            raise KernelUnavailable(NO_KERNEL.format(owner="OneHotEncoder with missing values as categories"))
        dropped = None if drop_idx is None or drop_idx[j] is None else int(drop_idx[j])
        lookup, position = {}, 0
        for index, value in enumerate(values):
            if index == dropped:
                continue
            lookup[value] = position
            position += 1
        lookups.append(lookup)
        known.append(frozenset(values))
        widths.append(position)
    unknown_error = encoder.handle_unknown not in ("ignore", "infrequent_if_exist")
    return OneHot(
        lookups=tuple(lookups), known=tuple(known), widths=tuple(widths),
        unknown_error=unknown_error, dtype=encoder.dtype,
    )  # fmt: skip


def _simple_imputer(imputer: SimpleImputer) -> ArrayKernel:
    if imputer.add_indicator:
        raise KernelUnavailable(NO_KERNEL.format(owner="SimpleImputer with add_indicator"))
    missing = imputer.missing_values
    missing_nan = isinstance(missing, float) and missing != missing
    if not missing_nan and not isinstance(missing, (int, float, str)):
        raise KernelUnavailable(NO_KERNEL.format(owner=f"SimpleImputer(missing_values={missing!r})"))
    statistics = np.asarray(imputer.statistics_)
    if imputer.keep_empty_features:
        keep = tuple(range(len(statistics)))
    else:  # features without a statistic (all missing at fit) are dropped, as transform does
        keep = tuple(i for i, v in enumerate(statistics.tolist()) if v is None or v == v)
    fill_dtype = simple_imputer_fill_dtype(imputer)
    kept = statistics[list(keep)]
    kept = kept if fill_dtype is None else kept.astype(fill_dtype, copy=False)
    fills = dict(zip(keep, kept.tolist()))
    filled = tuple(fills.get(i) for i in range(len(statistics)))
    return SimpleImpute(
        statistics=filled, keep=keep, missing_nan=missing_nan,
        missing_value=missing, numeric=imputer.strategy not in ("most_frequent", "constant"),
    )  # fmt: skip


_BUILDERS = {
    Pipeline: _pipeline,
    ColumnTransformer: _column_transformer,
    FunctionTransformer: _function,
    StandardScaler: _standard_scaler,
    MinMaxScaler: _min_max_scaler,
    OneHotEncoder: _one_hot,
    SimpleImputer: _simple_imputer,
}
