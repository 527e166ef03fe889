"""Convex weights on out-of-fold predictions: exact recovery and a brute-force check."""

from __future__ import annotations

import numpy as np
import pytest

from mlflow_steward.ensemble import simplex_weights
from mlflow_steward.ensemble._losses import MSG_UNKNOWN_LOSS


def test_recovers_an_exact_mixture_and_drops_a_useless_member():
    rng = np.random.default_rng(0)
    a, b, noise = rng.normal(size=(3, 500))
    y = 0.3 * a + 0.7 * b
    weights = simplex_weights(np.stack([a, b, noise * 5]), y)
    np.testing.assert_allclose(weights, [0.3, 0.7, 0.0], atol=1e-4)


def test_matches_brute_force_on_two_members():
    rng = np.random.default_rng(1)
    y = rng.normal(size=400)
    a = y + rng.normal(scale=1.0, size=400)
    b = y + rng.normal(scale=0.5, size=400) + 0.2
    grid = np.linspace(0, 1, 100_001)
    losses = [np.mean((w * a + (1 - w) * b - y) ** 2) for w in grid[::100]]
    coarse = grid[::100][int(np.argmin(losses))]
    fine = grid[(grid >= coarse - 0.002) & (grid <= coarse + 0.002)]
    best = fine[int(np.argmin([np.mean((w * a + (1 - w) * b - y) ** 2) for w in fine]))]
    weights = simplex_weights(np.stack([a, b]), y)
    assert weights[0] == pytest.approx(best, abs=1e-4)
    assert weights.sum() == pytest.approx(1.0)


def test_log_loss_matches_brute_force():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=300)
    p1 = np.clip(0.5 + (2 * y - 1) * rng.uniform(0, 0.45, 300), 0.01, 0.99)  # mostly right
    p2 = rng.uniform(0.05, 0.95, 300)  # noise
    proba = np.stack([np.column_stack([1 - p, p]) for p in (p1, p2)])
    grid = np.linspace(0, 1, 20_001)
    picked1, picked2 = np.where(y == 1, p1, 1 - p1), np.where(y == 1, p2, 1 - p2)
    losses = [-np.mean(np.log(w * picked1 + (1 - w) * picked2)) for w in grid]
    weights = simplex_weights(proba, y, loss="log_loss")
    assert weights[0] == pytest.approx(grid[int(np.argmin(losses))], abs=2e-4)


def test_single_member_and_unknown_loss():
    np.testing.assert_array_equal(simplex_weights(np.ones((1, 4)), np.ones(4)), [1.0])
    with pytest.raises(ValueError) as info:
        simplex_weights(np.ones((2, 4)), np.ones(4), loss="hinge")
    assert str(info.value) == MSG_UNKNOWN_LOSS.format(valid="squared_error, log_loss", loss="hinge")


def test_weights_do_not_depend_on_the_targets_unit():
    """House prices: squared errors ~1e9 must not stop the solver at its start (equal weights)."""
    rng = np.random.default_rng(0)
    y = rng.normal(2e5, 1e5, 5000)
    preds = np.stack([y + rng.normal(0, s, 5000) for s in (45e3, 58e3, 59e3)])
    in_dollars = simplex_weights(preds, y)
    in_units = simplex_weights(preds / 1e5, y / 1e5)
    np.testing.assert_allclose(in_dollars, in_units, atol=1e-6)
    assert in_dollars[0] > 0.4
