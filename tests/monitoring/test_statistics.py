"""The tests behind the checks, against scipy and against brute-force simulation (not against themselves)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mlflow_steward.monitoring import _statistics as st


@pytest.mark.parametrize(("k", "n", "m", "N"), [(5, 100, 10, 2000), (0, 50, 3, 400), (30, 200, 1, 20), (7, 7, 0, 10)])
def test_fisher_greater_matches_scipy(k, n, m, N):
    expected = stats.fisher_exact([[k, n - k], [m, N - m]], alternative="greater").pvalue
    assert st.fisher_greater(k, n, m, N) == pytest.approx(expected, rel=1e-9)


def test_chi_square_matches_scipy():
    rng = np.random.default_rng(0)
    for _ in range(20):
        cells = st.Cells(reference=rng.integers(5, 500, size=8), current=rng.integers(5, 80, size=8))
        statistic, df, p = st.chi_square(cells)
        expected = stats.chi2_contingency(np.vstack([cells.reference, cells.current]), correction=False)
        assert statistic == pytest.approx(expected.statistic, rel=1e-10)
        assert df == expected.dof
        assert p == pytest.approx(expected.pvalue, rel=1e-8)


@pytest.mark.parametrize(("k", "n"), [(0, 20), (3, 20), (50, 100), (100, 100), (1, 100_000)])
def test_wilson_matches_scipy(k, n):
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = st.wilson(k, n, stats.norm.ppf(0.975))
    assert float(low) == pytest.approx(expected.low, abs=1e-12)
    assert float(high) == pytest.approx(expected.high, abs=1e-12)


def test_no_skew_is_the_normal_two_sided_test():
    z = np.linspace(-6, 6, 25)
    assert np.allclose(st.skewed_two_sided(z, 0.0), 2 * stats.norm.sf(np.abs(z)))


def test_skew_only_widens_the_tails():
    z = np.linspace(-6, 6, 25)
    for skew in (-2.0, -0.3, 0.3, 2.0):
        assert np.all(st.skewed_two_sided(z, skew) >= 2 * stats.norm.sf(np.abs(z)) - 1e-15)


def test_mean_test_with_skew_holds_its_level_on_lognormal_means_of_100():
    """Means of 100 lognormal values are skewed: the plain z-test rejects far too often in the upper
    tail; ours (translated-gamma tails) stays near the level. Exact null moments, 100,000 repetitions."""
    rng = np.random.default_rng(0)
    n, N = 100, 20_000
    dist = stats.lognorm(1.0)
    mean, var, skew = dist.mean(), dist.var(), float(dist.stats(moments="s"))
    current = dist.rvs(size=(100_000, n), random_state=rng).mean(axis=1)
    reference = mean + np.sqrt(var / N) * rng.standard_normal(current.shape[0])
    se = np.sqrt(var * (1 / n + 1 / N))
    z = (current - reference) / se
    gamma = skew * var**1.5 * (1 / n**2 - 1 / N**2) / se**3
    ours = st.skewed_two_sided(z, gamma)
    plain = 2 * stats.norm.sf(np.abs(z))
    assert np.mean(plain < 1e-3) > 3e-3  # the naive test is 3x+ too liberal
    assert np.mean(ours < 1e-3) < 1.5e-3
    assert np.mean(ours < 1e-2) < 1.2e-2


def test_all_in_window_is_the_hypergeometric_probability():
    for t, n, N in [(1, 10, 90), (5, 100, 1000), (3, 3, 7), (10, 1000, 20_000)]:
        assert float(st.all_in_window(t, n, N)) == pytest.approx(stats.hypergeom.pmf(t, N + n, t, n), rel=1e-9)
    assert float(st.all_in_window(5, 4, 100)) == 0.0


@pytest.mark.parametrize(("N", "n"), [(20, 10), (50, 200), (5, 30)])
def test_out_of_range_p_matches_a_permutation_simulation(N, n):
    """P(K >= k) for K = window values outside the training [min, max], by brute force over random orders."""
    rng = np.random.default_rng(1)
    reps = 100_000
    ranks = rng.random((reps, N + n)).argsort(axis=1) < N  # True = training value, in sorted order
    first = ranks.argmax(axis=1)
    last = N + n - 1 - ranks[:, ::-1].argmax(axis=1)
    outside = first + (N + n - 1 - last)
    for k in range(0, 6):
        observed = np.mean(outside >= k)
        assert float(st.out_of_range_p(k, n, N)) == pytest.approx(observed, abs=4 * np.sqrt(observed * (1 - observed) / reps) + 1e-4)


def test_new_category_p_is_a_valid_bound_under_permutation():
    """Shuffle the pooled values of a long-tailed categorical between training and window: the
    p-value of the largest all-window category is below x at most a share x of the time."""
    rng = np.random.default_rng(2)
    pooled = rng.zipf(1.6, size=3000) % 400
    N, n = 2500, 500
    p_values = []
    for _ in range(2000):
        order = rng.permutation(pooled)
        reference, window = order[:N], order[N:]
        seen = np.unique(reference)
        values, counts = np.unique(window, return_counts=True)
        unseen = ~np.isin(values, seen)
        largest = int(counts[unseen].max()) if unseen.any() else 0
        ref_counts = np.array([np.sum(reference == v) for v in values[~unseen]])
        p_values.append(st.new_category_p(largest, int(counts[unseen].sum()), ref_counts + counts[~unseen], n, N))
    p_values = np.array(p_values)
    for x in (0.01, 0.05, 0.2):
        assert np.mean(p_values <= x) <= x + 3 * np.sqrt(x / len(p_values))


def test_psi_bias_is_the_mean_psi_of_two_samples_of_one_distribution():
    rng = np.random.default_rng(3)
    probs = np.full(20, 1 / 20)
    for N, n in [(20_000, 200), (20_000, 5_000)]:
        values = st.psi(rng.multinomial(N, probs, size=4000), rng.multinomial(n, probs, size=4000))
        assert values.mean() == pytest.approx(st.psi_bias(20, N, n), rel=0.1)


def test_merged_cells_expect_enough_values_and_keep_totals():
    reference = np.array([0, 500, 500, 500, 500, 3, 0])
    current = np.array([2, 10, 12, 9, 8, 0, 1])
    cells = st.merge_cells(reference, current, 5.0)
    assert cells.reference.sum() == reference.sum() and cells.current.sum() == current.sum()
    pooled = cells.reference + cells.current
    need = 5.0 * (reference.sum() + current.sum()) / current.sum()
    assert np.all(pooled >= need)
