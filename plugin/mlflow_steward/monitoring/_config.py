"""``ProfileConfig`` and ``DriftConfig``: how profiles are built and when a check alarms, parsed once.

A check alarms only when its change is significant after the correction across every column and
check (``level``, ``correction``) AND at least the minimum effect of that check (``min_effect``):
so a huge window does not alarm on a wobble nobody cares about, and a small one not on noise.
Unknown keys are errors that name the key and the closest valid one.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlflow_steward.exceptions import StewardInputError

CHECKS: tuple[str, ...] = (
    "missing", "mean_shift", "std_shift", "out_of_range", "new_category", "vanished_category", "distribution",
)  # fmt: skip
CORRECTIONS: tuple[str, ...] = ("holm", "bh")

NOT_MAPPING = "{where} must be a JSON object (dict), got {got}"
UNKNOWN_KEY = "{where}: unknown key {key!r}{hint}; valid keys: {valid}"
WRONG_TYPE = "{where}[{key!r}] must be {expected}, got {got!r}"
BAD_JSON = "{what}: cannot read {text!r} as JSON (or as a JSON file): {error}"


def _hint(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(where: str, data: Any, valid: list[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise StewardInputError(NOT_MAPPING.format(where=where, got=type(data).__name__))
    for key in data:
        if key not in valid:
            raise StewardInputError(UNKNOWN_KEY.format(where=where, key=key, hint=_hint(key, valid), valid=", ".join(valid)))
    return data


def _number(where: str, key: str, value: Any, *, low: float, high: float = math.inf, integer: bool = False) -> Any:
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or not (math.isfinite(value) and low <= value <= high):
        expected = f"{'an integer' if integer else 'a number'} in [{low}, {high}]"
        raise StewardInputError(WRONG_TYPE.format(where=where, key=key, expected=expected, got=value))
    return value



def read_json_config(text: str | None, what: str) -> Any:
    """The JSON of an option given as text or as the path of a JSON file; None when empty.
    ``what`` names the option in the error ("drift config")."""
    if text is None or not str(text).strip():
        return None
    source = str(text)
    if not source.lstrip().startswith("{") and Path(source).is_file():
        source = Path(source).read_text()
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise StewardInputError(BAD_JSON.format(what=what, text=str(text)[:80], error=exc)) from None

@dataclass(frozen=True)
class ProfileConfig:
    """How a reference profile is built.

    n_bins : quantile bins of each numeric column (fewer when values repeat), plus one open bin
        below the training minimum and one above the training maximum.
    max_categories : categories kept per categorical column (the most frequent); the rest share
        one "other" count. Keep every category of the features (the default covers real ones):
        only then can a new category be told apart from a rare one.
    """

    n_bins: int = 20
    max_categories: int = 1000

    def __post_init__(self) -> None:
        _number("profile config", "n_bins", self.n_bins, low=2, high=1000, integer=True)
        _number("profile config", "max_categories", self.max_categories, low=1, high=100_000, integer=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ProfileConfig:
        if data is None:
            return cls()
        valid = [f.name for f in dataclasses.fields(cls)]
        return cls(**_check_keys("profile config", data, valid))


@dataclass(frozen=True)
class MinEffects:
    """The smallest change of each check that may alarm (the score's own unit).

    missing : increase of the missing share (0.01 = one point).
    mean_shift : |mean change| in reference standard deviations.
    std_shift : |current std / reference std - 1|.
    out_of_range : share of values outside the training [min, max].
    new_category : share of values in categories training never saw (beyond training's own rate
        of one-off categories).
    vanished_category : training share of the categories absent from the window.
    distribution : population stability index on the reference bins, corrected for the bias of
        small windows.
    """

    missing: float = 0.01
    mean_shift: float = 0.1
    std_shift: float = 0.1
    out_of_range: float = 0.01
    new_category: float = 0.005
    vanished_category: float = 0.02
    distribution: float = 0.1

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _number("drift config min_effect", f.name, getattr(self, f.name), low=0.0)

    def of(self, check: str) -> float:
        return float(getattr(self, check))


@dataclass(frozen=True)
class DriftConfig:
    """When a drift check alarms, and how it computes.

    level : significance level of the whole check: the probability that a window drawn from the
        training distribution raises any alarm is at most ``level`` (with ``holm``).
    correction : ``"holm"`` (family-wise error, the default) or ``"bh"`` (false discovery rate)
        across every column and check.
    min_effect : :class:`MinEffects` (or a dict of some of its fields).
    confidence : level of every reported interval.
    n_resamples : resamples of the bin counts for the distribution score's interval.
    min_expected : cells of the distribution test are merged until each expects this many values.
    columns : check only these columns (default: every column of the reference); ``exclude``: skip these.
    predictions : also check the model's outputs (prediction, class probabilities) when available.
    n_jobs : threads for profiling large inputs (default: the CPU count).
    progress : show a progress bar when profiling takes more than a few seconds.
    random_state : seed of the resampling.
    """

    level: float = 0.01
    correction: str = "holm"
    min_effect: MinEffects = field(default_factory=MinEffects)
    confidence: float = 0.95
    n_resamples: int = 200
    min_expected: float = 5.0
    columns: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    predictions: bool = True
    n_jobs: int | None = None
    progress: bool = True
    random_state: int = 0

    def __post_init__(self) -> None:
        where = "drift config"
        _number(where, "level", self.level, low=1e-12, high=0.5)
        if self.correction not in CORRECTIONS:
            raise StewardInputError(
                WRONG_TYPE.format(where=where, key="correction", expected=" or ".join(map(repr, CORRECTIONS)), got=self.correction)
            )
        if isinstance(self.min_effect, Mapping):
            valid = [f.name for f in dataclasses.fields(MinEffects)]
            object.__setattr__(self, "min_effect", MinEffects(**_check_keys(f"{where} min_effect", self.min_effect, valid)))
        elif not isinstance(self.min_effect, MinEffects):
            raise StewardInputError(WRONG_TYPE.format(where=where, key="min_effect", expected="an object", got=self.min_effect))
        _number(where, "confidence", self.confidence, low=0.5, high=0.9999)
        _number(where, "n_resamples", self.n_resamples, low=0, high=100_000, integer=True)
        _number(where, "min_expected", self.min_expected, low=1.0, high=1000.0)
        _number(where, "random_state", self.random_state, low=0, high=2**32 - 1, integer=True)
        if self.n_jobs is not None:
            _number(where, "n_jobs", self.n_jobs, low=1, high=1024, integer=True)
        for key in ("columns", "exclude"):
            value = getattr(self, key)
            if value is None and key == "columns":
                continue
            items = (value,) if isinstance(value, str) else value
            if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
                raise StewardInputError(WRONG_TYPE.format(where=where, key=key, expected="a list of column names", got=value))
            object.__setattr__(self, key, tuple(items))
        for key in ("predictions", "progress"):
            if not isinstance(getattr(self, key), bool):
                raise StewardInputError(WRONG_TYPE.format(where=where, key=key, expected="true or false", got=getattr(self, key)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> DriftConfig:
        """Parse a plain dict (unknown keys are errors naming the closest valid key)."""
        if data is None:
            return cls()
        valid = [f.name for f in dataclasses.fields(cls)]
        return cls(**_check_keys("drift config", data, valid))

    @classmethod
    def from_json(cls, text: str | None) -> DriftConfig:
        """From JSON text, or the path of a JSON file."""
        return cls.from_dict(read_json_config(text, "drift config"))

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["columns"] = None if self.columns is None else list(self.columns)
        out["exclude"] = list(self.exclude)
        return out
