"""``SliceSpec``: which slices to measure and how to test them, shared by every sliced measurement.

The evaluation (``EvaluationConfig``) and the gate (``GateConfig``) take the same flat keys
(``slice_columns``, ``n_bins``, ``slice_queries``, ``crosses``, ``min_slice_size``, ``correction``,
``alpha``), with the same defaults and the same checks, all defined here: each config parses its
slice keys with :func:`parse_slice_field` (formatting the error its own way) and hands
``config.slices`` (a :class:`SliceSpec`) to :func:`~mlflow_steward.evaluation.slice_masks` and the
sliced-metric engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from mlflow_steward.exceptions import StewardInputError

CORRECTIONS: tuple[str, ...] = ("holm", "bh")

#: The keys a config shares with :class:`SliceSpec`, in order.
SLICE_FIELDS: tuple[str, ...] = (
    "slice_columns",
    "n_bins",
    "slice_queries",
    "crosses",
    "min_slice_size",
    "correction",
    "alpha",
)

#: What each key must be (the ``expected`` text of every error).
EXPECTED: dict[str, str] = {
    "slice_columns": "a list of column names",
    "n_bins": "an integer of at least 2",
    "slice_queries": "a dict of slice name -> query string",
    "crosses": "a list of [column, column] pairs",
    "min_slice_size": "an integer of at least 2",
    "correction": "'holm' or 'bh'",
    "alpha": "a number above 0 and below 1",
}

BAD_SLICE_FIELD = "slice spec {key!r} must be {expected}, got {value!r}"

#: ``error(key, value, expected) -> exception``: how a config words a bad slice key.
ErrorFactory = Callable[[str, Any, str], Exception]


def _default_error(key: str, value: Any, expected: str) -> Exception:
    return StewardInputError(BAD_SLICE_FIELD.format(key=key, expected=expected, value=value))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_slice_field(key: str, value: Any, *, error: ErrorFactory = _default_error) -> Any:
    """Check one slice key and return its normalised value (tuples for lists, a plain dict).

    Raises ``error(key, value, EXPECTED[key])``.
    """

    def bad() -> Exception:
        return error(key, value, EXPECTED[key])

    if key == "slice_columns":
        if value is None:
            return None
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise bad()
        if not all(isinstance(v, str) for v in value):
            raise bad()
        return tuple(value)
    if key in ("n_bins", "min_slice_size"):
        if not _is_int(value) or value < 2:
            raise bad()
        return value
    if key == "slice_queries":
        if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise bad()
        return dict(value)
    if key == "crosses":
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise bad()
        pairs = []
        for pair in value:
            if isinstance(pair, str) or not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise bad()
            if not all(isinstance(c, str) for c in pair):
                raise bad()
            pairs.append((pair[0], pair[1]))
        return tuple(pairs)
    if key == "correction":
        if value not in CORRECTIONS:
            raise bad()
        return value
    if key == "alpha":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or not 0.0 < value < 1.0:
            raise bad()
        return float(value)
    raise KeyError(key)


@dataclass(frozen=True)
class SliceSpec:
    """Which slices, and how slices are tested.

    Parameters
    ----------
    slice_columns : columns to slice on; ``None`` = every categorical feature column plus every
        numeric feature column in ``n_bins`` quantile bins; ``()`` = no column slices.
    n_bins : quantile bins per numeric slice column (a column with at most ``n_bins`` distinct
        values is sliced by value instead).
    slice_queries : user slices, name -> pandas query expression (``"median_income > 8"``).
    crosses : pairs of columns sliced jointly (every observed combination of their values/bins).
    min_slice_size : slices with fewer rows are shown (size, point value) but get no interval and
        no test.
    correction : multiple-testing correction across the tested slices, ``"holm"`` or ``"bh"``
        (Benjamini-Hochberg).
    alpha : significance level of a slice test, after correction.
    """

    slice_columns: tuple[str, ...] | None = None
    n_bins: int = 4
    slice_queries: Mapping[str, str] = field(default_factory=dict)
    crosses: tuple[tuple[str, str], ...] = ()
    min_slice_size: int = 30
    correction: str = "holm"
    alpha: float = 0.05

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, parse_slice_field(f.name, getattr(self, f.name)))

    @classmethod
    def of(cls, config: Any) -> SliceSpec:
        """The slice spec of a config that holds the slice keys (or a SliceSpec itself)."""
        if isinstance(config, SliceSpec):
            return config
        return cls(**{key: getattr(config, key) for key in SLICE_FIELDS})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (lists for tuples)."""
        return {
            "slice_columns": None if self.slice_columns is None else list(self.slice_columns),
            "n_bins": self.n_bins,
            "slice_queries": dict(self.slice_queries),
            "crosses": [list(pair) for pair in self.crosses],
            "min_slice_size": self.min_slice_size,
            "correction": self.correction,
            "alpha": self.alpha,
        }


#: The defaults, one place: the configs' slice fields default to these values.
DEFAULT_SLICES = SliceSpec()
