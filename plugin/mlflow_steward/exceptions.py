"""One error type per boundary. Messages name the file, column or parameter and what was expected.

The CLI turns :class:`StewardError` into a one-line message and exit code 2, never a traceback.
``stats`` and ``cleaning`` import nothing of ours, so they raise plain ``ValueError`` subclasses of
their own; the CLI catches those too.
"""

from __future__ import annotations


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
