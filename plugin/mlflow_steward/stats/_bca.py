"""Percentile and BCa interval levels, and the p-values that invert them.

Same definitions as ``scipy.stats.bootstrap`` (Efron & Tibshirani 1993, 14.3 and 15.4):

* bias correction ``z0 = Phi^-1(#{theta* < theta} + #{theta* <= theta}) / 2B)``;
* acceleration ``a = sum(d^3) / (6 sum(d^2)^1.5)``, ``d_i = mean(theta_(.)) - theta_(i)`` over
  the jackknife values;
* levels ``Phi(z0 + (z0 + z_alpha) / (1 - a (z0 + z_alpha)))``;
* endpoints: ``numpy.quantile`` of the bootstrap values ('linear', as ``scipy.stats.quantile``).

Where scipy returns NaN (every resample on one side of the estimate) the fraction is clipped to
``[1/2B, 1 - 1/2B]``, and a zero jackknife spread gives ``a = 0``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri


def percentile_levels(confidence: float) -> tuple[float, float]:
    alpha = (1.0 - confidence) / 2.0
    return alpha, 1.0 - alpha


def bias_correction(theta_b: np.ndarray, theta_hat: float) -> float:
    b = theta_b.shape[0]
    below = np.count_nonzero(theta_b < theta_hat) + np.count_nonzero(theta_b <= theta_hat)
    frac = min(max(below / (2.0 * b), 0.5 / b), 1.0 - 0.5 / b)
    return float(ndtri(frac))


def acceleration(jackknife: np.ndarray) -> float:
    d = jackknife.mean() - jackknife
    den = float(np.sum(d**2))
    if den <= 0.0:
        return 0.0
    return float(np.sum(d**3)) / (6.0 * den**1.5)


def bca_levels(
    theta_b: np.ndarray, theta_hat: float, jackknife: np.ndarray, confidence: float
) -> tuple[float, float]:
    z0 = bias_correction(theta_b, theta_hat)
    a = acceleration(jackknife)
    alpha = (1.0 - confidence) / 2.0
    levels = []
    for z_alpha in (float(ndtri(alpha)), -float(ndtri(alpha))):
        num = z0 + z_alpha
        levels.append(float(ndtr(z0 + num / (1.0 - a * num))))
    return levels[0], levels[1]


def endpoints(theta_b: np.ndarray, levels: tuple[float, float]) -> tuple[float, float]:
    low, high = np.quantile(theta_b, levels)
    return float(low), float(high)


def p_value_percentile(diff_b: np.ndarray, alternative: str = "two-sided") -> float:
    """p-value of H0: difference = 0, inverting the percentile interval.

    Two-sided: ``p = 2 min(#{d* <= 0} + 1, #{d* >= 0} + 1) / (B + 1)``, capped at 1: the smallest
    ``alpha`` whose (1 - alpha) percentile interval excludes 0 (with the usual +1 so p > 0). Under H0
    the bootstrap distribution sits around an estimate that is itself centred on 0, so
    ``P*(d* <= 0)`` is (asymptotically) uniform and the test has its nominal size.
    One-sided: ``"greater"`` (H1: difference > 0) ``p = (#{d* <= 0} + 1) / (B + 1)``, ``"less"``
    ``p = (#{d* >= 0} + 1) / (B + 1)``: the level of the one-sided interval whose bound is 0.
    """
    b = diff_b.shape[0]
    le = np.count_nonzero(diff_b <= 0)
    ge = np.count_nonzero(diff_b >= 0)
    if alternative == "greater":
        return float(min(1.0, (le + 1) / (b + 1)))
    if alternative == "less":
        return float(min(1.0, (ge + 1) / (b + 1)))
    return float(min(1.0, 2.0 * (min(le, ge) + 1) / (b + 1)))


def p_value_bca(
    diff_b: np.ndarray, diff_hat: float, jackknife: np.ndarray, alternative: str = "two-sided"
) -> float:
    """p-value inverting the BCa interval: the ``alpha`` at which an endpoint is 0.

    With ``G(0) = P*(d* < 0)`` (ties count one half), ``v = Phi^-1(G(0)) - z0``,
    ``w = v / (1 + a v)`` and ``z = w - z0``: two-sided ``p = 2 min(Phi(z), 1 - Phi(z))``, at
    least ``2 / (B + 1)``; one-sided ``"greater"`` (H1: difference > 0) ``p = Phi(z)``, ``"less"``
    ``p = 1 - Phi(z)``, at least ``1 / (B + 1)``. With ``z0 = a = 0`` these are the percentile
    p-values.
    """
    b = diff_b.shape[0]
    z0 = bias_correction(diff_b, diff_hat)
    a = acceleration(jackknife)
    g0 = (np.count_nonzero(diff_b < 0) + 0.5 * np.count_nonzero(diff_b == 0) + 0.5) / (b + 1)
    v = float(ndtri(g0)) - z0
    sides = 1.0 if alternative in ("greater", "less") else 2.0
    floor = sides / (b + 1)
    if 1.0 + a * v <= 0.0:  # 0 lies beyond every BCa endpoint
        if alternative == "two-sided" or (alternative == "greater") == (v < 0.0):
            return floor  # v < 0: the resamples lie above 0 (evidence for "greater")
        return 1.0
    z = v / (1.0 + a * v) - z0
    if alternative == "greater":
        return float(min(1.0, max(floor, ndtr(z))))
    if alternative == "less":
        return float(min(1.0, max(floor, ndtr(-z))))
    return float(min(1.0, max(floor, 2.0 * min(ndtr(z), ndtr(-z)))))
