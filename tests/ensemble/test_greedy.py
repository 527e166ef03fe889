"""Caruana's greedy selection with replacement, checked against a hand-worked example."""

from __future__ import annotations

import numpy as np
import pytest

from mlflow_steward.ensemble import greedy_selection
from mlflow_steward.ensemble._greedy import MSG_BAD_ITERATIONS, MSG_BAD_PREDICTIONS

# y = 0 everywhere; the loss of an average p is mean(p**2).
Y = np.zeros(3)
A = np.array([1.0, 1.0, 1.0])  # alone: 1
B = np.array([-3.0, -3.0, -3.0])  # alone: 9
C = np.array([2.0, -2.0, 0.0])  # alone: 8/3


def test_hand_worked_example():
    # step 1: a 1,        b 9,         c 8/3    -> a            (sum so far [1, 1, 1])
    # step 2: a+a 1,      a+b 1,       a+c 11/12 -> c            ([3, -1, 1])
    # step 3: +a 20/27,   +b 20/27,    +c 35/27 -> a (tie: first) ([4, 0, 2])
    # step 4: +a 35/48,   +b 11/48,    +c 44/48 -> b            ([1, -3, -1])
    # step 5: +a 8/75,    +b 56/75,    +c 35/75 -> a            ([2, -2, 0])
    # step 6: +a 11/108,  +b 35/108,   +c 32/108 -> a           ([3, -1, 1])
    # step 7: +a 20/147,  +b 20/147,   +c 35/147 -> a (tie), worse than step 6
    # kept: the first 6 picks (lowest loss 11/108): a x4, b x1, c x1
    result = greedy_selection(np.stack([A, B, C]), Y, n_iterations=7)
    assert result.picks == (0, 2, 0, 1, 0, 0, 0)
    np.testing.assert_allclose(result.losses, [1, 11 / 12, 20 / 27, 11 / 48, 8 / 75, 11 / 108, 20 / 147])
    assert result.n_kept == 6
    np.testing.assert_array_equal(result.counts, [4, 1, 1])
    np.testing.assert_allclose(result.weights, [4 / 6, 1 / 6, 1 / 6])
    assert result.loss == pytest.approx(11 / 108)


def test_fewer_iterations_keep_the_best_prefix():
    result = greedy_selection(np.stack([A, B, C]), Y, n_iterations=2)
    assert result.picks == (0, 2)
    np.testing.assert_allclose(result.weights, [0.5, 0.0, 0.5])


def test_log_loss_averages_probabilities():
    y = np.array([0, 1, 1, 0])
    sharp = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.9], [0.8, 0.2]])
    wrong = np.array([[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.2, 0.8]])
    flat = np.full((4, 2), 0.5)
    result = greedy_selection(np.stack([wrong, flat, sharp]), y, loss="log_loss", n_iterations=5)
    assert result.picks[0] == 2
    assert result.weights[0] == 0.0


@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_bad_iterations(value):
    with pytest.raises(ValueError) as info:
        greedy_selection(np.stack([A, B]), Y, n_iterations=value)
    assert str(info.value) == MSG_BAD_ITERATIONS.format(value=value)


def test_bad_prediction_shape():
    with pytest.raises(ValueError) as info:
        greedy_selection(np.stack([A, B])[:, :2], Y)
    assert str(info.value) == MSG_BAD_PREDICTIONS.format(n=3, shape=(2, 2))
