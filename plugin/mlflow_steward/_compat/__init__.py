"""The only places mlflow-steward touches third-party internals: one small module per library.

* :mod:`._compat.mlflow`: MLflow's private helpers and attributes (current experiment, a client's
  registry URI, the switch that keeps ``PythonModel.predict`` unwrapped).
* :mod:`._compat.optuna`: Optuna's private trial-creation hook and the system-attribute keys for
  which it has no public helper, plus the names that changed between releases.
* scikit-learn: ``mlflow_steward.cleaning._compat`` (``cleaning`` travels inside every model and may
  import nothing of ours outside itself, so its compat module lives there; nothing else in the
  package touches scikit-learn internals).

Placement: this package is vocabulary-level, beside ``names`` and ``exceptions``: it imports nothing
of ours, so any layer may use it. ``mlflow`` imports MLflow only inside its functions; ``optuna``
imports Optuna at import (it subclasses Optuna's storage) and only ``tuning`` imports it. It travels inside every logged model with ``serving`` (the served wrapper uses
:class:`._compat.mlflow.UnwrappedPredict`), see ``serving._packaging.MODEL_CODE_PACKAGES``.

Each module lists what it touches in ``PRIVATE_API``; ``tests/compat`` resolves every entry against
the installed release and fails naming the library, its version, the symbol and this package when
an upgrade removes one.
"""
