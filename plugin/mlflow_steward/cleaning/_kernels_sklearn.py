"""Array kernels of the scikit-learn transformers the pipeline builder uses (see ``_kernels``).

Each does the transformer's own arithmetic on its fitted attributes (``mean_``/``scale_``,
``scale_``/``min_``, ``categories_``, ``statistics_``) and leaves to the transformer, through
:class:`~._kernels.KernelFallback`, every input its ``check_array`` would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._kernels import ArrayKernel, Coded, Columns, KernelFallback, as_float, reject_infinite, stack


@dataclass(frozen=True, eq=False)
class Standardize(ArrayKernel):
    """``(x - mean_) / scale_`` (``StandardScaler``; either part may be off)."""

    mean: np.ndarray | None
    scale: np.ndarray | None

    def __call__(self, columns: Columns) -> Columns:
        block = stack(columns)
        reject_infinite(block, "StandardScaler")
        if self.mean is not None:
            block -= self.mean
        if self.scale is not None:
            block /= self.scale
        return list(block.T)


@dataclass(frozen=True, eq=False)
class MinMax(ArrayKernel):
    """``x * scale_ + min_``, optionally clipped to the feature range (``MinMaxScaler``)."""

    scale: np.ndarray
    offset: np.ndarray
    clip: tuple[float, float] | None

    def __call__(self, columns: Columns) -> Columns:
        block = stack(columns)
        reject_infinite(block, "MinMaxScaler")
        block *= self.scale
        block += self.offset
        if self.clip is not None:
            np.clip(block, self.clip[0], self.clip[1], out=block)
        return list(block.T)


@dataclass(frozen=True, eq=False)
class OneHot(ArrayKernel):
    """Each category to its output column, fixed once at load (``OneHotEncoder``).

    ``lookups[j]`` maps a category of input column ``j`` to its output position among that
    column's outputs (dropped categories are absent); an unknown value gives a row of zeros, or,
    when ``unknown_error``, a :class:`KernelFallback` so the encoder raises its own error.
    """

    lookups: tuple[dict, ...]
    known: tuple[frozenset, ...]  # every fitted category (dropped ones included)
    widths: tuple[int, ...]
    unknown_error: bool
    dtype: Any

    def __call__(self, columns: Columns) -> Columns:
        n_rows = len(columns[0]) if columns else 0
        block = np.zeros((n_rows, sum(self.widths)), dtype=self.dtype)
        offset = 0
        for column, lookup, known, width in zip(columns, self.lookups, self.known, self.widths):
            coded = column if isinstance(column, Coded) else Coded.encode(column)
            uniques = coded.uniques.tolist()
            try:
                if self.unknown_error and not all(v in known for v in uniques):
                    raise KernelFallback("OneHotEncoder: unknown category")
                positions = np.fromiter((lookup.get(v, -1) for v in uniques), dtype=np.intp, count=len(uniques))
            except TypeError as exc:  # an unhashable value: the encoder decides
                raise KernelFallback("OneHotEncoder: unhashable value") from exc
            hits = positions[coded.codes]
            rows = np.flatnonzero(hits >= 0)
            block[rows, offset + hits[rows]] = 1
            offset += width
        return list(block.T)


@dataclass(frozen=True, eq=False)
class SimpleImpute(ArrayKernel):
    """``SimpleImputer``: fill ``missing_values`` with ``statistics_``; drop empty features."""

    statistics: tuple[Any, ...]
    keep: tuple[int, ...]  # input positions kept (features with a statistic)
    missing_nan: bool
    missing_value: Any
    numeric: bool  # numeric strategy: every column must be float (the imputer converts)

    def __call__(self, columns: Columns) -> Columns:
        out: Columns = []
        for position in self.keep:
            column, value = columns[position], self.statistics[position]
            if self.numeric or (not isinstance(column, Coded) and column.dtype.kind == "f"):
                column = as_float(column)
                if np.isinf(column).any() or (not self.missing_nan and np.isnan(column).any()):
                    raise KernelFallback("SimpleImputer: input contains infinity (or NaN)")
                mask = np.isnan(column) if self.missing_nan else column == self.missing_value
                out.append(np.where(mask, value, column) if mask.any() else column)
                continue
            if not isinstance(column, Coded):
                raise KernelFallback(f"SimpleImputer: {column.dtype} column")
            uniques = column.uniques.tolist()
            if self.missing_nan:
                mask = [v != v for v in uniques]  # NaN only: None is a value here, as in _get_mask
            else:  # NaN is refused then (check_array), by the step: let it say so
                if any(v != v for v in uniques):
                    raise KernelFallback("SimpleImputer: NaN with another missing_values")
                mask = [v == self.missing_value for v in uniques]
            if any(mask):
                column = column.with_uniques([value if m else v for v, m in zip(uniques, mask)])
            out.append(column)
        return out
