"""Summaries of one column's values: moments, quantile bin edges, bin counts, category counts.

Everything here is vectorised numpy/pandas over one column (no per-row Python). Values may carry
integer frequency ``weights`` (a row standing for that many rows), which is how aggregated data, and
the simulation tests, are profiled through the same code as raw rows.

Moments are kept as count, mean and the sums of the 2nd, 3rd and 4th powers of the deviations
from the mean (``m2``, ``m3``, ``m4``), which two summaries combine exactly (Chan et al. for the
mean and ``m2``, Pébay 2008 for ``m3`` and ``m4``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NUMERIC = "numeric"
CATEGORICAL = "categorical"
KINDS = (NUMERIC, CATEGORICAL)


@dataclass(frozen=True)
class Moments:
    """Count, mean and central-moment sums of the non-missing values (mergeable)."""

    count: int
    mean: float
    m2: float
    m3: float
    m4: float

    @property
    def variance(self) -> float:
        """Sample variance (``m2 / (count - 1)``); NaN below two values."""
        return self.m2 / (self.count - 1) if self.count > 1 else float("nan")

    @property
    def std(self) -> float:
        return float(np.sqrt(self.variance)) if self.count > 1 else float("nan")

    def merge(self, other: Moments) -> Moments:
        """The moments of both sets of values together (exact up to rounding)."""
        na, nb = self.count, other.count
        if na == 0:
            return other
        if nb == 0:
            return self
        n = na + nb
        delta = other.mean - self.mean
        mean = self.mean + delta * nb / n
        m2 = self.m2 + other.m2 + delta**2 * na * nb / n
        m3 = (
            self.m3 + other.m3
            + delta**3 * na * nb * (na - nb) / n**2
            + 3.0 * delta * (na * other.m2 - nb * self.m2) / n
        )  # fmt: skip
        m4 = (
            self.m4 + other.m4
            + delta**4 * na * nb * (na * na - na * nb + nb * nb) / n**3
            + 6.0 * delta**2 * (na * na * other.m2 + nb * nb * self.m2) / n**2
            + 4.0 * delta * (na * other.m3 - nb * self.m3) / n
        )  # fmt: skip
        return Moments(count=n, mean=float(mean), m2=float(m2), m3=float(m3), m4=float(m4))


EMPTY_MOMENTS = Moments(count=0, mean=0.0, m2=0.0, m3=0.0, m4=0.0)


def moments(values: np.ndarray, weights: np.ndarray | None = None) -> Moments:
    """Moments of finite float ``values`` (two passes: mean, then deviations)."""
    if weights is None:
        n = int(values.shape[0])
        if n == 0:
            return EMPTY_MOMENTS
        mean = float(values.mean())
        dev = values - mean
        sq = dev * dev
        m3 = float(np.multiply(sq, dev, out=dev).sum())  # reuses dev's buffer (no BLAS: its threads fight ours)
        return Moments(n, mean, float(sq.sum()), m3, float(np.multiply(sq, sq, out=sq).sum()))
    n = int(weights.sum())
    if n == 0:
        return EMPTY_MOMENTS
    mean = float(np.dot(weights, values) / n)
    dev = values - mean
    sq = dev * dev
    return Moments(n, mean, float(np.dot(weights, sq)), float(np.dot(weights, sq * dev)), float(np.dot(weights, sq * sq)))


def as_float(series: pd.Series) -> np.ndarray:
    """A numeric (or datetime: seconds since the epoch) column as float64, missing as NaN."""
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = series.dt.tz_convert("UTC") if getattr(series.dt, "tz", None) is not None else series
        values = stamps.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64") / 1e9
        values[series.isna().to_numpy()] = np.nan
        return values
    return series.to_numpy(dtype="float64", na_value=np.nan)


def quantile_edges(values: np.ndarray, weights: np.ndarray | None, n_bins: int) -> tuple[float, float, np.ndarray]:
    """``(low, high, inner)``: the range of the values and the distinct ``k/n_bins`` quantiles
    strictly inside it (inverted-CDF rule: the smallest value whose cumulative share reaches k/n_bins)."""
    if weights is None:  # a partition, not a sort: numpy's inverted-CDF quantiles are this rule
        if values.shape[0] == 0:
            return float("nan"), float("nan"), np.zeros(0)
        low, high = float(values.min()), float(values.max())
        picked = np.quantile(values, np.arange(1, n_bins) / n_bins, method="inverted_cdf")
        inner = np.unique(picked)
        return low, high, inner[(inner > low) & (inner < high)].astype("float64")
    else:
        order = np.argsort(values, kind="stable")
        sorted_values, sorted_weights = values[order], weights[order]
        distinct, starts = np.unique(sorted_values, return_index=True)
        counts = np.add.reduceat(sorted_weights, starts) if len(starts) else np.zeros(0, dtype=np.int64)
        keep = counts > 0
        distinct, counts = distinct[keep], counts[keep]
    if distinct.shape[0] == 0:
        return float("nan"), float("nan"), np.zeros(0)
    cumulative = np.cumsum(counts)
    targets = np.arange(1, n_bins) * (cumulative[-1] / n_bins)
    picked = distinct[np.minimum(np.searchsorted(cumulative, targets, side="left"), distinct.shape[0] - 1)]
    low, high = float(distinct[0]), float(distinct[-1])
    inner = np.unique(picked)
    inner = inner[(inner > low) & (inner < high)]
    return low, high, inner.astype("float64")


def bin_index(values: np.ndarray, low: float, high: float, inner: np.ndarray) -> np.ndarray:
    """Bin of each finite value: 0 below ``low``; then ``[low, e0)``, ``[e0, e1)``, ...,
    ``[e_last, high]``; last bin above ``high`` (``len(inner) + 3`` bins in all)."""
    if not np.isfinite(low):  # a reference without values: everything in the one inner bin
        return np.ones(values.shape[0], dtype=np.intp)
    cuts = np.concatenate(([low], inner))
    index = np.searchsorted(cuts, values, side="right")
    index += values > high
    return index


def bin_counts(values: np.ndarray, weights: np.ndarray | None, low: float, high: float, inner: np.ndarray) -> np.ndarray:
    """Counts per bin (see :func:`bin_index`)."""
    return np.bincount(bin_index(values, low, high, inner), weights=weights, minlength=inner.shape[0] + 3).astype(
        np.int64
    )


@dataclass(frozen=True)
class CategoryCodes:
    """A categorical column as integer codes into its distinct values (text), and a missing mask."""

    values: tuple[str, ...]  # distinct non-missing values, as text
    codes: np.ndarray  # index into ``values``; -1 where missing
    missing: np.ndarray  # bool mask


def category_codes(series: pd.Series) -> CategoryCodes:
    """Hash the column once (pandas, in C) and turn each distinct value into text."""
    categorical = pd.Categorical(series)
    texts = tuple(_text(v) for v in categorical.categories.tolist())
    codes = np.asarray(categorical.codes, dtype=np.int64)
    if len(set(texts)) < len(texts):  # distinct values with the same text (1 and "1"): merge them
        unique = tuple(dict.fromkeys(texts))
        position = {t: i for i, t in enumerate(unique)}
        remap = np.array([position[t] for t in texts] + [-1], dtype=np.int64)
        codes = remap[codes]
        texts = unique
    return CategoryCodes(values=texts, codes=codes, missing=codes < 0)


def _text(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))  # 1.0 read from a CSV with a missing value is the category "1"
    return str(value)


def category_totals(codes: CategoryCodes, weights: np.ndarray | None) -> np.ndarray:
    """Count of each distinct value (in the order of ``codes.values``)."""
    present = ~codes.missing
    w = None if weights is None else weights[present]
    return np.bincount(codes.codes[present], weights=w, minlength=len(codes.values)).astype(np.int64)


def counts_in_layout(codes: CategoryCodes, totals: np.ndarray, categories: tuple[str, ...]) -> np.ndarray:
    """Counts per layout category, plus a last cell for every value outside the layout."""
    position = {c: i for i, c in enumerate(categories)}
    target = np.array([position.get(v, len(categories)) for v in codes.values], dtype=np.int64)
    out = np.zeros(len(categories) + 1, dtype=np.int64)
    if target.shape[0]:
        np.add.at(out, target, totals)
    return out
