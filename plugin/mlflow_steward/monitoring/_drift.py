"""``check_drift``: compare a window (rows, a file or a profile) with a reference profile."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.monitoring._alarms import decide
from mlflow_steward.monitoring._build import build_profile
from mlflow_steward.monitoring._checks import run_checks
from mlflow_steward.monitoring._config import DriftConfig
from mlflow_steward.monitoring._profile import FEATURE, Profile
from mlflow_steward.monitoring._result import DriftResult
from mlflow_steward.monitoring._source import read_table

UNKNOWN_COLUMN = "drift config {key}: the reference profile has no column {name!r}{hint}; its columns are: {columns}"
NOT_A_PROFILE = "reference must be a Profile (see build_profile / load_profile), got {type}"
PROFILE_MISSING_COLUMNS = "the window's profile lacks column(s) {missing} of the reference"


def _selected(reference: Profile, config: DriftConfig) -> Profile:
    names = reference.names()
    for key in ("columns", "exclude"):
        for name in getattr(config, key) or ():
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise StewardInputError(UNKNOWN_COLUMN.format(key=key, name=name, hint=hint, columns=", ".join(names)))
    keep = [
        c for c in reference.columns
        if (config.columns is None or c.name in config.columns or c.role != FEATURE)
        and c.name not in config.exclude and (config.predictions or c.role == FEATURE)
    ]  # fmt: skip
    return replace(reference, columns=tuple(keep))


def check_drift(
    reference: Profile,
    current: pd.DataFrame | str | Path | Profile,
    *,
    predictions: Any = None,
    probabilities: Any = None,
    classes: Sequence[Any] | None = None,
    config: DriftConfig | Mapping[str, Any] | None = None,
    model: Mapping[str, str] | None = None,
    ignore_columns: Sequence[str] = (),
    extra_columns: Sequence[str] = (),
    source: str | None = None,
) -> DriftResult:
    """Check a window against ``reference``: every column and check, one corrected family of tests.

    ``current`` is a DataFrame, the path of a CSV/Parquet file, or a profile already built
    ``like=reference``. ``predictions``/``probabilities`` (optional) are the model's outputs on
    those rows. Columns of ``current`` not in the reference get a ``not in reference`` line, except
    ``ignore_columns`` (e.g. the target); for a profile, ``extra_columns`` lists the window's columns
    the reference lacks (see :func:`~mlflow_steward.monitoring.profile_parts`). ``source`` names the
    window in error messages. Bad input (no rows, a missing model column, text in a
    numeric column) raises :class:`~mlflow_steward.exceptions.StewardInputError`.
    """
    if not isinstance(reference, Profile):
        raise StewardInputError(NOT_A_PROFILE.format(type=type(reference).__name__))
    config = config if isinstance(config, DriftConfig) else DriftConfig.from_dict(config)
    selected = _selected(reference, config)
    ignored = set(map(str, ignore_columns))
    extra: tuple[str, ...] = tuple(str(c) for c in extra_columns if str(c) not in ignored)
    if isinstance(current, (str, Path)):
        source = source or f"data file {current}"
        current = read_table(current)
    else:
        source = source or "the window"
    if isinstance(current, pd.DataFrame):
        extra = tuple(str(c) for c in current.columns if str(c) not in reference and str(c) not in ignored)
        window = build_profile(
            current, predictions=predictions, probabilities=probabilities, classes=classes, like=selected,
            source=source, n_jobs=config.n_jobs, progress=config.progress,
        )  # fmt: skip
    elif isinstance(current, Profile):
        missing = [c for c in selected.names(FEATURE) if c not in current]
        if missing:
            raise StewardInputError(PROFILE_MISSING_COLUMNS.format(missing=", ".join(map(repr, missing))))
        window = current
    else:
        raise StewardInputError(f"current must be a DataFrame, a CSV/Parquet path or a Profile, got {type(current).__name__}")
    outcomes = decide(run_checks(selected, window, config, extra_columns=extra), config)
    return DriftResult.assemble(outcomes, config=config, reference=selected, current=window, model=model)
