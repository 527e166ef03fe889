"""Optuna internals mlflow-steward relies on, each behind one function or class (see the package doc).

* the trial-creation hook ``RDBStorage._create_new_trial``, which the exact trial budget of worker
  tuning gates (:class:`GatedTrialStorage`);
* system-attribute keys: the retry callback's (read through its public static helpers, which are
  experimental) and ``enqueue_trial``'s ``fixed_params`` (no public helper);
* names that changed between releases (the heartbeat retry callback, its storage argument).

Every entry of :data:`PRIVATE_API` is resolved by ``tests/compat/test_optuna.py`` against the
installed Optuna, which fails with "Optuna X.Y removed <symbol>; update _compat/optuna.py".
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from optuna.storages import RDBStorage

#: (module or class, attribute) pairs: private Optuna API used here.
PRIVATE_API: tuple[tuple[str, str], ...] = (
    ("optuna.storages.RDBStorage", "_create_new_trial"),
    ("optuna.trial.FrozenTrial.system_attrs", "fixed_params"),  # key written by Study.enqueue_trial
)

REMOVED = "Optuna {version} removed {symbol}; update mlflow_steward/_compat/optuna.py"

FIXED_PARAMS = "fixed_params"  # system attribute: the params of an enqueued (WAITING) trial


class GatedTrialStorage(RDBStorage):
    """:class:`optuna.storages.RDBStorage` that creates a *fresh* trial only inside :meth:`fresh_trial_gate`.

    Enqueued and retried trials (created from a template trial) pass without the gate. The hook is
    ``RDBStorage._create_new_trial``, which both ``create_new_trial`` and Optuna's cached storage in
    front of every RDB storage call.
    """

    def fresh_trial_gate(self, study_id: int) -> contextlib.AbstractContextManager:
        """Entered around the creation of a fresh trial; may raise to refuse it."""
        return contextlib.nullcontext()

    def _create_new_trial(self, study_id: int, template_trial: Any = None) -> Any:
        if template_trial is not None:
            return super()._create_new_trial(study_id, template_trial)
        with self.fresh_trial_gate(study_id):
            return super()._create_new_trial(study_id)


def enqueued_params(trial: Any) -> dict[str, Any]:
    """The params a trial was enqueued with (a WAITING trial has no ``params`` yet), else its params."""
    return trial.system_attrs.get(FIXED_PARAMS, trial.params)


def retry_callback_class() -> type:
    """Optuna's heartbeat retry callback (renamed in Optuna 4.9; both names work)."""
    import optuna.storages

    return getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None) or optuna.storages.RetryFailedTrialCallback


@contextlib.contextmanager
def _experimental_quiet() -> Iterator[None]:
    from optuna.exceptions import ExperimentalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        yield


def retry_callback(max_retry: int) -> Callable[[Any, Any], None]:
    with _experimental_quiet():
        return retry_callback_class()(max_retry=max_retry)


def retry_history(trial: Any) -> list[int]:
    """Numbers of the trials this one retries (public static helper of the retry callback)."""
    with _experimental_quiet():
        return list(retry_callback_class().retry_history(trial))


def retried_from(trial: Any) -> int | None:
    """The number of the failed trial this one retries, or None (public static helper of the callback)."""
    with _experimental_quiet():
        return retry_callback_class().retried_trial_number(trial)


def is_retry(trial: Any) -> bool:
    """Whether the trial was created by the retry callback for a failed one."""
    return retried_from(trial) is not None


def stale_trial_callback_argument() -> str:
    """``RDBStorage``'s argument for the heartbeat callback (renamed in Optuna 4.9)."""
    parameters = inspect.signature(RDBStorage.__init__).parameters
    return "heartbeat_stale_trial_callback" if "heartbeat_stale_trial_callback" in parameters else "failed_trial_callback"
