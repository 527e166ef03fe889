"""holm and benjamini_hochberg against hand computations and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mlflow_steward.stats import benjamini_hochberg, holm

P = np.array([0.01, 0.04, 0.03, 0.005, 0.20])


def test_holm_by_hand():
    # sorted: 0.005 (x5) 0.01 (x4) 0.03 (x3) 0.04 (x2) 0.20 (x1), then running max, cap 1
    by_hand = {0.005: 0.025, 0.01: 0.04, 0.03: 0.09, 0.04: 0.09, 0.20: 0.20}
    np.testing.assert_allclose(holm(P), [by_hand[p] for p in P])


def test_holm_caps_at_one_and_keeps_order():
    np.testing.assert_allclose(holm([0.6, 0.3]), [0.6, 0.6])
    np.testing.assert_allclose(holm([0.9, 0.8, 0.7]), [1.0, 1.0, 1.0])


def test_benjamini_hochberg_by_hand():
    # sorted p * m / rank: 0.025, 0.025, 0.05, 0.05, 0.20; then running min from the top
    by_hand = {0.005: 0.025, 0.01: 0.025, 0.03: 0.05, 0.04: 0.05, 0.20: 0.20}
    np.testing.assert_allclose(benjamini_hochberg(P), [by_hand[p] for p in P])


def test_benjamini_hochberg_matches_scipy():
    p = np.random.default_rng(0).uniform(0, 0.2, 50) ** 2
    np.testing.assert_allclose(
        benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"), rtol=1e-12
    )


@pytest.mark.parametrize("adjust", [holm, benjamini_hochberg])
def test_empty_and_single(adjust):
    assert adjust([]).shape == (0,)
    np.testing.assert_allclose(adjust([0.3]), [0.3])
