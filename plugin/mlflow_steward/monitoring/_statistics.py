"""The tests and intervals behind the drift checks (numpy/scipy only; two samples: reference and window).

Every test compares two finite samples, the training data (``N`` values) and the window (``n``), so
both sizes count. Each is valid at any window size or conservative:

* proportions (missing, new category): Fisher's exact one-sided test (hypergeometric tail);
* share outside the training range: exact under exchangeability (the rank argument below);
* vanished categories: exact per category, Bonferroni over the categories;
* mean: permutation-style z on the pooled moments; its tails widened to a translated gamma with the
  pooled skewness, because a mean of a few hundred skewed values is itself skewed;
* spread: a bin-based Ansari-Bradley-style test (bounded scores: distance from the median in
  reference quantiles), because a variance test is invalid on heavy tails at small n;
* distribution: Pearson's chi-square homogeneity test on the reference bins, cells merged until
  each expects ``min_expected`` values in both samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special


def fisher_greater(k: np.ndarray, n: np.ndarray, m: np.ndarray, N: np.ndarray) -> np.ndarray:
    """One-sided Fisher p: is ``k`` of ``n`` a higher share than ``m`` of ``N``?"""
    from scipy import stats  # scipy.stats takes seconds to import: only when a proportion is tested

    k, n, m, N = (np.asarray(a, dtype=np.int64) for a in (k, n, m, N))
    return np.clip(stats.hypergeom.sf(k - 1, N + n, k + m, n), 0.0, 1.0)


def wilson(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of the proportion ``k / n``."""
    k, n = np.asarray(k, dtype="float64"), np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = np.where(k <= 0, 0.0, np.clip(centre - half, 0, 1))
    high = np.where(k >= n, 1.0, np.clip(centre + half, 0, 1))
    return low, high


def newcombe(k1, n1, k2, n2, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval of ``k1/n1 - k2/n2``."""
    p1, p2 = np.asarray(k1) / np.asarray(n1), np.asarray(k2) / np.asarray(n2)
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    d = p1 - p2
    return d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def skewed_two_sided(z: np.ndarray, skew: np.ndarray) -> np.ndarray:
    """Two-sided p of a standardised statistic whose null distribution may be skewed.

    Each tail is the larger of the normal tail and the tail of a translated gamma with the same
    mean, variance and skewness (a good model of sums of skewed values), so a skewed null never makes
    the test liberal; with no skew it is the normal test.
    """
    z, skew = np.broadcast_arrays(np.atleast_1d(np.asarray(z, dtype="float64")), np.atleast_1d(np.asarray(skew, dtype="float64")))
    upper, lower = special.ndtr(-z), special.ndtr(z)
    skewed = np.abs(skew) > 1e-8
    if skewed.any():
        g = np.abs(skew[skewed])
        shape = 4.0 / (g * g)
        y = np.sign(skew[skewed]) * z[skewed]  # statistic oriented so the long tail is upward
        point = np.maximum(shape + y * np.sqrt(shape), 0.0)  # the gamma's support starts at 0
        long_tail = special.gammaincc(shape, point)
        short_tail = special.gammainc(shape, point)
        pos = skew[skewed] > 0
        u, lo = upper[skewed], lower[skewed]
        upper[skewed] = np.where(pos, np.maximum(u, long_tail), np.maximum(u, short_tail))
        lower[skewed] = np.where(pos, np.maximum(lo, short_tail), np.maximum(lo, long_tail))
    return np.minimum(1.0, 2.0 * np.minimum(upper, lower))


def all_in_window(t: np.ndarray, n: np.ndarray, N: np.ndarray) -> np.ndarray:
    """Probability that ``t`` given values of the ``N + n`` pooled ones all fall in the window of ``n``:
    ``C(n, t) / C(N + n, t) = prod_{i<t} (n - i) / (N + n - i)`` (0 when ``t > n``)."""
    t, n, N = (np.asarray(a, dtype="float64") for a in (t, n, N))
    ok = t <= n
    tt = np.where(ok, t, 0.0)
    log = special.gammaln(n + 1) - special.gammaln(n - tt + 1) - special.gammaln(N + n + 1) + special.gammaln(N + n - tt + 1)
    return np.where(ok, np.exp(log), 0.0)


def out_of_range_p(k: np.ndarray, n: np.ndarray, N: np.ndarray) -> np.ndarray:
    """P(at least ``k`` of ``n`` new values fall outside the [min, max] of ``N`` training values).

    Under exchangeability every order of the ``N + n`` values is equally likely, so the chance that
    ``j`` given window values all lie outside the training range (below its min or above its max,
    in any split) is ``g(j)`` = :func:`all_in_window` ``(j, n, N)``, and
    ``P(K >= k) = g(k) + k (g(k) - g(k + 1))``. Ties only make exceeding rarer (conservative).
    """
    k = np.asarray(k, dtype="float64")
    g_k, g_next = all_in_window(k, n, N), all_in_window(k + 1, n, N)
    p = g_k + k * (g_k - g_next)
    return np.where(k <= 0, 1.0, np.clip(p, 0.0, 1.0))


def new_category_p(largest: int, unseen_values: int, pooled_in_window: np.ndarray, n: int, N: int) -> float:
    """P-value of "a category absent from training has ``largest`` values in the window".

    Under exchangeability a category with ``t`` values in both samples together has all of them in
    the window with probability :func:`all_in_window`. Over every category that could reach
    ``largest`` (union bound): the kept categories seen in the window (``pooled_in_window``: their
    training + window counts) and at most ``unseen_values / largest`` unseen ones.
    """
    if largest <= 0:
        return 1.0
    t = np.asarray(pooled_in_window, dtype="float64")
    t = t[t >= largest]
    total = float(all_in_window(t, n, N).sum()) + unseen_values / largest * float(all_in_window(largest, n, N))
    return min(1.0, total)


def vanished_p(reference_counts: np.ndarray, current_counts: np.ndarray, N: int, n: int, others: int = 0) -> tuple[float, float]:
    """``(p, training share of the vanished categories)``. Per category seen ``r`` times in training
    and never in the window, the exact probability that all ``r`` pooled values fell in training;
    Bonferroni over every category of both samples (kept ones plus ``others`` seen only in the window)."""
    r = np.asarray(reference_counts, dtype=np.int64)
    c = np.asarray(current_counts, dtype=np.int64)
    seen = r > 0
    gone = seen & (c == 0)
    if N == 0 or n == 0 or not gone.any():
        return 1.0, 0.0
    p_each = all_in_window(r[gone], N, n)  # all in the training sample: the same formula, sides swapped
    return float(min(1.0, (seen.sum() + others) * p_each.min())), float(r[gone].sum() / N)


@dataclass(frozen=True)
class Cells:
    """Bins merged for the chi-square test: counts of the reference and of the window per cell."""

    reference: np.ndarray
    current: np.ndarray


def merge_cells(reference: np.ndarray, current: np.ndarray, min_expected: float, order: np.ndarray | None = None) -> Cells:
    """Merge neighbouring bins (in ``order``) until each cell expects ``min_expected`` values in both
    samples under the null (pooled share times each sample's size)."""
    r = np.asarray(reference, dtype=np.int64)
    c = np.asarray(current, dtype=np.int64)
    if order is not None:
        r, c = r[order], c[order]
    N, n = int(r.sum()), int(c.sum())
    if N == 0 or n == 0:
        return Cells(reference=r.sum(keepdims=True), current=c.sum(keepdims=True))
    need = min_expected * (N + n) / min(N, n)  # pooled count a cell needs
    starts, start, acc = [], 0, 0
    for i, t in enumerate((r + c).tolist()):
        acc += t
        if acc >= need:
            starts.append(start)
            start, acc = i + 1, 0
    index = np.asarray(starts or [0])  # a short remainder joins the last full cell
    return Cells(reference=np.add.reduceat(r, index), current=np.add.reduceat(c, index))


def chi_square(cells: Cells) -> tuple[float, int, float]:
    """Pearson's chi-square homogeneity test on a 2 x K table: ``(statistic, df, p)``."""
    table = np.vstack([cells.reference, cells.current]).astype("float64")
    if table.shape[1] < 2:
        return float("nan"), 0, float("nan")
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    df = table.shape[1] - 1
    return statistic, df, float(special.chdtrc(df, statistic))


PSEUDO_COUNT = 0.5


def psi(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Population stability index of count vectors (last axis = cells), with a pseudo-count per cell."""
    r = np.asarray(reference, dtype="float64") + PSEUDO_COUNT
    c = np.asarray(current, dtype="float64") + PSEUDO_COUNT
    q = r / r.sum(axis=-1, keepdims=True)
    p = c / c.sum(axis=-1, keepdims=True)
    return ((p - q) * np.log(p / q)).sum(axis=-1)


def psi_bias(k: int, N: int, n: int) -> float:
    """Expected PSI of two samples of one distribution over ``k`` cells: ``(k - 1)(1/n + 1/N)``."""
    return (k - 1) * (1.0 / n + 1.0 / N)


def corrected_psi(cells: Cells, *, confidence: float, n_resamples: int, rng: np.random.Generator) -> tuple[float, float, float]:
    """PSI minus its small-sample bias, and an interval from resampling both samples' cell counts.

    The resampled PSI is biased twice (once by the data, once by the resampling), so the interval
    is taken on ``PSI* - 2 bias``; all three numbers are clipped at 0.
    """
    N, n, k = int(cells.reference.sum()), int(cells.current.sum()), cells.reference.shape[0]
    bias = psi_bias(k, N, n)
    estimate = max(0.0, float(psi(cells.reference, cells.current)) - bias)
    if n_resamples <= 0:
        return estimate, estimate, estimate
    r_star = rng.multinomial(N, cells.reference / N, size=n_resamples)
    c_star = rng.multinomial(n, cells.current / n, size=n_resamples)
    values = psi(r_star, c_star) - 2 * bias
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return estimate, max(0.0, float(low)), max(0.0, float(high), estimate)


def scale_scores(reference_counts: np.ndarray) -> np.ndarray:
    """Score of each numeric bin: |mid-bin reference CDF - 1/2| (the open outer bins score 1/2)."""
    r = np.asarray(reference_counts, dtype="float64")
    N = r.sum()
    cumulative = np.cumsum(r) - r / 2
    scores = np.abs(cumulative / N - 0.5) if N else np.zeros_like(r)
    scores[0] = scores[-1] = 0.5
    return scores


def score_test(scores: np.ndarray, reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """``(z, p)`` of the difference of mean bin scores (window - reference), permutation-style:
    variance and skewness from both samples pooled; ``(nan, nan)`` when the scores cannot differ."""
    r = np.asarray(reference, dtype="float64")
    c = np.asarray(current, dtype="float64")
    N, n = r.sum(), c.sum()
    pooled = r + c
    total = N + n
    mean = (pooled * scores).sum() / total
    dev = scores - mean
    var = (pooled * dev**2).sum() / total
    if N == 0 or n == 0 or var <= 1e-15:
        return float("nan"), float("nan")
    third = (pooled * dev**3).sum() / total
    diff = (c * scores).sum() / n - (r * scores).sum() / N
    se = np.sqrt(var * (1 / n + 1 / N))
    skew = third * (1 / n**2 - 1 / N**2) / se**3
    z = diff / se
    return float(z), float(skewed_two_sided(z, skew)[0])


def mean_test(count_r: int, mean_r: float, count_c: int, mean_c: float, pooled_m2: float, pooled_m3: float) -> tuple[float, float]:
    """``(z, p)`` for a difference of means, on the moments of both samples pooled (``m2``, ``m3``
    are sums of powered deviations from the pooled mean)."""
    N, n = count_r, count_c
    total = N + n
    var = pooled_m2 / total
    if N == 0 or n == 0 or var <= 0:
        return float("nan"), float("nan")
    se = np.sqrt(var * (1 / n + 1 / N))
    third = pooled_m3 / total
    skew = third * (1 / n**2 - 1 / N**2) / se**3
    z = (mean_c - mean_r) / se
    return float(z), float(skewed_two_sided(z, skew)[0])
