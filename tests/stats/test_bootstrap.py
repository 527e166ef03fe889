"""bootstrap_interval against scipy.stats.bootstrap (same method, same data), by simulation, and
its seeding/threading/stratification contracts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mlflow_steward.stats import Interval, bootstrap_interval

B = 9999
# Monte-Carlo error of a 2.5% quantile with 9,999 resamples is ~0.7% of a 95% interval's width
# (sqrt(.025 * .975 / B) / phi(1.96) / 3.92); two independent runs differ by ~1%. Endpoints
# are compared within 5% of the width (about 5 standard errors).
TOL = 0.05


def _rmse(r, axis=-1):
    return np.sqrt(np.mean(r**2, axis=axis))


def _r2(y, p, axis=-1):
    ss_res = np.sum((y - p) ** 2, axis=axis)
    ss_tot = np.sum((y - np.mean(y, axis=axis, keepdims=True)) ** 2, axis=axis)
    return 1 - ss_res / ss_tot


def _auc(y, s, axis=-1):
    ranks = stats.rankdata(s, axis=axis)
    n1 = np.sum(y, axis=axis)
    n0 = y.shape[axis] - n1
    return (np.sum(ranks * y, axis=axis) - n1 * (n1 + 1) / 2) / (n1 * n0)


def _close(ours: Interval, theirs, width_tol=TOL):
    width = theirs.high - theirs.low
    assert abs(ours.low - theirs.low) < width_tol * width, (ours, theirs)
    assert abs(ours.high - theirs.high) < width_tol * width, (ours, theirs)


def _regression(n, seed=0, heavy=False):
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 1, n)
    noise = rng.standard_t(3, n) if heavy else rng.normal(0, 1, n)
    return y, y + noise


@pytest.mark.parametrize("method", ["percentile", "BCa"])
@pytest.mark.parametrize("n", [300, 2000])  # plain resampling below 1,024 rows, Poisson above
def test_rmse_matches_scipy(method, n):
    y, p = _regression(n, seed=n, heavy=True)  # skewed squared errors: BCa differs from percentile
    ours = bootstrap_interval("rmse", y, p, method=method, n_resamples=B, random_state=1)
    theirs = stats.bootstrap((y - p,), _rmse, method=method, n_resamples=B, rng=2)
    _close(ours, theirs.confidence_interval)
    assert ours.estimate == pytest.approx(_rmse(y - p))
    assert ours.method == method.lower() and ours.confidence == 0.95


@pytest.mark.parametrize("method", ["percentile", "BCa"])
def test_r2_matches_scipy(method):
    y, p = _regression(1500, seed=3)
    ours = bootstrap_interval("r2", y, p, method=method, n_resamples=B, random_state=1)
    theirs = stats.bootstrap((y, p), _r2, paired=True, method=method, n_resamples=B, rng=2)
    _close(ours, theirs.confidence_interval)


@pytest.mark.parametrize("method", ["percentile", "BCa"])
def test_roc_auc_matches_scipy(method):
    rng = np.random.default_rng(4)
    y = (rng.random(1200) < 0.3).astype(float)
    s = np.round(0.4 * y + rng.random(1200), 2)  # ties
    ours = bootstrap_interval("roc_auc", y, s, method=method, n_resamples=B, random_state=1)
    theirs = stats.bootstrap(
        (y, s), _auc, paired=True, method=method, n_resamples=B, rng=2, batch=1000
    )
    _close(ours, theirs.confidence_interval)


@pytest.mark.parametrize("method", ["percentile", "BCa"])
def test_accuracy_matches_scipy(method):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 1000)
    pred = np.where(rng.random(1000) < 0.8, y, 1 - y)
    ours = bootstrap_interval("accuracy", y, pred, method=method, n_resamples=B, random_state=1)
    theirs = stats.bootstrap(
        ((y == pred).astype(float),), np.mean, method=method, n_resamples=B, rng=2
    )
    _close(ours, theirs.confidence_interval)


@pytest.mark.parametrize("method", ["percentile", "BCa"])
def test_callable_matches_scipy(method):
    y, p = _regression(400, seed=6, heavy=True)

    def median_abs(y_true, y_pred):
        return float(np.median(np.abs(y_true - y_pred)))

    ours = bootstrap_interval(median_abs, y, p, method=method, n_resamples=2000, random_state=1)
    theirs = stats.bootstrap((np.abs(y - p),), np.median, method=method, n_resamples=2000, rng=2)
    # the median's bootstrap distribution is lumpy: allow 10% of the width with 2,000 resamples
    _close(ours, theirs.confidence_interval, width_tol=0.10)


def test_same_seed_same_interval_whatever_the_threads():
    y, p = _regression(3000, seed=8)
    one = bootstrap_interval("rmse", y, p, n_resamples=2000, random_state=3, n_jobs=1)
    two = bootstrap_interval("rmse", y, p, n_resamples=2000, random_state=3, n_jobs=2)
    again = bootstrap_interval("rmse", y, p, n_resamples=2000, random_state=3)
    other = bootstrap_interval("rmse", y, p, n_resamples=2000, random_state=4)
    assert one == two == again
    assert other != one


def test_generator_and_seed_sequence_are_accepted():
    y, p = _regression(200, seed=9)
    a = bootstrap_interval("mae", y, p, n_resamples=200, random_state=np.random.default_rng(0))
    b = bootstrap_interval("mae", y, p, n_resamples=200, random_state=np.random.SeedSequence(0))
    assert a.low < a.estimate < a.high and b.low < b.estimate < b.high


@pytest.mark.parametrize("method", ["percentile", "bca"])
@pytest.mark.parametrize("n", [150, 1500])
def test_coverage_of_the_true_rmse(method, n):
    """200 data sets with a known true RMSE (errors N(0, 2): RMSE 2); the 95% interval must
    contain it in 90-99% of them (binomial sd of the rate: 1.5%)."""
    rng = np.random.default_rng(100 + n)
    hits = 0
    for rep in range(200):
        y = rng.normal(size=n)
        p = y + rng.normal(0, 2, n)
        iv = bootstrap_interval("rmse", y, p, method=method, n_resamples=499, random_state=rep)
        hits += iv.low <= 2.0 <= iv.high
    assert 0.90 <= hits / 200 <= 0.99


def test_stratified_resamples_keep_every_stratum_size():
    rng = np.random.default_rng(11)
    strata = np.repeat(["big", "mid", "tiny"], [500, 80, 3])
    rng.shuffle(strata)
    seen = []

    def record(y_true, y_pred):
        labels, counts = np.unique(y_true, return_counts=True)
        seen.append(dict(zip(labels.tolist(), counts.tolist())))
        return 0.0

    bootstrap_interval(record, strata, strata, n_resamples=300, random_state=0, strata=strata)
    assert len(seen) == 301  # the full data, then each resample
    assert all(s == {"big": 500, "mid": 80, "tiny": 3} for s in seen)


def test_stratified_weights_keep_every_stratum_size():
    from mlflow_steward.stats._resample import Workspace, weights_chunk

    sizes = np.array([3000, 40, 1500, 2])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    w = weights_chunk(np.random.default_rng(0), 50, starts, sizes, Workspace()).dense()
    assert w.shape == (sizes.sum(), 50)  # rows x resamples
    for start, m in zip(starts, sizes):
        assert np.all(w[start : start + m].sum(axis=0) == m)


def test_stratified_roc_auc_with_a_rare_class():
    """With 4 positives in 400 rows, 1.8% of plain resamples have no positive (AUC undefined);
    stratifying by the label keeps all 4 in every resample."""
    rng = np.random.default_rng(12)
    y = np.zeros(400, dtype=int)
    y[:4] = 1
    s = rng.random(400) + y * 0.5
    iv = bootstrap_interval("roc_auc", y, s, n_resamples=2000, random_state=0, strata=y)
    assert 0 <= iv.low <= iv.estimate <= iv.high <= 1


def test_one_million_rows_stays_bounded():
    """A decomposable metric on 10^6 rows runs in chunks: a few hundred resamples stay fast."""
    import tracemalloc

    y, p = _regression(1_000_000, seed=13)
    tracemalloc.start()
    iv = bootstrap_interval("rmse", y, p, method="bca", n_resamples=100, random_state=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert iv.low < iv.estimate < iv.high
    assert peak < 300e6  # inputs and per-row features are ~100 MB; resampling adds a bounded chunk


@pytest.mark.parametrize("metric", ["rmse", "accuracy", "roc_auc"])
def test_stratified_fast_paths_match_the_index_path(metric):
    """Named metrics resample counts (Poisson-completed, or cell multinomials); a callable
    resamples indices. With the same strata both are the same bootstrap: equal intervals
    within Monte-Carlo error."""
    rng = np.random.default_rng(14)
    n = 2500  # the largest stratum is above POISSON_MIN_ROWS, the others below
    group = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    if metric == "rmse":
        y = rng.normal(size=n)
        pred = y + rng.normal(0, 1, n) * np.where(group == "c", 3, 1)
    else:
        y = (rng.random(n) < 0.3).astype(int)
        score = 0.4 * y + rng.random(n)
        pred = (score > 0.6).astype(int) if metric == "accuracy" else score
    from mlflow_steward.stats import METRICS

    def as_callable(y_true, y_pred):
        return METRICS[metric].fn(y_true, y_pred)

    fast = bootstrap_interval(metric, y, pred, n_resamples=3000, random_state=0, strata=group)
    slow = bootstrap_interval(as_callable, y, pred, n_resamples=3000, random_state=1, strata=group)
    assert fast.estimate == pytest.approx(slow.estimate)
    _close(fast, slow, width_tol=0.08)  # 3,000 resamples each: ~1.8% sd per endpoint difference
