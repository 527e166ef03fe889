"""Array kernels: the fitted state of a cleaning step as a plain function of columns.

A kernel takes a list of columns of one length (1-D ``float64`` arrays for numbers,
``datetime64`` for times, and :class:`Coded` for text, booleans and categories) and returns the
transformed list, in the order of the step's ``get_feature_names_out``. A :class:`Coded` column
holds each distinct value once plus one code per row, so text steps (markers, imputation, one-hot)
look at every distinct value once, and one-hot encoding is an index lookup per row. No pandas, no
validation, no feature names: the serving plan (``mlflow_steward.serving._plan``) checks the
request once, resolves every column to a position when the model loads, and then only calls
kernels. This module holds the kernels of our transformers and of the compositions;
``_kernels_sklearn`` those of scikit-learn's transformers; ``_kernel_build`` builds them.

Kernels are exact: they do the arithmetic of the step they come from, operation for operation, so a
plan predicts what the pipeline predicts. Where the step would raise on an input (an infinity given
to a scaler, an unknown category with ``handle_unknown="error"``) or where a kernel would have to
guess, the kernel raises :class:`KernelFallback` and the caller runs the step itself, which then
answers (or fails) as it always did.

Missing values keep their meaning per step: pandas-based steps (ours) treat ``None`` and ``NaN``
alike; scikit-learn's ``SimpleImputer(missing_values=np.nan)`` does not count ``None`` in an object
column as missing, and neither does its kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import CleaningError

Columns = list  # list of 1-D numpy arrays and Coded columns, all of one length


class KernelUnavailable(CleaningError):
    """A fitted step (named in the message) has no array kernel: the caller keeps the pipeline."""


class KernelFallback(CleaningError):
    """Raised while a kernel runs: this input needs the step itself (it may raise there)."""


class ArrayKernel:
    """Base of every kernel: ``kernel(columns) -> columns``."""

    __slots__ = ()

    def __call__(self, columns: Columns) -> Columns:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class Coded:
    """A text (or boolean, or category) column: its distinct values once, and a code per row.

    Values are told apart as a ``dict`` does (``==`` and hash), as ``OneHotEncoder`` does too;
    ``None`` and NaN stay apart.
    """

    codes: np.ndarray  # intp, one per row
    uniques: np.ndarray  # object, the distinct values in order of first appearance

    dtype = np.dtype(object)

    @classmethod
    def encode(cls, column: np.ndarray) -> Coded:
        index: dict = {}
        code = index.setdefault
        try:
            codes = np.array([code(v, len(index)) for v in column.tolist()], dtype=np.intp)
        except TypeError as exc:  # an unhashable value: pandas decides
            raise KernelFallback("unhashable value in a text column") from exc
        uniques = np.empty(len(index), dtype=object)
        uniques[:] = list(index)
        return cls(codes, uniques)

    def __len__(self) -> int:
        return len(self.codes)

    def values(self) -> np.ndarray:
        """The column as an object array, one value per row."""
        return self.uniques[self.codes]

    def tolist(self) -> list:
        return self.values().tolist()

    def astype(self, dtype) -> np.ndarray:
        return self.uniques.astype(dtype)[self.codes]

    def with_uniques(self, uniques: list) -> Coded:
        replaced = np.empty(len(uniques), dtype=object)
        replaced[:] = uniques
        return Coded(self.codes, replaced)


# --- helpers ---------------------------------------------------------------------------------
def is_missing(value: Any) -> bool:
    """``None``, ``NaN`` or ``NaT``: what ``pandas.isna`` calls missing in an object column."""
    return value is None or value != value


def as_float(column: np.ndarray) -> np.ndarray:
    """A column as float64 (no copy when it already is); text raises :class:`KernelFallback`."""
    if column.dtype == np.float64:
        return column
    if column.dtype.kind in "iufb" or column.dtype == object:
        try:
            return column.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise KernelFallback(f"column of {column.dtype} is not numeric") from exc
    raise KernelFallback(f"column of {column.dtype} is not numeric")


def stack(columns: Columns) -> np.ndarray:
    """Float columns side by side, shape ``(n_rows, n_columns)`` (C order)."""
    n_rows = len(columns[0]) if columns else 0
    out = np.empty((n_rows, len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):
        out[:, j] = as_float(column)
    return out


def reject_infinite(block: np.ndarray, owner: str) -> None:
    if np.isinf(block).any():  # the step's own check_array would raise: let it
        raise KernelFallback(f"{owner}: input contains infinity")


# --- composition -----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Passthrough(ArrayKernel):
    """The columns unchanged (``"passthrough"``, an identity ``FunctionTransformer``)."""

    def __call__(self, columns: Columns) -> Columns:
        return columns


@dataclass(frozen=True, eq=False)
class Chain(ArrayKernel):
    """Kernels one after the other (a ``Pipeline``)."""

    kernels: tuple[ArrayKernel, ...]

    def __call__(self, columns: Columns) -> Columns:
        for kernel in self.kernels:
            columns = kernel(columns)
        return columns


@dataclass(frozen=True, eq=False)
class Concat(ArrayKernel):
    """Each part applied to its input positions, outputs side by side (a ``ColumnTransformer``)."""

    parts: tuple[tuple[tuple[int, ...], ArrayKernel], ...]

    def __call__(self, columns: Columns) -> Columns:
        out: Columns = []
        for positions, kernel in self.parts:
            out.extend(kernel([columns[i] for i in positions]))
        return out


# --- our transformers ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ReplaceMarkers(ArrayKernel):
    """Text cells whose stripped value is a marker become NaN (``MissingMarkerReplacer``)."""

    markers: frozenset

    def __call__(self, columns: Columns) -> Columns:
        if not self.markers:
            return columns
        markers, out = self.markers, list(columns)
        for j, column in enumerate(columns):
            if not isinstance(column, Coded):
                continue  # numbers and times hold no marker text
            uniques = column.uniques.tolist()
            if any(isinstance(v, str) and v.strip() in markers for v in uniques):
                out[j] = column.with_uniques(
                    [np.nan if isinstance(v, str) and v.strip() in markers else v for v in uniques]
                )
        return out


@dataclass(frozen=True, eq=False)
class FillMissing(ArrayKernel):
    """Missing cells of some columns filled with one value each (``TypedImputer``)."""

    fills: tuple[tuple[int, Any], ...]  # (position, fill value)

    def __call__(self, columns: Columns) -> Columns:
        out = list(columns)
        for position, value in self.fills:
            column = columns[position]
            if not isinstance(column, Coded):
                if column.dtype.kind in "iub":
                    continue  # integers and booleans hold no missing value
                if column.dtype.kind != "f":
                    raise KernelFallback(f"cannot fill a {column.dtype} column")
                missing = np.isnan(column)
                if not missing.any():
                    continue
                if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
                    out[position] = np.where(missing, value, column)
                    continue
                column = Coded.encode(column.astype(object))  # a text fill in a float column: object
            uniques = column.uniques.tolist()
            try:
                if any(is_missing(v) for v in uniques):
                    out[position] = column.with_uniques([value if is_missing(v) else v for v in uniques])
            except TypeError as exc:  # pd.NA in an object column: let pandas decide
                raise KernelFallback("ambiguous missing value") from exc
        return out


@dataclass(frozen=True, eq=False)
class Clip(ArrayKernel):
    """Some columns clipped to fitted bounds, as float64 (``OutlierClipper``)."""

    bounds: tuple[tuple[int, float, float], ...]  # (position, lower, upper)

    def __call__(self, columns: Columns) -> Columns:
        out = list(columns)
        for position, lower, upper in self.bounds:
            out[position] = np.clip(as_float(columns[position]), lower, upper)
        return out


@dataclass(frozen=True, eq=False)
class AppendRatios(ArrayKernel):
    """Ratio columns appended; undefined or infinite ratios are NaN (``RatioFeatures``)."""

    pairs: tuple[tuple[int, int], ...]  # (numerator position, denominator position)

    def __call__(self, columns: Columns) -> Columns:
        out = list(columns)
        for numerator, denominator in self.pairs:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                values = as_float(columns[numerator]) / as_float(columns[denominator])
            values[~np.isfinite(values)] = np.nan
            out.append(values)
        return out


@dataclass(frozen=True, eq=False)
class RbfSimilarity(ArrayKernel):
    """``exp(-gamma * ||x - c||^2)`` to each centre, as ``rbf_kernel`` computes it (``ClusterSimilarity``)."""

    centers: np.ndarray  # (n_clusters, n_features)
    centers_norm: np.ndarray  # (1, n_clusters): squared norms, as euclidean_distances computes them
    gamma: float

    def __call__(self, columns: Columns) -> Columns:
        block = stack(columns)
        if not np.isfinite(block).all():  # check_pairwise_arrays refuses NaN and infinity
            raise KernelFallback("ClusterSimilarity: input contains NaN or infinity")
        distances = -2 * (block @ self.centers.T)
        distances += np.einsum("ij,ij->i", block, block)[:, np.newaxis]
        distances += self.centers_norm
        np.maximum(distances, 0, out=distances)
        distances *= -self.gamma
        np.exp(distances, distances)
        return list(distances.T)


@dataclass(frozen=True, eq=False)
class Smooth(ArrayKernel):
    """Columns smoothed within the batch in time order (``MovingAverageSmoother``, ``ExponentialSmoother``).

    ``smooth`` is the smoother's own function of a float array in time order, so batches of any
    size come out as the step computes them; a single row is its own smoothed value.
    """

    positions: tuple[int, ...]
    order_position: int | None
    smooth: Callable[[np.ndarray], np.ndarray]

    def __call__(self, columns: Columns) -> Columns:
        out = list(columns)
        n_rows = len(columns[0])
        if n_rows == 1:
            for position in self.positions:
                out[position] = as_float(columns[position])
            return out
        order = np.arange(n_rows) if self.order_position is None else _time_order(columns[self.order_position])
        for position in self.positions:
            values = as_float(columns[position])
            smoothed = np.empty_like(values)
            smoothed[order] = self.smooth(values[order])
            out[position] = smoothed
        return out


def _time_order(key: np.ndarray) -> np.ndarray:
    """Stable order with missing times last, as ``sort_values(kind="stable", na_position="last")``."""
    if isinstance(key, Coded) or key.dtype.kind not in "fiuMm":
        raise KernelFallback(f"time column of {key.dtype}: order it with pandas")
    return np.argsort(key, kind="stable")


def positions_of(names: Sequence[str], wanted: Sequence[str], owner: str) -> tuple[int, ...]:
    """Positions of ``wanted`` among ``names`` (a step's ``feature_names_in_``)."""
    index = {name: i for i, name in enumerate(names)}
    missing = [name for name in wanted if name not in index]
    if missing:
        raise KernelUnavailable(f"{owner}: columns {missing} are not among its input columns")
    return tuple(index[name] for name in wanted)
