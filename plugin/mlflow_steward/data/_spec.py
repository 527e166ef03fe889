"""``DatasetSpec``: a dataset's target, task and column roles, declared once and checked early."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlflow_steward.exceptions import StewardInputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

TASKS: tuple[str, ...] = ("regression", "classification")

INVALID_TASK = "DatasetSpec.task is {task!r}; expected 'regression' or 'classification'"
INVALID_TARGET = "DatasetSpec.target must be a non-empty column name, got {target!r}"
INVALID_COLUMN_NAME = "DatasetSpec.{field} must hold non-empty column names, got {value!r}"
COLUMN_ROLE_CONFLICT = (
    "DatasetSpec gives column {column!r} two roles ({first} and {second}); give each column one role"
)
SPEC_NOT_RESOLVED = (
    "DatasetSpec for target {target!r} is not resolved (categorical or numeric is None); "
    "call spec.resolve(frame) or load the data with load_dataset()"
)
SPEC_BAD_JSON = "DatasetSpec JSON could not be parsed: {reason}"
SPEC_UNKNOWN_KEYS = "DatasetSpec JSON has unknown keys {keys}; expected keys are {expected}"
SPEC_MISSING_KEYS = "DatasetSpec JSON lacks the required keys {keys}"
COERCE_ROLE_CONFLICT = (
    "DatasetSpec.coerce_numeric names column {column!r}, which is the {role} column; only feature "
    "columns can be coerced to numbers"
)
MISSING_COLUMN = (
    "{source}: no {role} column {column!r} (named in the DatasetSpec); columns are: {columns}"
)

_MAX_LISTED_COLUMNS = 30


def describe_columns(columns: Any) -> str:
    """Comma-separated column names for error messages (long lists are cut)."""
    names = [str(c) for c in columns]
    shown = ", ".join(names[:_MAX_LISTED_COLUMNS])
    if len(names) > _MAX_LISTED_COLUMNS:
        shown += f", ... ({len(names)} columns)"
    return shown


def is_categorical_dtype(dtype: Any) -> bool:
    """object, string (``str`` in pandas 3, ``string``), category and bool dtypes are categorical."""
    import pandas as pd

    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
    )


def is_numeric_feature_dtype(dtype: Any) -> bool:
    """Integer and float dtypes (bool counts as categorical)."""
    import pandas as pd

    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _as_names(field: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise StewardInputError(INVALID_COLUMN_NAME.format(field=field, value=item))
    return items


def _as_optional_name(field: str, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise StewardInputError(INVALID_COLUMN_NAME.format(field=field, value=value))
    return value


@dataclass(frozen=True)
class DatasetSpec:
    """The roles of a dataset's columns.

    ``categorical`` / ``numeric`` set to ``None`` are filled in by :meth:`resolve` (``load_dataset``
    does it): object, string, category and bool dtypes are categorical, integer and float dtypes are
    numeric; target, id and time columns are never features. Columns of other dtypes (datetimes) and,
    when one list is given explicitly, columns outside it that the other rule does not pick up, are
    not features. Lists are stored as tuples; a single string is accepted as a one-column list.

    ``coerce_numeric`` lists columns to read as numbers even though some cells are not: those
    cells become missing and are counted (``LoadedDataset.coerced``, the cleaning report). Without
    it, a column that is numeric but for a few cells is refused by ``load_dataset`` (see
    ``_load.MOSTLY_NUMERIC``), never silently turned categorical. It is left out of
    :meth:`to_dict` when empty, so specs without it keep their JSON (and step keys).
    """

    target: str
    task: str
    categorical: tuple[str, ...] | None = None
    numeric: tuple[str, ...] | None = None
    missing_markers: tuple[str, ...] = ()
    id_column: str | None = None
    time_column: str | None = None
    stratify_column: str | None = None
    coerce_numeric: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.target, str) or not self.target:
            raise StewardInputError(INVALID_TARGET.format(target=self.target))
        if self.task not in TASKS:
            raise StewardInputError(INVALID_TASK.format(task=self.task))
        set_ = object.__setattr__
        set_(self, "categorical", _as_names("categorical", self.categorical))
        set_(self, "numeric", _as_names("numeric", self.numeric))
        set_(self, "coerce_numeric", _as_names("coerce_numeric", self.coerce_numeric) or ())
        markers = self.missing_markers
        markers = (markers,) if isinstance(markers, str) else tuple(markers)
        if not all(isinstance(m, str) for m in markers):
            raise StewardInputError(
                INVALID_COLUMN_NAME.format(field="missing_markers", value=markers)
            )
        set_(self, "missing_markers", tuple(markers))
        for field in ("id_column", "time_column", "stratify_column"):
            _as_optional_name(field, getattr(self, field))
        self._check_roles()

    def _check_roles(self) -> None:
        seen: dict[str, str] = {}
        for role, column in self.role_columns():
            if column in seen and seen[column] != role:
                raise StewardInputError(
                    COLUMN_ROLE_CONFLICT.format(column=column, first=seen[column], second=role)
                )
            seen.setdefault(column, role)
        for column in self.coerce_numeric:
            if seen.get(column, "numeric") != "numeric":
                raise StewardInputError(COERCE_ROLE_CONFLICT.format(column=column, role=seen[column]))

    def role_columns(self) -> list[tuple[str, str]]:
        """(role, column) for every column the spec names except ``stratify_column``."""
        pairs = [("target", self.target)]
        pairs += [("id", self.id_column)] if self.id_column else []
        pairs += [("time", self.time_column)] if self.time_column else []
        pairs += [("categorical", c) for c in self.categorical or ()]
        pairs += [("numeric", c) for c in self.numeric or ()]
        return pairs

    def listed_columns(self) -> list[tuple[str, str]]:
        """(role, column) for every column the spec names, ``stratify_column`` and
        ``coerce_numeric`` included."""
        pairs = self.role_columns()
        pairs += [("stratify", self.stratify_column)] if self.stratify_column else []
        return pairs + [("coerce_numeric", c) for c in self.coerce_numeric]

    @property
    def is_resolved(self) -> bool:
        """True when both ``categorical`` and ``numeric`` are explicit."""
        return self.categorical is not None and self.numeric is not None

    def feature_columns(self) -> list[str]:
        """Categorical then numeric feature columns (resolved spec only)."""
        if not self.is_resolved:
            raise StewardInputError(SPEC_NOT_RESOLVED.format(target=self.target))
        return [*self.categorical, *self.numeric]  # type: ignore[misc]

    def check_columns(self, frame: pd.DataFrame, *, source: str = "frame") -> None:
        """Raise if a column the spec names is not in ``frame`` (``source`` names the data)."""
        present = set(frame.columns)
        for role, column in self.listed_columns():
            if column not in present:
                raise StewardInputError(
                    MISSING_COLUMN.format(
                        source=source,
                        role=role,
                        column=column,
                        columns=describe_columns(frame.columns),
                    )
                )

    def resolve(self, frame: pd.DataFrame, *, source: str = "frame") -> DatasetSpec:
        """A copy with ``categorical`` and ``numeric`` filled in from ``frame``'s dtypes."""
        self.check_columns(frame, source=source)
        if self.is_resolved:
            return self
        taken = {c for _, c in self.role_columns()}
        free = [c for c in frame.columns if c not in taken]
        categorical = self.categorical
        if categorical is None:
            categorical = tuple(c for c in free if is_categorical_dtype(frame[c].dtype))
        numeric = self.numeric
        if numeric is None:
            numeric = tuple(
                c for c in free if c not in categorical and is_numeric_feature_dtype(frame[c].dtype)
            )
        return dataclasses.replace(self, categorical=categorical, numeric=numeric)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists; an empty ``coerce_numeric`` is left out)."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
            if f.name != "coerce_numeric" or self.coerce_numeric
        }

    def to_json(self) -> str:
        """Compact, key-sorted JSON: equal specs give equal text."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetSpec:
        """Inverse of :meth:`to_dict`; unknown or missing keys are errors."""
        if not isinstance(data, dict):
            raise StewardInputError(SPEC_BAD_JSON.format(reason=f"expected an object, got {data!r}"))
        expected = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(expected))
        if unknown:
            raise StewardInputError(SPEC_UNKNOWN_KEYS.format(keys=unknown, expected=expected))
        missing = [k for k in ("target", "task") if k not in data]
        if missing:
            raise StewardInputError(SPEC_MISSING_KEYS.format(keys=missing))
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> DatasetSpec:
        """Inverse of :meth:`to_json`."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise StewardInputError(SPEC_BAD_JSON.format(reason=exc)) from exc
        return cls.from_dict(data)
