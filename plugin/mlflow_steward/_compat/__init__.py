"""The only places mlflow-steward touches third-party internals: one small unit per library.

* :mod:`._compat.mlflow` (a package, one module per concept, one ``PRIVATE_API`` list): MLflow's
  tracking helpers (current experiment, a client's registry URI, artifact URIs, dataset sources,
  the switch that keeps ``PythonModel.predict`` unwrapped), the scoring server of
  ``mlflow models serve`` (``scoring_server``) and the tracking server's workers and basic-auth
  (``tracking_server``).
* :mod:`._compat.optuna`: Optuna's private trial-creation hook and the system-attribute keys for
  which it has no public helper, plus the names that changed between releases.
* scikit-learn: ``mlflow_steward.cleaning._compat`` (``cleaning`` travels inside every model and may
  import nothing of ours outside itself, so its compat module lives there; nothing else in the
  package touches scikit-learn internals). skops' file layout: ``serving._compat_skops``.

Placement: this package is vocabulary-level, beside ``names`` and ``exceptions``: it imports nothing
of ours, so any layer may use it. ``mlflow`` imports MLflow only inside its functions (but for
``scoring_server``, whose error types subclass ``MlflowException``); ``optuna`` imports Optuna at
import (it subclasses Optuna's storage) and only ``tuning`` imports it. This ``__init__`` and
``mlflow`` travel inside every logged model with ``serving`` (the served wrapper uses
``scoring_server`` and ``UnwrappedPredict``); ``optuna`` does not (see
``serving._code_copy.MODEL_CODE_COMPAT``).

Each unit lists what it touches in ``PRIVATE_API``; ``tests/compat`` resolves every entry against
the installed release and fails naming the library, its version, the symbol and this package when
an upgrade removes one.
"""
