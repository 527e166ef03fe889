"""The persisted Optuna study: where it lives, what it is called, and resuming it safely.

Storage: any Optuna storage URL (``sqlite:///...``, ``postgresql://...``) or storage object; by
default the SQLite file ``<storage_dir>/optuna.db`` (``storage_dir`` defaults to ``.steward`` in the
current directory). Studies are opened with ``load_if_exists=True``: calling :func:`tune` again with
the same study adds trials to it.

The study keeps what its trials were scored under (task, strategy, scoring, folds, families, a digest
of the data) as the user attribute ``steward.config``; resuming with anything different is refused,
because scores from other data or folds are not comparable. The default study name is derived from
that same config, so calling :func:`tune` twice on the same data and settings resumes one study.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlflow_steward import names
from mlflow_steward.exceptions import StewardInputError

DEFAULT_STORAGE_DIR = ".steward"
STORAGE_FILE = "optuna.db"
ATTR_CONFIG = names.STUDY_ATTR_CONFIG
MSG_STUDY_MISMATCH = (
    "study_name: study {study!r} in {storage} was created with {key}={old!r}, not {new!r}; "
    "pass another study_name (or none, for one derived from the data and settings)"
)
MSG_BAD_STORAGE = (
    "storage must be an Optuna storage URL (e.g. 'sqlite:///optuna.db') or storage object, got {storage!r}"
)


def data_digest(X: Any, y: Any) -> str:
    """SHA-256 over every row of ``X`` and ``y`` (values and column names, not the index)."""
    import pandas as pd

    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in X.columns]).encode())
    h.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    h.update(pd.util.hash_pandas_object(pd.Series(y), index=False).to_numpy().tobytes())
    return h.hexdigest()


def default_study_name(config: Mapping[str, Any]) -> str:
    """``steward-<task>-<strategy>-<12 hex of the config hash>``."""
    key = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]
    return f"steward-{config['task']}-{config['strategy']}-{key}"


def resolve_storage(storage: Any, storage_dir: str | Path | None) -> Any:
    """``None`` -> ``sqlite:///<storage_dir>/optuna.db`` (directory created); else unchanged."""
    if storage is None:
        directory = Path(DEFAULT_STORAGE_DIR if storage_dir is None else storage_dir).resolve()
        directory.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{directory / STORAGE_FILE}"
    if isinstance(storage, str) and "://" in storage:
        return storage
    from optuna.storages import BaseStorage

    if isinstance(storage, BaseStorage):
        return storage
    raise StewardInputError(MSG_BAD_STORAGE.format(storage=storage))


def describe_storage(storage: Any) -> str:
    """A storage URL fit for logging: the password, if any, hidden."""
    if not isinstance(storage, str):
        url = getattr(storage, "url", None)
        return describe_storage(url) if isinstance(url, str) else type(storage).__name__
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(storage).render_as_string(hide_password=True)
    except ArgumentError:
        return storage


def _optuna_storage(storage: Any) -> Any:
    """SQLite files are opened in WAL mode with a 60 s busy timeout.

    A trial makes a dozen small commits (params, intermediate values, state); WAL with
    ``synchronous=NORMAL`` makes each cheap, lets readers work while a trial writes, and parallel
    writers (threads, processes on this machine) wait instead of failing. WAL needs a local disk,
    not a network share: pass a server URL for workers on several machines.
    """
    if isinstance(storage, str) and driver_url(storage) != storage:
        from optuna.storages import RDBStorage

        return RDBStorage(driver_url(storage))
    engine_kwargs = sqlite_engine_kwargs(storage)
    if engine_kwargs is None:
        return storage
    from optuna.storages import RDBStorage

    return RDBStorage(storage, engine_kwargs=engine_kwargs)


def driver_url(url: str) -> str:
    """A plain ``postgresql://`` URL with a driver that is installed named in it.

    SQLAlchemy 2.0 opens ``postgresql://`` with psycopg2, 2.1 with psycopg (3); name whichever is
    importable (psycopg first), so both work with either installed. Other URLs are unchanged.
    """
    prefix = "postgresql://"
    if not url.startswith(prefix):
        return url
    import importlib.util

    for driver in ("psycopg", "psycopg2"):
        if importlib.util.find_spec(driver) is not None:
            return f"postgresql+{driver}://{url[len(prefix):]}"
    return url


def sqlite_file(storage: Any) -> str | None:
    """The database file of a ``sqlite:///<file>`` URL; ``None`` for anything else (or ``:memory:``)."""
    if not (isinstance(storage, str) and storage.startswith("sqlite:///")):
        return None
    from sqlalchemy.engine import make_url

    path = make_url(storage).database
    return None if not path or path == ":memory:" else path


def sqlite_engine_kwargs(storage: Any) -> dict[str, Any] | None:
    """``engine_kwargs`` opening a SQLite file in WAL mode (see :func:`_optuna_storage`), else ``None``."""
    path = sqlite_file(storage)
    if path is None:
        return None
    import sqlite3

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, timeout=60, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    return {"creator": connect}


def open_study(
    *,
    storage: Any,
    study_name: str,
    direction: str,
    sampler: Any,
    pruner: Any,
    config: Mapping[str, Any],
) -> Any:
    """Create or load the study; refuse one created under another config."""
    import optuna

    study = optuna.create_study(
        storage=_optuna_storage(storage),
        sampler=sampler,
        pruner=pruner,
        study_name=study_name,
        direction=direction,
        load_if_exists=True,
    )
    existing = study.user_attrs.get(ATTR_CONFIG)
    if existing is None:
        study.set_user_attr(ATTR_CONFIG, dict(config))
        existing = dict(config)
    for key in sorted(set(existing) | set(config)):
        if existing.get(key) != config.get(key):
            raise StewardInputError(
                MSG_STUDY_MISMATCH.format(
                    study=study_name, storage=describe_storage(storage), key=key, old=existing.get(key),
                    new=config.get(key),
                )
            )
    return study
