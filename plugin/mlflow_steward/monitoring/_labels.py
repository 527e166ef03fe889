"""Labels that arrive after the predictions, joined to captured rows by request id.

Where labels come from: the capture store itself (``steward capture label`` stored them beside
the rows), and/or a labels source given to ``steward monitor --labels``: a CSV or Parquet file, or
a SQL table (a SQLAlchemy URL and ``--labels-table``). A source has the columns ``request_id``,
``label`` and optionally ``row`` (the position in the request; empty = every row of the request).
A label of the source wins over one stored in the capture.

Every label is read once, before any window is checked: a request id (or request row) labelled
twice is refused with an error naming it; labels of request ids that no checked window captured
are counted and reported (they may belong to requests outside the windows, or to none).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlflow_steward.exceptions import StewardInputError

DUPLICATE_LABEL = (
    "labels {source}: request id {request_id!r}{row} is labelled {count} times; give each request "
    "(or request row) one label"
)
MIXED_LABEL = (
    "labels {source}: request id {request_id!r} has a label for the whole request and labels for single "
    "rows; give one or the other"
)
MISSING_COLUMNS = "labels {source}: missing column(s) {missing}; expected request_id, label and optionally row"
BAD_ROW = "labels {source}: column 'row' must hold whole numbers >= 0 (or be empty for a whole request), got {value!r}"
NOT_NUMERIC = "labels {source}: the label of request id {request_id!r} is {value!r}, not a number (regression target)"
TABLE_NEEDS_URL = "--labels-table names a table of a database: give --labels a SQLAlchemy URL (e.g. sqlite:///labels.db)"
URL_NEEDS_TABLE = "labels {source}: a database URL needs --labels-table (the table holding request_id, label[, row])"
UNREADABLE = "labels {source}: cannot read table {table!r}: {error}"
FILE_NOT_FOUND = "labels file {path} does not exist"
BAD_FILE_TYPE = "labels file {path}: unsupported file type; use .csv, .csv.gz or .parquet (or a database URL with --labels-table)"


@dataclass(frozen=True)
class Labels:
    """Labels of a source, checked: one per request (``row`` None) or per request row."""

    source: str
    frame: pd.DataFrame  # request_id (str), row (Int64, <NA> = whole request), label

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def request_ids(self) -> set[str]:
        return set(self.frame["request_id"])


def _is_url(text: str) -> bool:
    return "://" in text


def read_labels(source: str | Path | pd.DataFrame, *, table: str | None = None) -> Labels:
    """Read and check labels (see the module docstring); a DataFrame is checked as given."""
    if isinstance(source, pd.DataFrame):
        return check_labels(source, "frame")
    text = str(source)
    if table and not _is_url(text):
        raise StewardInputError(TABLE_NEEDS_URL)
    if _is_url(text):
        if not table:
            raise StewardInputError(URL_NEEDS_TABLE.format(source=_hide_password(text)))
        return check_labels(_read_table(text, table), f"{_hide_password(text)} table {table}")
    path = Path(text)
    if not path.is_file():
        raise StewardInputError(FILE_NOT_FOUND.format(path=path))
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        frame = pd.read_csv(path, dtype={"request_id": str})
    elif name.endswith((".parquet", ".pq")):
        frame = pd.read_parquet(path)
    else:
        raise StewardInputError(BAD_FILE_TYPE.format(path=path))
    return check_labels(frame, str(path))


def _hide_password(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: say it as given, minus anything after '@'
        return url.split("@")[-1]


def _read_table(url: str, table: str) -> pd.DataFrame:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.connect() as connection:
                return pd.read_sql_table(table, connection)
        finally:
            engine.dispose()
    except (sqlalchemy.exc.SQLAlchemyError, ValueError, ImportError) as exc:
        error = str(exc).splitlines()[0][:300]
        raise StewardInputError(UNREADABLE.format(source=_hide_password(url), table=table, error=error)) from None


def _rows(values: pd.Series, source: str) -> pd.Series:
    out = []
    for value in values.tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            out.append(pd.NA)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not number.is_integer() or number < 0:
            raise StewardInputError(BAD_ROW.format(source=source, value=value))
        out.append(int(number))
    return pd.Series(out, index=values.index, dtype="Int64")


def check_labels(frame: pd.DataFrame, source: str) -> Labels:
    """Columns present, rows whole numbers, no request (row) labelled twice; unlabelled rows dropped."""
    missing = [c for c in ("request_id", "label") if c not in frame.columns]
    if missing:
        raise StewardInputError(MISSING_COLUMNS.format(source=source, missing=", ".join(repr(c) for c in missing)))
    out = pd.DataFrame({
        "request_id": frame["request_id"].astype(str),
        "row": _rows(frame["row"], source) if "row" in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="Int64"),
        "label": frame["label"],
    })  # fmt: skip
    out = out[out["label"].notna()].reset_index(drop=True)
    keys = out["request_id"] + "#" + out["row"].astype("string").fillna("*")
    counts = keys.value_counts()
    if len(counts) and counts.iloc[0] > 1:
        request_id, _, row = counts.index[0].rpartition("#")
        raise StewardInputError(DUPLICATE_LABEL.format(source=source, request_id=request_id, count=int(counts.iloc[0]),
                                                        row="" if row == "*" else f" (row {row})"))  # fmt: skip
    whole = set(out.loc[out["row"].isna(), "request_id"])
    mixed = whole & set(out.loc[out["row"].notna(), "request_id"])
    if mixed:
        raise StewardInputError(MIXED_LABEL.format(source=source, request_id=sorted(mixed)[0]))
    return Labels(source=source, frame=out)


@dataclass(frozen=True)
class WindowLabels:
    """The labels of a window's captured rows: ``values`` (one per captured row, NaN/None where
    unlabelled) and which label-source request ids it matched."""

    values: pd.Series
    matched: frozenset[str]

    @property
    def labelled(self) -> np.ndarray:
        return self.values.notna().to_numpy()

    @property
    def count(self) -> int:
        return int(self.values.notna().sum())


def window_labels(captures: pd.DataFrame, labels: Labels | None) -> WindowLabels:
    """Labels of ``captures`` (rows of :func:`serving.read_captures`): stored labels, then ``labels``
    on top (a label applies to every attempt of a reused request id)."""
    stored = captures["label"] if "label" in captures.columns else pd.Series(None, index=captures.index, dtype=object)
    values = stored.astype(object).where(stored.notna(), None)
    matched: set[str] = set()
    if labels is not None and len(labels) and len(captures):
        ids = captures["request_id"].astype(str)
        rows = captures["row"].astype("int64")
        frame = labels.frame
        whole = frame[frame["row"].isna()]
        if len(whole):
            lookup = dict(zip(whole["request_id"], whole["label"]))
            hit = ids.map(lambda i: i in lookup)
            values = values.where(~hit, ids.map(lookup))
            matched |= set(ids[hit])
        single = frame[frame["row"].notna()]
        if len(single):
            lookup = {(r, int(n)): v for r, n, v in zip(single["request_id"], single["row"], single["label"])}
            keys = list(zip(ids, rows))
            hit = pd.Series([k in lookup for k in keys], index=captures.index)
            values = values.where(~hit, pd.Series([lookup.get(k) for k in keys], index=captures.index))
            matched |= set(ids[hit])
    return WindowLabels(values=values, matched=frozenset(matched))


def numeric_labels(values: pd.Series, request_ids: pd.Series, source: str) -> np.ndarray:
    """Regression labels as floats (NaN where unlabelled); a text label is an error naming its request."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & numbers.isna()
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        raise StewardInputError(NOT_NUMERIC.format(source=source, request_id=str(request_ids.iloc[first]),
                                                   value=values.iloc[first]))  # fmt: skip
    return numbers.to_numpy(dtype="float64")


def unmatched_ids(labels: Labels | None, matched: set[str]) -> list[str]:
    """Request ids of the source that no checked window captured, sorted."""
    if labels is None:
        return []
    return sorted(labels.request_ids - matched)


def labels_digest(request_ids: pd.Series, rows: pd.Series, values: pd.Series) -> str:
    """A short hash of a window's labelled rows (which rows, which labels): a window is checked again
    when it changes (late labels)."""
    import hashlib

    mask = values.notna()
    if not mask.any():
        return "none"
    text = pd.DataFrame({"i": request_ids[mask].astype(str), "r": rows[mask].astype(str),
                         "v": values[mask].astype(str)}).sort_values(["i", "r"]).to_csv(index=False)  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def as_text(value: Any) -> str:
    """A label or a class as the text both sides compare by (``1`` and ``1.0`` are the same class)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (np.generic,)):
        value = value.item()
    return str(value)
