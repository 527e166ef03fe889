"""The ``steward`` command. It only parses arguments and calls the package.

Each capability's commands live in their own private module (``_train.py``, ``_registry.py``, ...)
and are attached to the group here. Errors we raise on purpose become one line and exit code 2.
"""

from __future__ import annotations

from mlflow_steward.cli._main import main

__all__ = ["main"]
