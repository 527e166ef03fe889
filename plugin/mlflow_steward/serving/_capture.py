"""Inference capture, the records: what one scored request adds, whatever sink stores it.

A predict call hands a :class:`PendingCapture` (references to the validated frame the model saw and
its predictions, the request id, the time, whether the scoring server had already given up on the
request) to the capture queue; the queue's writer thread turns it into a :class:`CapturedRequest`
(:func:`capture_rows`) off the request path and a sink stores it.

A captured request has request-level values (request id, attempt, time, status, model identity,
row count) and one row per scored row (position in the request, the input row as JSON text, the
prediction, the class probabilities as JSON text). Features are written with :func:`json.dumps`,
whose float text reads back to the identical float: the capture holds the value the model saw.
Non-finite numbers never get here: request validation refuses them.

``attempt`` tells apart requests that reuse a request id: 0 for the first, 1 for the next, and so
on (assigned by the sink when it writes, or when it is read for Parquet; see the sinks). ``status``
is :data:`STATUS_ANSWERED`, or :data:`STATUS_TIMED_OUT` when the prediction was ready only after the
scoring server's request timeout (the client got HTTP 504, see ``_compat.mlflow.scoring_server``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
STATUS_ANSWERED = "answered"
STATUS_TIMED_OUT = "timed_out"
STATUSES = (STATUS_ANSWERED, STATUS_TIMED_OUT)

#: Request-level values, in storage order (after ``request_id`` and ``attempt``).
REQUEST_FIELDS = ("ts", "status", "model_name", "model_version", "model_id", "run_id", "n_rows")
#: Row-level values, in storage order (after ``request_id`` and ``attempt``).
ROW_FIELDS = ("row", "features", "prediction", "probabilities")

#: What :func:`~mlflow_steward.serving.read_captures` returns, in this order, before the feature
#: columns (one per model input column, as the model saw it).
CAPTURE_COLUMNS = (
    "request_id", "attempt", "row", "ts", "status", "model_name", "model_version", "model_id", "run_id",
    "prediction", "probabilities", "label", "labelled_at",
)  # fmt: skip
#: A feature whose name is one of :data:`CAPTURE_COLUMNS` is returned as ``feature:<name>``.
FEATURE_PREFIX = "feature:"


@dataclass(frozen=True)
class ModelIdentity:
    """What a captured row says about the model that scored it."""

    name: str | None = None
    version: str | None = None
    model_id: str | None = None
    run_id: str | None = None


def utc_timestamp(moment: datetime | None = None) -> str:
    """``2026-01-31T12:00:00.000000Z``: fixed-width UTC text, so text order is time order."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


@dataclass(frozen=True)
class CapturedRequest:
    """One request as a sink stores it: request-level values and one tuple per scored row.

    ``request`` is ``(request_id, ts, status, model_name, model_version, model_id, run_id, n_rows)``;
    each of ``rows`` is ``(row, features_json, prediction, probabilities_json)``. The attempt is
    not here: the sink assigns it.
    """

    request_id: str
    request: tuple
    rows: list[tuple]

    @property
    def ts(self) -> str:
        return self.request[1]

    @property
    def n_rows(self) -> int:
        return len(self.rows)


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    return str(value)


def _clean(value: Any) -> Any:
    """Missing (NaN, NaT, pd.NA) -> None; numpy scalars -> Python; everything else as is."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


_DUMPS = json.JSONEncoder(default=_json_default, allow_nan=False, ensure_ascii=False).encode
_TEXT = json.encoder.encode_basestring  # what ``_DUMPS`` writes for a str (C version when available)


def _value_texts(column: pd.Series) -> list[str]:
    """The JSON text ``_DUMPS`` writes for each value of one column (missing as ``null``).

    Done a column at a time for the common dtypes (floats: ``float.__repr__``, what ``json`` writes;
    ints; bools; strings), since per-value cleaning and per-row encoding were most of capture's cost
    (issue 14's serving benchmark); anything else goes value by value through ``_clean`` and ``_DUMPS``.
    """
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        values = column.to_numpy()
        if dtype.kind == "b":
            return ["true" if v else "false" for v in values.tolist()]
        if dtype.kind in "iu":
            return list(map(int.__repr__, values.tolist()))
        missing = np.isnan(values)
        if np.isinf(values).any():  # refused by request validation; _DUMPS raises, as it always did
            return [_DUMPS(_clean(v)) for v in values.tolist()]
        texts = list(map(float.__repr__, values.tolist()))
        for i in np.flatnonzero(missing).tolist():
            texts[i] = "null"
        return texts
    return [_TEXT(v) if type(v) is str else _DUMPS(_clean(v)) for v in column.tolist()]


def feature_lines(frame: pd.DataFrame) -> list[str]:
    """One JSON object per row, column order kept; floats exact (``repr`` text), missing as null.

    Each line is exactly ``json.dumps({name: value, ...}, ensure_ascii=False)`` of the row's cleaned
    values, assembled from per-column value texts and one row template.
    """
    names = [str(c) for c in frame.columns]
    if not names:
        return ["{}"] * len(frame)
    if len(set(names)) < len(names):  # a dict keeps one value per name: the row-by-row way
        columns = [[_clean(v) for v in frame.iloc[:, i].tolist()] for i in range(len(names))]
        return [_DUMPS(dict(zip(names, values))) for values in zip(*columns)]
    template = "{" + ", ".join(_TEXT(name).replace("%", "%%") + ": %s" for name in names) + "}"
    columns = [_value_texts(frame.iloc[:, i]) for i in range(len(names))]
    return [template % values for values in zip(*columns)]


def _prediction_values(predictions: Any, n_rows: int) -> list[Any]:
    values = np.asarray(predictions)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim == 1:
        return [_clean(v) for v in values.tolist()]
    return [json.dumps(v, default=_json_default) for v in values.reshape(n_rows, -1).tolist()]


def _probability_lines(probabilities: Any, classes: Any) -> list[str]:
    array = np.asarray(probabilities, dtype="float64")
    labels = [str(c) for c in (classes if classes is not None else range(array.shape[1]))]
    return [json.dumps(dict(zip(labels, row))) for row in array.tolist()]


@dataclass
class PendingCapture:
    """What a predict call hands to the capture queue: references only, no copying on the request path.

    ``probabilities`` may be a callable, evaluated by the writer thread (a classifier's
    ``predict_proba`` then costs the request nothing).
    """

    frame: pd.DataFrame
    predictions: Any
    request_id: str
    identity: ModelIdentity
    timestamp: str
    status: str = STATUS_ANSWERED
    probabilities: Any = None
    classes: Any = None
    n_rows: int = field(init=False)

    def __post_init__(self) -> None:
        self.n_rows = len(self.frame)

    def build(self) -> CapturedRequest:
        probabilities = self.probabilities() if callable(self.probabilities) else self.probabilities
        return capture_rows(
            self.frame, self.predictions, request_id=self.request_id, identity=self.identity,
            probabilities=probabilities, classes=self.classes, timestamp=self.timestamp, status=self.status,
        )  # fmt: skip


def capture_rows(
    frame: pd.DataFrame,
    predictions: Any,
    *,
    request_id: str,
    identity: ModelIdentity,
    probabilities: Any = None,
    classes: Any = None,
    timestamp: str | None = None,
    status: str = STATUS_ANSWERED,
) -> CapturedRequest:
    """The records one request adds (features as exact JSON text, one line per row)."""
    n_rows = len(frame)
    features = feature_lines(frame)
    values = _prediction_values(predictions, n_rows)
    probs: Any = repeat(None, n_rows) if probabilities is None else _probability_lines(probabilities, classes)
    request = (
        request_id, timestamp or utc_timestamp(), status, identity.name, identity.version,
        identity.model_id, identity.run_id, n_rows,
    )  # fmt: skip
    rows = list(zip(range(n_rows), features, values, probs))
    return CapturedRequest(request_id=request_id, request=request, rows=rows)
