"""Which errors the ``steward`` command shows as one line and exit code 2: the one list.

Every error of ours is a :class:`~mlflow_steward.exceptions.StewardError`, except those of the two
packages that cannot import it (see :mod:`mlflow_steward.exceptions`): ``cleaning`` and ``stats``
have their own ``ValueError`` bases, listed here next to ours. MLflow's own errors for a run,
model or version that does not exist (or a value it refuses) are bad input too and name the
thing; any other exception is a bug and keeps its traceback.

The classes are looked up in ``sys.modules`` only: an error of a package that was never imported
cannot occur, and the error path imports nothing.
"""

from __future__ import annotations

import sys

EXIT_BAD_INPUT = 2

#: (module, class) of every error base the CLI reports as bad input.
USER_ERRORS: tuple[tuple[str, str], ...] = (
    ("mlflow_steward.exceptions", "StewardError"),
    ("mlflow_steward.cleaning._errors", "CleaningError"),
    ("mlflow_steward.stats._errors", "StatsInputError"),
)

#: ``MlflowException.error_code`` values that mean "this run / model / version / value is not what
#: you think" (the message names it), as opposed to a server or store failure.
MLFLOW_USER_ERROR_CODES: frozenset[str] = frozenset(
    {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "INVALID_PARAMETER_VALUE", "RESOURCE_ALREADY_EXISTS", "BAD_REQUEST"}
)


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is bad input to report in one line (else: a bug, keep the traceback)."""
    for module_name, class_name in USER_ERRORS:
        module = sys.modules.get(module_name)
        if module is not None and isinstance(exc, getattr(module, class_name)):
            return True
    mlflow_exceptions = sys.modules.get("mlflow.exceptions")
    if mlflow_exceptions is not None and isinstance(exc, mlflow_exceptions.MlflowException):
        return getattr(exc, "error_code", None) in MLFLOW_USER_ERROR_CODES
    return False


def one_line(text: object) -> str:
    """The message on one line: its lines joined, surrounding blanks dropped."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return " ".join(lines) if lines else "(no message)"
