"""paired_bootstrap: same resamples for both models, a valid two-sided p-value."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mlflow_steward.stats import PairedResult, bootstrap_interval, paired_bootstrap


def _models(n, sd_a, sd_b, rng):
    y = rng.normal(size=n)
    return y, y + rng.normal(0, sd_a, n), y + rng.normal(0, sd_b, n)


def test_difference_matches_scipy_paired_bootstrap():
    rng = np.random.default_rng(0)
    y, a, b = _models(1500, 1.0, 1.1, rng)

    def diff(y, a, b, axis=-1):
        return np.sqrt(np.mean((y - a) ** 2, axis=axis)) - np.sqrt(np.mean((y - b) ** 2, axis=axis))

    for method in ("percentile", "bca"):
        ours = paired_bootstrap("rmse", y, a, b, method=method, random_state=1)
        theirs = stats.bootstrap(
            (y, a, b), diff, paired=True, method=method, n_resamples=9999, rng=2
        ).confidence_interval
        width = theirs.high - theirs.low
        assert abs(ours.difference.low - theirs.low) < 0.05 * width
        assert abs(ours.difference.high - theirs.high) < 0.05 * width
        assert ours.difference.estimate == pytest.approx(diff(y, a, b))


def test_pairing_narrows_the_interval():
    """Shared errors cancel in a paired difference; unpaired intervals would be far wider."""
    rng = np.random.default_rng(1)
    y = rng.normal(size=2000)
    shared = rng.normal(0, 1, 2000)
    a = y + shared + rng.normal(0, 0.1, 2000)
    b = y + shared + rng.normal(0, 0.1, 2000)
    res = paired_bootstrap("mae", y, a, b, n_resamples=2000, random_state=0)
    single = bootstrap_interval("mae", y, a, n_resamples=2000, random_state=0)
    assert res.difference.width < single.width / 3
    assert res.estimate_a == pytest.approx(single.estimate)


def test_detects_a_known_difference():
    rng = np.random.default_rng(2)
    for rep in range(30):
        y, a, b = _models(800, 1.0, 1.25, rng)
        res = paired_bootstrap("rmse", y, a, b, n_resamples=999, random_state=rep)
        assert res.p_value < 0.01 and res.difference.high < 0


@pytest.mark.parametrize(
    ("metric", "method"), [("rmse", "percentile"), ("rmse", "bca"), ("accuracy", "percentile")]
)
def test_null_rejection_rate_is_nominal(metric, method):
    """Two exchangeable models (no true difference): p < 0.05 in at most 10% of 200 data sets
    (expected 5%; the binomial sd is 1.5%), and at least once (the test is not vacuous)."""
    rng = np.random.default_rng(3)
    rejections = 0
    for rep in range(200):
        y, a, b = _models(300, 1.0, 1.0, rng)
        if metric == "accuracy":
            y, a, b = (y > 0).astype(int), (a > 0).astype(int), (b > 0).astype(int)
        res = paired_bootstrap(metric, y, a, b, n_resamples=499, method=method, random_state=rep)
        rejections += res.p_value < 0.05
    assert 1 <= rejections <= 20


def test_p_value_agrees_with_the_interval():
    """p < 1 - confidence exactly when 0 lies outside the difference interval."""
    rng = np.random.default_rng(4)
    for rep in range(40):
        y, a, b = _models(400, 1.0, 1.0 + 0.02 * rep, rng)
        for method in ("percentile", "bca"):
            res = paired_bootstrap("mae", y, a, b, n_resamples=999, method=method, random_state=rep)
            outside = not res.difference.contains(0.0)
            if abs(res.p_value - 0.05) > 0.005:  # away from the boundary, where +1 corrections act
                assert (res.p_value < 0.05) == outside, (rep, method, res)


def test_identical_models_have_p_one():
    rng = np.random.default_rng(5)
    y, a, _ = _models(500, 1.0, 1.0, rng)
    res = paired_bootstrap("rmse", y, a, a.copy(), n_resamples=500, random_state=0)
    assert isinstance(res, PairedResult)
    assert res.p_value == 1.0
    assert res.difference.low == res.difference.high == res.difference.estimate == 0.0


def test_paired_callable_and_auc_use_the_same_rows():
    rng = np.random.default_rng(6)
    y = (rng.random(1200) < 0.4).astype(int)
    a = y * 0.6 + rng.random(1200)
    b = y * 0.3 + rng.random(1200)
    res = paired_bootstrap("roc_auc", y, a, b, n_resamples=999, random_state=0, strata=y)
    assert res.difference.low > 0 and res.p_value < 0.01

    def mean_abs(y_true, y_pred):
        return float(np.mean(np.abs(y_true - y_pred)))

    calls = paired_bootstrap(mean_abs, y, a, a, n_resamples=50, random_state=0)
    assert calls.p_value == 1.0  # the same rows for both: every difference is exactly 0


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_one_sided_null_rejection_rate_is_nominal_and_directional(method):
    """H0 true (exchangeable models): the one-sided p < 0.05 in about 5% of 200 data sets, for either
    direction. H1 true (a clearly worse): "greater" rejects every time, "less" never."""
    rng = np.random.default_rng(7)
    rejections = {"greater": 0, "less": 0}
    for rep in range(200):
        y, a, b = _models(300, 1.0, 1.0, rng)
        for alternative in rejections:
            res = paired_bootstrap("rmse", y, a, b, n_resamples=499, method=method, random_state=rep,
                                   alternative=alternative)
            rejections[alternative] += res.p_value < 0.05
    assert all(1 <= count <= 20 for count in rejections.values()), rejections
    for rep in range(10):
        y, a, b = _models(800, 1.3, 1.0, rng)  # a's RMSE is 30% higher
        greater = paired_bootstrap("rmse", y, a, b, n_resamples=499, method=method, random_state=rep,
                                   alternative="greater")
        less = paired_bootstrap("rmse", y, a, b, n_resamples=499, method=method, random_state=rep,
                                alternative="less")
        assert greater.p_value < 0.01 < 0.99 < less.p_value
        assert greater.alternative == "greater" and greater.difference == less.difference


def test_one_sided_percentile_p_values_count_the_resamples():
    """Percentile: p(greater) = (#{d* <= 0} + 1) / (B + 1), p(less) likewise, and the two-sided p is
    twice the smaller one (capped at 1), on the very same resamples."""
    rng = np.random.default_rng(8)
    for rep in range(20):
        y, a, b = _models(200, 1.0, 1.0 + 0.01 * rep, rng)
        p = {alt: paired_bootstrap("mae", y, a, b, n_resamples=999, random_state=rep, alternative=alt).p_value
             for alt in ("two-sided", "greater", "less")}
        assert p["two-sided"] == pytest.approx(min(1.0, 2 * min(p["greater"], p["less"])))
        assert p["greater"] + p["less"] >= 1.0  # ties at 0 count on both sides (+1 each)


def test_unknown_alternative_is_refused():
    from mlflow_steward.stats import StatsInputError

    y, a, b = _models(50, 1.0, 1.0, np.random.default_rng(9))
    with pytest.raises(StatsInputError, match="alternative must be one of"):
        paired_bootstrap("rmse", y, a, b, alternative="bigger")
