"""Which checks alarm: significant after the correction across all of them, AND a large enough effect.

Significance alone alarms on any wobble in a big window; an effect threshold alone alarms on noise
in a small one. A check alarms only when its p-value, adjusted across every tested check of the
window (Holm: the chance of any false alarm stays below ``level``; or Benjamini-Hochberg), is at
most ``level`` and its score reaches the check's minimum effect.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mlflow_steward.monitoring._config import DriftConfig
from mlflow_steward.monitoring._result import DRIFT, OK, CheckOutcome

#: Checks whose score is a signed change: either direction counts (the others count upward only).
TWO_SIDED = frozenset({"mean_shift", "std_shift"})


def large_enough(outcome: CheckOutcome, minimum: float) -> bool:
    """Whether the score reaches the check's minimum effect."""
    if outcome.score is None:
        return False
    score = abs(outcome.score) if outcome.check in TWO_SIDED else outcome.score
    return score >= minimum


def adjust(p_values: np.ndarray, correction: str) -> np.ndarray:
    from mlflow_steward.stats import benjamini_hochberg, holm

    if p_values.shape[0] == 0:
        return p_values
    return holm(p_values) if correction == "holm" else benjamini_hochberg(p_values)


def decide(outcomes: list[CheckOutcome], config: DriftConfig) -> list[CheckOutcome]:
    """The outcomes with ``p_adjusted`` filled in and ``status`` drift or ok for every tested check."""
    tested = [i for i, o in enumerate(outcomes) if o.p_value is not None]
    adjusted = adjust(np.array([outcomes[i].p_value for i in tested], dtype="float64"), config.correction)
    out = list(outcomes)
    for i, p in zip(tested, adjusted.tolist()):
        o = outcomes[i]
        alarm = p <= config.level and large_enough(o, config.min_effect.of(o.check))
        out[i] = replace(o, p_adjusted=float(p), status=DRIFT if alarm else OK)
    return out
