"""Every Optuna internal ``mlflow_steward._compat.optuna`` wraps still exists and still works."""

from __future__ import annotations

import contextlib

import optuna
import pytest
from optuna.trial import TrialState

from mlflow_steward._compat import optuna as compat

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _removed(symbol: str) -> str:
    return f"Optuna {optuna.__version__} removed {symbol}; update mlflow_steward/_compat/optuna.py"


class Refused(Exception):
    pass


class _Refusing(compat.GatedTrialStorage):
    @contextlib.contextmanager
    def fresh_trial_gate(self, study_id):
        raise Refused(study_id)
        yield  # pragma: no cover


def test_rdb_storage_still_creates_trials_through_the_private_hook(tmp_path):
    assert hasattr(optuna.storages.RDBStorage, "_create_new_trial"), _removed("RDBStorage._create_new_trial")
    storage = _Refusing(f"sqlite:///{tmp_path / 'o.db'}")
    study = optuna.create_study(study_name="s", storage=storage)
    study.enqueue_trial({"x": 1.0})  # a template trial: passes the gate
    assert [t.state for t in study.get_trials(deepcopy=False)] == [TrialState.WAITING]
    assert study.ask().number == 0  # the enqueued one runs
    with pytest.raises(Refused):  # a fresh trial is refused ...
        study.ask()
    with pytest.raises(Refused):  # ... also through optuna.load_study's cached storage
        optuna.load_study(study_name="s", storage=storage).ask()


def test_enqueued_params_are_still_in_fixed_params(tmp_path):
    study = optuna.create_study()
    study.enqueue_trial({"family": "ridge", "ridge.alpha": 1.0})
    [waiting] = study.get_trials(deepcopy=False)
    assert waiting.params == {}
    assert compat.FIXED_PARAMS in waiting.system_attrs, _removed("system attribute 'fixed_params'")
    assert compat.enqueued_params(waiting) == {"family": "ridge", "ridge.alpha": 1.0}


def test_the_retry_helpers_read_what_the_retry_callback_writes():
    cls = compat.retry_callback_class()
    for helper in ("retry_history", "retried_trial_number"):
        assert hasattr(cls, helper), _removed(f"{cls.__name__}.{helper}")
    retry = optuna.trial.create_trial(state=TrialState.WAITING, system_attrs={"failed_trial": 3, "retry_history": [3]})
    fresh = optuna.trial.create_trial(state=TrialState.WAITING)
    assert (compat.retried_from(retry), compat.retry_history(retry), compat.is_retry(retry)) == (3, [3], True)
    assert (compat.retried_from(fresh), compat.retry_history(fresh), compat.is_retry(fresh)) == (None, [], False)


def test_the_heartbeat_callback_argument_exists():
    import inspect

    parameters = inspect.signature(optuna.storages.RDBStorage.__init__).parameters
    assert compat.stale_trial_callback_argument() in parameters
    assert callable(compat.retry_callback(2))
