"""Simulation: windows drawn from the training distribution itself rarely alarm (at most the level,
1%, for the whole check of ten columns), at 100 to 100,000 rows; real changes are found.

The false-alarm runs use no minimum effects: significance alone must hold the level (Holm across
~46 checks), and minimum effects can only remove alarms. The observed count must stay within the
binomial bound of a 1% rate (99.9% quantile), so the test fails by chance less than once in 1,000.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mlflow_steward.monitoring import DriftConfig

LEVEL = 0.01
N_REFERENCE = 20_000


def _bound(reps: int) -> int:
    return int(stats.binom.ppf(0.999, reps, LEVEL))


@pytest.mark.parametrize("n", [100, 1_000, 10_000, 100_000])
def test_no_more_false_alarms_than_the_level(sim, n):
    config = DriftConfig(level=LEVEL, min_effect=sim.NO_MIN_EFFECT, n_resamples=0)
    result = sim.simulate(sim.columns(), n_reference=N_REFERENCE, n=n, reps=150, config=config, seed=n)
    assert result.alarms <= _bound(result.reps), result.by_check


@pytest.mark.e2e
@pytest.mark.parametrize("n", [100, 1_000, 10_000, 100_000])
def test_no_more_false_alarms_than_the_level_many_repetitions(sim, n):
    config = DriftConfig(level=LEVEL, min_effect=sim.NO_MIN_EFFECT, n_resamples=0)
    result = sim.simulate(sim.columns(), n_reference=N_REFERENCE, n=n, reps=1000, config=config, seed=10 + n)
    print(f"n={n}: {result.alarms}/{result.reps} repetitions with an alarm; {result.by_check}")
    assert result.alarms <= _bound(result.reps), result.by_check
    assert result.alarms / result.reps <= 0.02


@pytest.mark.e2e
def test_default_minimum_effects_alarm_even_less(sim):
    """With the default minimum effects the rate of any alarm is far below the level."""
    result = sim.simulate(sim.columns(), n_reference=N_REFERENCE, n=100_000, reps=300,
                          config=DriftConfig(n_resamples=0), seed=7)  # fmt: skip
    assert result.alarms <= 2, result.by_check


def _shift(name: str, delta: float):
    def alter(columns):
        levels, probs = columns[name]
        columns[name] = (levels + delta, probs)
        return columns

    return alter


def _ten_normal_columns(sim):
    levels, probs = sim.grid(stats.norm(), -6, 6)
    return {f"x{i}": (levels, probs) for i in range(10)}


def test_finds_a_small_mean_shift_in_one_of_ten_columns(sim):
    """0.2 std in one of ten columns at n = 5,000: found (power >= 90%) and no other column named."""
    result = sim.simulate(_ten_normal_columns(sim), n_reference=N_REFERENCE, n=5_000, reps=40,
                          config=DriftConfig(n_resamples=0), seed=1, alter=_shift("x3", 0.2))  # fmt: skip
    found = result.by_check.get(("x3", "mean_shift"), 0)
    assert found / result.reps >= 0.9
    assert {column for column, _ in result.by_check} == {"x3"}


def test_finds_missing_rate_rising_from_1_to_5_percent(sim):
    levels, probs = sim.grid(stats.norm(), -6, 6)
    columns = {"x": (np.append(levels, np.nan), np.append(probs * 0.99, 0.01))}

    def alter(cols):
        cols["x"] = (cols["x"][0], np.append(probs * 0.95, 0.05))
        return cols

    result = sim.simulate(columns, n_reference=N_REFERENCE, n=2_000, reps=60, config=DriftConfig(n_resamples=0),
                          seed=2, alter=alter)  # fmt: skip
    assert result.by_check.get(("x", "missing"), 0) / result.reps >= 0.9


def test_finds_a_new_category_at_one_percent(sim):
    names = np.array(list("abcde"), dtype=object)
    probs = np.array([0.4, 0.3, 0.2, 0.07, 0.03])
    columns = {"c": (names, probs)}

    def alter(cols):
        cols["c"] = (np.append(names, "new"), np.append(probs * 0.99, 0.01))
        return cols

    result = sim.simulate(columns, n_reference=N_REFERENCE, n=1_000, reps=60, config=DriftConfig(n_resamples=0),
                          seed=3, alter=alter)  # fmt: skip
    assert result.by_check.get(("c", "new_category"), 0) / result.reps >= 0.9


def test_a_tiny_shift_in_a_huge_window_does_not_alarm(sim):
    """0.01 std with 1,000,000 training and window rows is highly significant (z about 7), but below the
    minimum effect (0.1 std): no alarm."""
    columns = _ten_normal_columns(sim)
    kwargs = dict(n_reference=1_000_000, n=1_000_000, alter=_shift("x0", 0.01))
    significant = sim.simulate(columns, reps=5, seed=4, config=DriftConfig(n_resamples=0, min_effect=sim.NO_MIN_EFFECT),
                               **kwargs)  # fmt: skip
    assert significant.by_check.get(("x0", "mean_shift"), 0) == 5  # significant after Holm, every time
    result = sim.simulate(columns, reps=20, seed=5, config=DriftConfig(n_resamples=0), **kwargs)
    assert result.alarms == 0, result.by_check
