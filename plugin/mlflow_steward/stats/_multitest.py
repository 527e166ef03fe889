"""Adjusted p-values for many comparisons (e.g. one test per slice)."""

from __future__ import annotations

import numpy as np

from ._errors import MSG_NOT_1D, MSG_P_VALUES, StatsInputError


def _check(p_values: object) -> np.ndarray:
    try:
        p = np.asarray(p_values, dtype=np.float64)
    except (TypeError, ValueError):
        raise StatsInputError(MSG_P_VALUES.format(count=np.size(p_values))) from None
    if p.ndim != 1:
        raise StatsInputError(MSG_NOT_1D.format(name="p_values", shape=p.shape))
    bad = int(np.count_nonzero(~(np.isfinite(p) & (p >= 0) & (p <= 1))))
    if bad:
        raise StatsInputError(MSG_P_VALUES.format(count=bad))
    return p


def holm(p_values: object) -> np.ndarray:
    """Holm step-down adjusted p-values (family-wise error), in the input order.

    Sorted ascending, ``p_adj(i) = max_{j <= i} min(1, (m - j + 1) p(j))`` (1-based).
    """
    p = _check(p_values)
    m = p.shape[0]
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def benjamini_hochberg(p_values: object) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (false discovery rate), in the input order.

    Sorted ascending, ``p_adj(i) = min_{j >= i} min(1, m p(j) / j)`` (1-based), as
    ``scipy.stats.false_discovery_control(p, method="bh")``.
    """
    p = _check(p_values)
    m = p.shape[0]
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    out = np.empty(m)
    out[order] = adjusted
    return out
