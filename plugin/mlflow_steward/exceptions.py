"""One error type per boundary. Messages name the file, column or parameter and what was expected.

The CLI turns every error of ours into a one-line message and exit code 2, never a traceback.

Every error mlflow-steward raises on purpose is a :class:`StewardError`, with two exceptions that
cannot import this module: ``stats`` (numpy/scipy only) raises
:class:`mlflow_steward.stats.StatsInputError`, and ``cleaning`` (which travels inside every model
and imports nothing of ours) raises subclasses of :class:`mlflow_steward.cleaning.CleaningError`.
Both are ``ValueError`` subclasses. The CLI treats the three bases alike; the list lives in one
place, ``mlflow_steward.cli._errors.USER_ERRORS`` (with MLflow's "no such run / model / version"
errors, which it also shows as one line).

This module also holds the two checks that raise our input error, so every package reports a bad
setting the same way: :func:`check_scalar` (one scalar parameter: type and range) and
:func:`unknown_key_error` (a configuration key that does not exist, with the closest valid key
suggested).
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable
from typing import Any


class StewardError(Exception):
    """Base class of every error mlflow-steward raises on purpose."""


class StewardInputError(StewardError, ValueError):
    """Bad user input: a file, a column, a parameter or a run that is not what was expected."""


class StewardRegistryError(StewardError):
    """A registry operation could not be carried out (unknown model or version, lost race)."""


class StewardLockError(StewardRegistryError):
    """Another promotion holds the registered model's lock."""


class StewardGateError(StewardError):
    """The gate could not reach a decision (not: the gate rejected the candidate)."""


# --- checks shared by every configuration ------------------------------------------------------
UNKNOWN_KEY = "unknown key {key!r} in {where}{hint} (expected one of {known})"
DID_YOU_MEAN = "; did you mean {match!r}?"
SCALAR_TYPE = "{name} must be {expected}, got {value!r}"

_KIND_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word`` (``difflib``, ratio at least 0.6), or None."""
    matches = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_key_error(key: object, known: Iterable[str], *, where: str) -> StewardInputError:
    """``unknown key 'margn' in --gate-config; did you mean 'margin'? (expected one of ...)``."""
    known = list(known)
    match = closest(str(key), known)
    hint = DID_YOU_MEAN.format(match=match) if match else ""
    return StewardInputError(UNKNOWN_KEY.format(key=key, where=where, hint=hint, known=", ".join(known)))


def check_scalar(
    value: Any,
    name: str,
    kind: type,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    include_minimum: bool = True,
    include_maximum: bool = True,
    allow_none: bool = False,
) -> Any:
    """Check one scalar parameter and return it (``int`` -> ``float`` for ``kind=float``).

    Like :func:`sklearn.utils.check_scalar`, but raising :class:`StewardInputError` with a message
    naming the parameter (``name``, e.g. ``"--cv"`` or ``"gate config 'margin'"``), what was
    expected and what was given. ``bool`` is never accepted as a number; numbers must be finite.
    """
    if value is None and allow_none:
        return None
    expected = _KIND_WORDS.get(kind, kind.__name__)
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    else:
        ok = isinstance(value, kind)
    bounds = _bounds(minimum, maximum, include_minimum, include_maximum)
    if ok and kind in (int, float):
        if minimum is not None:
            ok = value >= minimum if include_minimum else value > minimum
        if ok and maximum is not None:
            ok = value <= maximum if include_maximum else value < maximum
    if not ok:
        expected += bounds + (" or null" if allow_none else "")
        raise StewardInputError(SCALAR_TYPE.format(name=name, expected=expected, value=value))
    return float(value) if kind is float else int(value) if kind is int else value


def _bounds(minimum: float | None, maximum: float | None, include_min: bool, include_max: bool) -> str:
    if minimum is not None and maximum is not None:
        low = "at least" if include_min else "above"
        high = "at most" if include_max else "below"
        return f" {low} {minimum:g} and {high} {maximum:g}"
    if minimum is not None:
        return f" {'>=' if include_min else '>'} {minimum:g}"
    if maximum is not None:
        return f" {'<=' if include_max else '<'} {maximum:g}"
    return ""
