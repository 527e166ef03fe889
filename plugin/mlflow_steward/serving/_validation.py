"""Check a request frame against the columns a model was trained on, with errors naming the column.

The expected columns and their kinds are recorded at log time from the input example
(:class:`FeatureSchema`, stored in the model's ``steward.json``). Checks are per column and
vectorised (one dtype test, and ``pandas.api.types.infer_dtype`` in C for object columns); only an
error path looks at single values, to name the first offending one.

Missing values are not errors: the cleaning inside the model imputes them. Unseen categories are not
errors either (the encoder handles them). Extra columns are dropped. Non-finite numbers are errors
(``Infinity``, ``-Infinity``, ``1e309``, ``"inf"``, ``"1e400"``, an integer beyond the float range):
the cleaning would clip them and the capture could not record them, so the model never sees them.
Duplicated column names are errors. An error quotes at most :data:`QUOTE_LIMIT` characters of the
bad value (:func:`quote`).

The model is logged without an input schema (see ``_packaging``), so inside ``mlflow models serve``
the request values reach these checks as sent, in every payload form: MLflow itself answers only a
payload it cannot read. One exception comes from MLflow's parsing of the ``instances``
list-of-records form, which builds each column with ``numpy.array`` and so turns a number sent among
texts into text (``3`` -> ``"3"``, then an unseen category) and a text among numbers into text too
(``["1.5", "abc"]``, which is then checked as usual).
"""

from __future__ import annotations

import json
import reprlib
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward.exceptions import StewardInputError

NUMERIC = "numeric"
CATEGORICAL = "categorical"
BOOLEAN = "boolean"
DATETIME = "datetime"
KINDS = (NUMERIC, CATEGORICAL, BOOLEAN, DATETIME)

NOT_A_FRAME = "model input must be a pandas DataFrame (or records or columns convertible to one), got {type}"
NO_ROWS = "model input has no rows; send at least one row"
MISSING_COLUMNS = "model input is missing column(s) {missing}; the model expects {expected}"
DUPLICATE_COLUMNS = "model input has duplicated column name(s) {names}; send each column once"
# ``{value}`` is already quoted and cut to a short prefix (:func:`quote`): a 10 MB cell never makes a 10 MB error.
NOT_NUMBER = "column {column!r} expects a number (or null), got {value} ({type}) in row {row}"
NOT_FINITE = "column {column!r} expects a finite number (or null), got {value} ({type}) in row {row}"
NOT_TEXT = "column {column!r} expects a text category (or null), got {value} ({type}) in row {row}"
NOT_BOOLEAN = "column {column!r} expects true or false (or null), got {value} ({type}) in row {row}"
NOT_DATETIME = "column {column!r} expects a date/time (ISO 8601 text or null), got {value} ({type}) in row {row}"
BAD_SCHEMA = "feature schema: {detail}"

#: Characters of a bad value an error message quotes; the rest is summarised by its length.
QUOTE_LIMIT = 40
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict = 2, 6, 6, 4
_SHORT.maxstring = _SHORT.maxother = QUOTE_LIMIT

_TEXT_INFERRED = frozenset({"string", "empty"})
_NUMBER_INFERRED = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "empty"})
_BOOL_INFERRED = frozenset({"boolean", "empty"})


@dataclass(frozen=True)
class FeatureSchema:
    """The columns a model expects, in order, and the kind of each (numeric, categorical, ...)."""

    columns: tuple[str, ...]
    kinds: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.columns) != len(self.kinds):
            raise StewardInputError(BAD_SCHEMA.format(detail=f"{len(self.columns)} columns but {len(self.kinds)} kinds"))
        unknown = sorted({k for k in self.kinds if k not in KINDS})
        if unknown:
            raise StewardInputError(BAD_SCHEMA.format(detail=f"unknown kind(s) {unknown}; expected one of {KINDS}"))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> FeatureSchema:
        """Kinds from the dtypes of an example frame (the model's input example)."""
        kinds = [_kind_of(frame[c]) for c in frame.columns]
        return cls(columns=tuple(str(c) for c in frame.columns), kinds=tuple(kinds))

    def to_dict(self) -> list[dict[str, str]]:
        return [{"name": c, "kind": k} for c, k in zip(self.columns, self.kinds)]

    @classmethod
    def from_dict(cls, items: list[dict[str, str]]) -> FeatureSchema:
        return cls(columns=tuple(i["name"] for i in items), kinds=tuple(i["kind"] for i in items))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> FeatureSchema:
        return cls.from_dict(json.loads(text))

    def describe(self) -> str:
        """``a (numeric), b (categorical)``: what the error messages say is expected."""
        return ", ".join(f"{c} ({k})" for c, k in zip(self.columns, self.kinds))


def _kind_of(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return BOOLEAN
    if pd.api.types.is_numeric_dtype(dtype):
        return NUMERIC
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATETIME
    return CATEGORICAL


def quote(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """A bad value as an error message shows it: its repr, or a prefix of it and its length.

    Bounded in time too: containers go through :mod:`reprlib`, a long text or integer is cut first.
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() <= 3 * limit:  # at most ~36 digits: show it whole
            return str(value)
        try:
            digits = str(abs(value))
        except ValueError:  # beyond Python's int -> str digit limit
            return f"an integer of about {int(value.bit_length() * 0.30103):,} digits"
        return f"{'-' if value < 0 else ''}{digits[:limit]}... ({len(digits):,} digits)"
    text = _SHORT.repr(value)
    return text if len(text) <= 3 * limit else text[: 3 * limit] + "..."


def _plain_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):  # a nested JSON list as MLflow's parsing hands it over
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _first_offender(series: pd.Series, bad: np.ndarray) -> tuple[Any, str, int]:
    position = int(np.flatnonzero(bad)[0])
    value = _plain_value(series.iloc[position])
    return value, type(value).__name__, position


def _fail(message: str, column: str, series: pd.Series, bad: np.ndarray) -> None:
    value, type_name, row = _first_offender(series, bad)
    raise StewardInputError(message.format(column=column, value=quote(value), type=type_name, row=row))


def _as_float(column: str, series: pd.Series) -> pd.Series:
    """``series`` as float64, refusing an integer too large for a float (a 400-digit number)."""
    try:
        return series.astype("float64")
    except OverflowError:
        huge = np.fromiter(
            (isinstance(v, int) and not isinstance(v, bool) and abs(v) > sys.float_info.max for v in series),
            dtype=bool, count=len(series),
        )  # fmt: skip
        _fail(NOT_FINITE, column, series, huge)
        raise  # pragma: no cover - _fail raised


def _refuse_infinite(column: str, original: pd.Series, converted: pd.Series) -> pd.Series:
    """Infinity, -Infinity, 1e309, "inf", "1e400": refused, never clipped or captured as null."""
    infinite = np.isinf(converted.to_numpy(dtype="float64", na_value=np.nan))
    if infinite.any():
        _fail(NOT_FINITE, column, original, infinite)
    return converted


def _check_numeric(column: str, series: pd.Series) -> pd.Series:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        _fail(NOT_NUMBER, column, series, series.notna().to_numpy())
    if pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return series  # int64 and friends: always finite
    if pd.api.types.is_numeric_dtype(dtype):  # nullable Int64/Float64: pd.NA -> NaN for sklearn
        converted = series.astype("float64") if isinstance(dtype, pd.api.extensions.ExtensionDtype) else series
        return _refuse_infinite(column, series, converted)
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred in _NUMBER_INFERRED:
        return _refuse_infinite(column, series, _as_float(column, series))
    if inferred == "string":  # numbers sent as text ("12.5") are accepted; anything else is named
        converted = pd.to_numeric(series, errors="coerce")
        bad = (converted.isna() & series.notna()).to_numpy()
        if bad.any():
            _fail(NOT_NUMBER, column, series, bad)
        return _refuse_infinite(column, series, converted.astype("float64"))
    # mixed: numbers and numbers sent as text are fine; booleans, lists, objects and other text are not
    is_number = np.fromiter(
        (isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) for v in series),
        dtype=bool,
        count=len(series),
    )
    is_text = np.fromiter((isinstance(v, str) for v in series), dtype=bool, count=len(series))
    present = series.notna().to_numpy()
    bad = present & ~is_number & ~is_text
    if bad.any():
        _fail(NOT_NUMBER, column, series, bad)
    converted = _as_float(column, series.where(~is_text))
    if is_text.any():
        parsed = pd.to_numeric(series.where(is_text), errors="coerce")
        bad = is_text & parsed.isna().to_numpy()
        if bad.any():
            _fail(NOT_NUMBER, column, series, bad)
        converted = converted.where(~is_text, parsed.astype("float64"))
    return _refuse_infinite(column, series, converted)


def _check_categorical(column: str, series: pd.Series) -> pd.Series:
    dtype = series.dtype
    if isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype)):
        return series
    if pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(series, skipna=True) in _TEXT_INFERRED:
        return series
    is_text = np.fromiter((isinstance(v, str) for v in series), dtype=bool, count=len(series))
    bad = series.notna().to_numpy() & ~is_text
    if bad.any():
        _fail(NOT_TEXT, column, series, bad)
    return series.astype(object).where(series.notna(), None)  # e.g. all nulls parsed as a float column


def _check_boolean(column: str, series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series
    if pd.api.types.infer_dtype(series, skipna=True) in _BOOL_INFERRED:
        return series
    is_bool = np.fromiter((isinstance(v, (bool, np.bool_)) for v in series), dtype=bool, count=len(series))
    bad = series.notna().to_numpy() & ~is_bool
    if bad.any():
        _fail(NOT_BOOLEAN, column, series, bad)
    return series.astype(object).where(series.notna(), None)


def _check_datetime(column: str, series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    converted = pd.to_datetime(series, errors="coerce", utc=False, format="ISO8601")
    bad = (converted.isna() & series.notna()).to_numpy()
    if bad.any():
        _fail(NOT_DATETIME, column, series, bad)
    return converted


_CHECKS = {NUMERIC: _check_numeric, CATEGORICAL: _check_categorical, BOOLEAN: _check_boolean, DATETIME: _check_datetime}


def _plain(value: Any) -> Any:
    """Undo MLflow's schema-less payload parsing: a 0-d numpy array -> its value; an object array
    holding 0-d arrays (``instances`` with a null among numbers) -> a list of plain values."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return value.item()
        if value.dtype == object and value.ndim == 1:
            return [v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v for v in value]
    return value


def _as_frame(model_input: Any) -> pd.DataFrame:
    """Records, columns or one record (as MLflow's payload parsing hands them over) -> DataFrame."""
    data = model_input
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        data = [{k: _plain(v) for k, v in r.items()} for r in data]
    elif isinstance(data, dict) and data:
        values = {k: _plain(v) for k, v in data.items()}
        if all(np.ndim(v) == 0 for v in values.values()):  # one record given as {column: value}
            values = {k: [v] for k, v in values.items()}
        data = values
    try:
        return pd.DataFrame(data)
    except (ValueError, TypeError) as exc:
        raise StewardInputError(NOT_A_FRAME.format(type=type(model_input).__name__)) from exc


def validate_frame(model_input: Any, schema: FeatureSchema) -> pd.DataFrame:
    """Return the model's columns of ``model_input``, in order, or raise naming the bad column.

    Raises :class:`~mlflow_steward.exceptions.StewardInputError` with one of this module's messages.
    """
    frame = model_input if isinstance(model_input, pd.DataFrame) else _as_frame(model_input)
    if frame.columns.has_duplicates:
        duplicated = dict.fromkeys(frame.columns[frame.columns.duplicated()])
        raise StewardInputError(DUPLICATE_COLUMNS.format(names=", ".join(quote(c) for c in duplicated)))
    if len(frame) == 0:  # also an empty list of records, which has no columns either
        raise StewardInputError(NO_ROWS)
    present = set(frame.columns)
    missing = [c for c in schema.columns if c not in present]
    if missing:
        expected = {c: k for c, k in zip(schema.columns, schema.kinds)}
        raise StewardInputError(
            MISSING_COLUMNS.format(
                missing=", ".join(f"{c!r} ({expected[c]})" for c in missing), expected=schema.describe()
            )
        )
    out = frame if list(frame.columns) == list(schema.columns) else frame[list(schema.columns)]
    changed: dict[str, pd.Series] = {}
    for column, kind in zip(schema.columns, schema.kinds):
        series = out[column]
        checked = _CHECKS[kind](column, series)
        if checked is not series:
            changed[column] = checked
    if changed:
        out = out.copy(deep=False)
        for column, series in changed.items():
            out[column] = series
    return out
