"""``load_dataset``: read CSV / Parquet, clean the text cells, validate against the spec, dedupe."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mlflow_steward.data._spec import DatasetSpec, is_numeric_feature_dtype
from mlflow_steward.data._version import dataset_digest, dataset_version
from mlflow_steward.exceptions import StewardInputError

SUPPORTED_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".parquet", ".pq")

NOT_A_SPEC = "load_dataset expects a DatasetSpec, got {kind}"
FILE_MISSING = "dataset file {path} does not exist"
UNSUPPORTED_EXTENSION = (
    "dataset file {path} has an unsupported extension {suffix!r}; expected one of .csv, .csv.gz, "
    ".parquet, .pq"
)
FILE_UNREADABLE = "dataset file {path} could not be read as {kind}: {reason}"
EMPTY_FILE = "dataset file {path} has no data rows"
DUPLICATE_COLUMNS = "dataset file {path} has duplicate column names after stripping spaces: {columns}"
TARGET_NAN = (
    "dataset file {path}: target column {target!r} is missing in {count} of {total} rows; "
    "drop or fill those rows before loading"
)
NOT_NUMERIC = (
    "dataset file {path}: column {column!r} is declared numeric but {count:,} rows are not numbers "
    "({examples}); list it as categorical, add the values to missing_markers, or coerce them to "
    "missing (coerce_numeric / --coerce-numeric {column})"
)
#: Share of a text column's non-missing cells that must parse as numbers for it to count as a
#: numeric column with a few stray cells (refused) rather than a categorical one.
MOSTLY_NUMERIC_SHARE = 0.95
MOSTLY_NUMERIC = (
    "dataset file {path}: column {column!r} holds numbers in {numbers:,} of {present:,} non-missing "
    "rows, but {count:,} {cells} not ({examples}), so it would silently become categorical. Declare "
    "those values missing (missing_markers / --missing-markers {markers}), coerce them to missing "
    "(coerce_numeric / --coerce-numeric {column}; they are counted in the cleaning report), or "
    "declare the column categorical (categorical / --categorical)"
)
_LISTED_CELLS = 5
TARGET_NOT_NUMERIC = (
    "dataset file {path}: regression target {target!r} must be numeric but {count} rows are not "
    "numbers, e.g. {sample!r}; use task='classification' for class labels"
)
SINGLE_CLASS = (
    "dataset file {path}: classification target {target!r} has a single class {value!r}; "
    "at least two classes are needed"
)


@dataclass(frozen=True, eq=False)
class LoadedDataset:
    """A validated dataset.

    ``frame`` has missing markers as NaN, text cells stripped, duplicate rows dropped (first kept);
    its index is the 0-based data-row number in the source file, so dropped rows leave gaps.
    ``spec`` is resolved; ``digest`` is :func:`dataset_digest` of ``frame``; ``source`` is the
    file's absolute path. ``coerced`` counts, per ``spec.coerce_numeric`` column, the cells that
    were not numbers and became NaN.
    """

    frame: pd.DataFrame
    spec: DatasetSpec
    source: str
    digest: str
    duplicates_dropped: int
    coerced: dict[str, int] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """Short dataset id (first 12 hex characters of ``digest``)."""
        return dataset_version(self.digest)


def _kind_of(path: Path) -> str:
    name = path.name.lower()
    for suffix in SUPPORTED_SUFFIXES:
        if name.endswith(suffix):
            return "Parquet" if suffix in (".parquet", ".pq") else "CSV"
    suffix = "".join(path.suffixes[-2:]) if path.suffixes else ""
    raise StewardInputError(UNSUPPORTED_EXTENSION.format(path=path, suffix=suffix))


def _read(path: Path, kind: str, markers: tuple[str, ...]) -> pd.DataFrame:
    """Read the file; every failure becomes a ``StewardInputError`` naming the file."""
    try:
        if kind == "Parquet":
            return pd.read_parquet(path)
        with warnings.catch_warnings():
            # rows with more fields than the header would otherwise be cut silently
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                path,
                na_values=list(markers) or None,
                skipinitialspace=True,
                index_col=False,
                low_memory=False,
            )
    except pd.errors.EmptyDataError as exc:
        raise StewardInputError(EMPTY_FILE.format(path=path)) from exc
    except (OSError, EOFError, ValueError, pd.errors.ParserWarning) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StewardInputError(FILE_UNREADABLE.format(path=path, kind=kind, reason=reason)) from exc


def _clean_text_column(series: pd.Series, markers: frozenset[str]) -> tuple[pd.Series, int]:
    """Strip text cells; markers and blank cells become NaN. Returns (series, markers replaced)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        drop = [c for c in series.cat.categories if isinstance(c, str) and c.strip() in markers]
        replaced = int(series.isin(drop).sum())
        return (series.cat.remove_categories(drop) if drop else series), replaced
    if pd.api.types.is_object_dtype(series.dtype):
        stripped = series.map(lambda v: v.strip() if isinstance(v, str) else v)
    else:
        stripped = series.str.strip()
    is_marker = stripped.isin(markers)
    blank = stripped.eq("").fillna(False).astype(bool)
    return stripped.mask(is_marker | blank), int(is_marker.sum())


def _normalize(raw: pd.DataFrame, path: Path, markers: tuple[str, ...]) -> pd.DataFrame:
    """Strip column names and text cells, turn markers into NaN, re-type numbers hidden by markers."""
    frame = raw.rename(columns=lambda c: c.strip() if isinstance(c, str) else c)
    if frame.columns.has_duplicates:
        dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise StewardInputError(DUPLICATE_COLUMNS.format(path=path, columns=dupes))
    marker_set = frozenset(m.strip() for m in markers)
    for column in frame.columns:
        series = frame[column]
        if not (
            pd.api.types.is_object_dtype(series.dtype)
            or pd.api.types.is_string_dtype(series.dtype)
            or isinstance(series.dtype, pd.CategoricalDtype)
        ):
            continue
        cleaned, replaced = _clean_text_column(series, marker_set)
        if replaced and not isinstance(cleaned.dtype, pd.CategoricalDtype):
            as_number = pd.to_numeric(cleaned, errors="coerce")
            if as_number.notna().sum() == cleaned.notna().sum() and cleaned.notna().any():
                cleaned = as_number  # the markers were all that kept the parser from numbers
        frame[column] = cleaned
    return frame


def _non_numeric(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(numbers, mask of non-null cells that are not numbers)."""
    values = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series
    if pd.api.types.is_bool_dtype(values.dtype):
        return values, values.notna()
    numbers = pd.to_numeric(values, errors="coerce")
    return numbers, values.notna() & numbers.isna()


def _examples(series: pd.Series, bad: pd.Series) -> str:
    """``row 0: 'abc', row 17: 'n/a'`` for the first offending cells (rows counted from 0 after the
    header, as ``LoadedDataset.frame``'s index)."""
    cells = series[bad]
    shown = [
        f"row {row}: {(value.item() if hasattr(value, 'item') else value)!r}"
        for row, value in cells.head(_LISTED_CELLS).items()
    ]
    more = f" and {len(cells) - _LISTED_CELLS:,} more" if len(cells) > _LISTED_CELLS else ""
    return ", ".join(shown) + more


def _distinct_text(series: pd.Series, bad: pd.Series) -> str:
    """The offending values as a --missing-markers argument (at most a few, quoted for a shell)."""
    values = list(dict.fromkeys(str(v) for v in series[bad]))
    text = ",".join(values[:_LISTED_CELLS])
    return repr(text) + (" ..." if len(values) > _LISTED_CELLS else "")


def _is_text(dtype: object) -> bool:
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def _check_numeric(frame: pd.DataFrame, spec: DatasetSpec, path: Path) -> dict[str, int]:
    """Columns that must or should hold numbers, converted in place; returns the cells coerced.

    * a regression target must be numeric;
    * declared numeric columns (``spec.numeric``) must be numeric unless also in ``coerce_numeric``;
    * ``coerce_numeric`` columns: cells that are not numbers become NaN and are counted;
    * any other text column whose non-missing cells are numbers in at least
      :data:`MOSTLY_NUMERIC_SHARE` of the rows is refused (:data:`MOSTLY_NUMERIC`): a few stray
      text cells would otherwise turn a numeric column categorical without a word.
    """
    if spec.task == "regression" and not is_numeric_feature_dtype(frame[spec.target].dtype):
        numbers, bad = _non_numeric(frame[spec.target])
        if bad.any():
            sample = frame[spec.target][bad].iloc[0]
            sample = sample.item() if hasattr(sample, "item") else sample
            raise StewardInputError(
                TARGET_NOT_NUMERIC.format(path=path, target=spec.target, count=int(bad.sum()), sample=sample)
            )
        frame[spec.target] = numbers
    declared = set(spec.numeric or ())
    coerce = set(spec.coerce_numeric)
    not_features = {c for role, c in spec.role_columns() if role not in ("numeric",)}
    coerced: dict[str, int] = {}
    for column in frame.columns:
        if column in not_features and column not in declared | coerce:
            continue  # target, id, time and declared categorical columns
        series = frame[column]
        if is_numeric_feature_dtype(series.dtype):
            if column in coerce:
                coerced[str(column)] = 0
            continue
        if column not in declared | coerce and not _is_text(series.dtype):
            continue  # bool and datetime columns keep their kind
        numbers, bad = _non_numeric(series)
        count = int(bad.sum())
        if column in coerce:
            frame[column] = pd.to_numeric(numbers.where(~bad), errors="coerce")
            coerced[str(column)] = count
        elif column in declared:
            if count:
                raise StewardInputError(
                    NOT_NUMERIC.format(path=path, column=column, count=count, examples=_examples(series, bad))
                )
            frame[column] = numbers
        elif count:
            present = int(series.notna().sum())
            if present - count >= MOSTLY_NUMERIC_SHARE * present:
                raise StewardInputError(
                    MOSTLY_NUMERIC.format(
                        path=path, column=column, numbers=present - count, present=present,
                        count=count, cells="cell is" if count == 1 else "cells are",
                        examples=_examples(series, bad), markers=_distinct_text(series, bad),
                    )
                )
    return coerced


def _check_target(frame: pd.DataFrame, spec: DatasetSpec, path: Path) -> None:
    target = frame[spec.target]
    missing = int(target.isna().sum())
    if missing:
        raise StewardInputError(
            TARGET_NAN.format(path=path, target=spec.target, count=missing, total=len(frame))
        )
    if spec.task == "classification" and target.nunique() < 2:
        value = target.iloc[0]
        value = value.item() if hasattr(value, "item") else value
        raise StewardInputError(SINGLE_CLASS.format(path=path, target=spec.target, value=value))


def load_dataset(path: str | Path, spec: DatasetSpec) -> LoadedDataset:
    """Load a CSV (``.csv``, ``.csv.gz``) or Parquet file and validate it against ``spec``.

    Text cells are stripped of surrounding spaces (so ``" ?"`` matches the marker ``"?"``), missing
    markers and blank cells become NaN, declared numeric columns are converted or rejected, a text
    column that is numeric but for a few cells is rejected (unless listed in ``coerce_numeric``:
    then those cells become NaN and are counted in ``coerced``), and
    duplicate rows (equal in every column, id column included) are dropped and counted; CSV files
    also get pandas' default NA strings (``NA``, ``null``, empty...). Every problem raises
    :class:`StewardInputError`. The time column is kept as read (not parsed, not sorted).
    """
    if not isinstance(spec, DatasetSpec):
        raise StewardInputError(NOT_A_SPEC.format(kind=type(spec).__name__))
    path = Path(path).expanduser().absolute()
    if not path.exists():
        raise StewardInputError(FILE_MISSING.format(path=path))
    kind = _kind_of(path)
    frame = _normalize(_read(path, kind, spec.missing_markers), path, spec.missing_markers)
    if len(frame) == 0:
        raise StewardInputError(EMPTY_FILE.format(path=path))
    frame.index = pd.RangeIndex(len(frame))
    spec.check_columns(frame, source=f"dataset file {path}")
    _check_target(frame, spec, path)
    coerced = _check_numeric(frame, spec, path)
    duplicated = frame.duplicated(keep="first")
    frame = frame.loc[~duplicated]
    resolved = spec.resolve(frame, source=f"dataset file {path}")
    return LoadedDataset(
        frame=frame,
        spec=resolved,
        source=str(path),
        digest=dataset_digest(frame),
        duplicates_dropped=int(duplicated.sum()),
        coerced=coerced,
    )
