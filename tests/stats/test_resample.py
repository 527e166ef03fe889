"""The resampler draws exact multinomial counts (checked by simulation, not by itself)."""

from __future__ import annotations

import itertools

import numpy as np
from scipy import stats

from mlflow_steward.stats._resample import (
    POISSON_MIN_ROWS,
    Workspace,
    _poisson_table,
    chunk_plan,
    weights_chunk,
)


def test_poisson_table_is_exact():
    """The byte table, the 16-bit table and the float tail together reproduce the Poisson pmf."""
    m = 4000
    lam = 1 - 3.0 / np.sqrt(m)
    table = _poisson_table(m)
    size = table.third_cdf.size
    pmf = stats.poisson.pmf(np.arange(size), lam)
    slots = np.zeros(size)
    first = np.diff(np.concatenate([[0], table.thresholds.astype(int)]))
    slots[: first.size] = first
    leftover = 1 - slots.sum() / 256
    second = np.bincount(table.second[table.second != 255], minlength=size) / 65536
    leftover2 = np.count_nonzero(table.second == 255) / 65536
    third = np.diff(np.concatenate([[0], table.third_cdf]))
    rebuilt = slots / 256 + leftover * (second + leftover2 * third)
    np.testing.assert_allclose(rebuilt, pmf, rtol=1e-12, atol=1e-16)  # float64 rounding


def _counts(n, n_resamples, seed=0):
    return weights_chunk(
        np.random.default_rng(seed), n_resamples, np.array([0]), np.array([n]), Workspace()
    ).dense()


def test_counts_are_multinomial():
    """Each resample sums to n, and the counts of a row are Binomial(n, 1/n)."""
    n = 1500
    assert n >= POISSON_MIN_ROWS
    w = _counts(n, 3000)  # rows x resamples
    assert np.all(w.sum(axis=0) == n)
    observed = np.bincount(w.astype(int).ravel(), minlength=6)[:6].astype(float)
    observed[5] = w.size - observed[:5].sum()  # 5 or more
    expected = stats.binom.pmf(np.arange(5), n, 1 / n) * w.size
    expected = np.append(expected, w.size - expected.sum())
    assert stats.chisquare(observed, expected).pvalue > 1e-4


def test_resample_means_have_the_bootstrap_variance():
    """Var of a resampled mean is (1/n) * the population variance of the data (multinomial)."""
    n = 2000
    rng = np.random.default_rng(1)
    z = rng.exponential(size=n)
    means = z @ _counts(n, 4000, seed=2) / n
    expected = z.var() / n
    # variance of a sample variance from 4,000 near-normal draws: relative sd ~ sqrt(2/4000)
    assert abs(means.var() / expected - 1) < 4 * np.sqrt(2 / 4000)
    assert abs(means.mean() - z.mean()) < 4 * np.sqrt(expected / 4000)


def test_chunks_cover_every_resample_once():
    plan = chunk_plan(9999, 4000)
    assert plan[0][0] == 0 and plan[-1][1] == 9999
    assert all(a[1] == b[0] for a, b in itertools.pairwise(plan))
    assert chunk_plan(10, 10**9) == [(i, i + 1) for i in range(10)]
