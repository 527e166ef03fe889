"""``EnsembleConfig``: how :func:`~mlflow_steward.ensemble.build_and_compare` builds and compares.

``build_and_compare``, the ``steward ensemble`` options, the MLproject and the main job take their
defaults from these fields (one default per setting), and every value is checked on construction,
before any run is looked up or started.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from mlflow_steward.exceptions import StewardInputError, check_scalar, closest, unknown_key_error

from . import _messages as msg


def ensemble_methods() -> tuple[str, ...]:
    """The combiners (``mean``, ``weighted``, ``stacking``, ``greedy``), from the estimators module."""
    from ._estimators import METHODS

    return tuple(METHODS)


@dataclass(frozen=True)
class EnsembleConfig:
    """Parameters
    ----------
    method : "mean", "weighted", "stacking" or "greedy" (see :mod:`._estimators`).
    n_iterations : greedy selection steps.
    n_resamples, confidence, random_state : the test-set bootstrap of the comparison.
    """

    method: str = "greedy"
    n_iterations: int = 50
    n_resamples: int = 2000
    confidence: float = 0.95
    random_state: int = 0

    def __post_init__(self) -> None:
        methods = ensemble_methods()
        if self.method not in methods:
            match = closest(str(self.method), methods)
            hint = f"; did you mean {match!r}?" if match else ""
            raise StewardInputError(msg.BAD_METHOD.format(valid=", ".join(methods), method=self.method) + hint)
        check_scalar(self.n_iterations, "n_iterations (greedy selection steps)", int, minimum=1)
        check_scalar(self.n_resamples, "n_resamples", int, minimum=100)
        object.__setattr__(
            self, "confidence",
            check_scalar(self.confidence, "confidence", float, minimum=0, maximum=1,
                         include_minimum=False, include_maximum=False),
        )
        check_scalar(self.random_state, "random_state", int, minimum=0)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None, *, source: str = "the ensemble config") -> EnsembleConfig:
        """Parse a mapping; unknown keys are an error naming ``source`` and the closest key."""
        if values is None:
            return cls()
        if not isinstance(values, Mapping):
            raise StewardInputError(f"{source} must be a mapping of keys to values, got {type(values).__name__}")
        known = [f.name for f in fields(cls)]
        for key in values:
            if key not in known:
                raise unknown_key_error(key, known, where=source)
        return cls(**dict(values))
