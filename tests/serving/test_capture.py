"""Capture storage on every sink (SQLite file, Parquet directory, PostgreSQL): records read back
exactly, reused request ids kept as attempts, windows, last N, export, labels, CLI and errors."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from mlflow_steward.exceptions import StewardInputError
from mlflow_steward.serving import (
    CAPTURE_COLUMNS,
    ModelIdentity,
    expand_features,
    export_captures,
    join_labels,
    open_sink,
    parse_capture_uri,
    read_captures,
    read_labels_file,
)
from mlflow_steward.serving import _capture_read as r
from mlflow_steward.serving import _sink_parquet, _sink_sqlite
from mlflow_steward.serving._capture import capture_rows, feature_lines, utc_timestamp
from mlflow_steward.serving._sinks import CaptureLocation

IDENTITY = ModelIdentity(name="house", version="3", model_id="m-1", run_id="run-1")
SINKS = ["sqlite", "parquet", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=SINKS)
def sink_uri(request, tmp_path) -> str:
    """A fresh capture URI of each kind."""
    if request.param == "sqlite":
        return str(tmp_path / "cap.db")
    if request.param == "parquet":
        return f"parquet:{tmp_path / 'captures'}"
    return request.getfixturevalue("make_database")("capture")


def _frame(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(n, dtype=float), "city": ["a", None, "c"][:n] + ["d"] * max(0, n - 3)})


def _write(uri, request_id: str, n: int = 3, *, moment: datetime | None = None, frame=None) -> int:
    sink = open_sink(uri)
    frame = _frame(n) if frame is None else frame
    stamp = utc_timestamp(moment) if moment else None
    try:
        return sink.write(
            [capture_rows(frame, frame.iloc[:, 0] * 10, request_id=request_id, identity=IDENTITY, timestamp=stamp)]
        )
    finally:
        sink.close()


def test_rows_round_trip_with_features_identity_and_exact_floats(sink_uri):
    frame = pd.DataFrame({"x": [0.1 + 0.2, 1 / 3, -2.5e-300], "city": ["a", None, "c"], "n": [1, 2, 3]})
    _write(sink_uri, "req-a", frame=frame)
    rows = read_captures(sink_uri)
    assert list(rows.columns[: len(CAPTURE_COLUMNS)]) == list(CAPTURE_COLUMNS)
    assert list(rows.columns[len(CAPTURE_COLUMNS) :]) == ["x", "city", "n"]
    assert rows["request_id"].tolist() == ["req-a"] * 3 and rows["row"].tolist() == [0, 1, 2]
    assert rows["attempt"].tolist() == [0, 0, 0] and set(rows["status"]) == {"answered"}
    assert rows["x"].tolist() == frame["x"].tolist()  # bit for bit: the value the model saw
    assert rows["prediction"].tolist() == (frame["x"] * 10).tolist()
    assert rows["city"].tolist()[:1] == ["a"] and rows["city"].isna().tolist() == [False, True, False]
    assert rows["n"].tolist() == [1, 2, 3]
    assert set(rows["model_name"]) == {"house"} and set(rows["model_version"]) == {"3"}
    assert set(rows["model_id"]) == {"m-1"} and set(rows["run_id"]) == {"run-1"}
    assert str(rows["ts"].dt.tz) == "UTC"
    assert rows["label"].isna().all() and rows["labelled_at"].isna().all()
    assert expand_features(rows).columns.tolist() == ["x", "city", "n"]


def _dumps_row_by_row(frame: pd.DataFrame) -> list[str]:
    """The reference: ``json.dumps`` of each row as a dict, missing values as None, numpy scalars as Python."""

    def plain(value):
        if value is None or value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and np.isnan(value):
            return None
        if isinstance(value, (pd.Timestamp, datetime)):
            return value.isoformat()
        return value

    return [json.dumps({str(k): plain(v) for k, v in zip(frame.columns, row)}, ensure_ascii=False)
            for row in frame.itertuples(index=False, name=None)]


def test_feature_lines_are_json_dumps_of_each_row_for_every_dtype():
    rng = np.random.default_rng(3)
    n = 200
    floats = rng.normal(size=n) * 10.0 ** rng.integers(-300, 300, size=n)
    floats[::7] = np.nan
    floats[1], floats[2], floats[3] = -0.0, 0.1 + 0.2, 5e-324
    frame = pd.DataFrame({
        "f64": floats,
        "f32": rng.normal(size=n).astype("float32"),
        "i64": rng.integers(-(2**62), 2**62, size=n),
        "u8": rng.integers(0, 255, size=n).astype("uint8"),
        "flag": rng.random(n) < 0.5,
        "text": pd.Series([["a", 'quo"te', "naïve ☃", "back\\slash", "50%", None][i % 6] for i in range(n)],
                          dtype="string"),
        "obj": [[1, "x", None, np.int64(4), 2.5, float("nan")][i % 6] for i in range(n)],
        "nullable": pd.array([None if i % 5 == 0 else i for i in range(n)], dtype="Int64"),
        "cat": pd.Categorical([["u", "v", None][i % 3] for i in range(n)]),
        "when": pd.to_datetime(["2026-01-01T00:00:00", None] * (n // 2)),
        "100% \"odd\" name": np.arange(n, dtype=float),
        7: np.arange(n),
    })
    lines = feature_lines(frame)
    assert lines == _dumps_row_by_row(frame)
    assert [json.loads(line)["f64"] for line in lines[:4]] == [None, -0.0, 0.1 + 0.2, 5e-324]
    assert feature_lines(frame.iloc[:, :0]) == ["{}"] * n
    assert feature_lines(frame.head(0)) == []
    with pytest.raises(ValueError):  # request validation refuses these before capture; never written as text
        feature_lines(pd.DataFrame({"x": [1.0, np.inf]}))


def test_reused_request_id_is_kept_as_the_next_attempt_and_counted(sink_uri):
    assert _write(sink_uri, "same", n=2, moment=datetime(2026, 1, 1, tzinfo=timezone.utc)) == 0
    assert _write(sink_uri, "same", n=3, moment=datetime(2026, 1, 2, tzinfo=timezone.utc)) == (
        0 if sink_uri.startswith("parquet:") else 1  # a new Parquet writer cannot know: numbered when read
    )
    rows = read_captures(sink_uri)
    assert rows[["attempt", "row"]].values.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1], [1, 2]]
    sink = open_sink(sink_uri)  # one writer, one batch with the id twice
    frame = _frame(1)
    records = [capture_rows(frame, frame["x"], request_id="twice", identity=IDENTITY) for _ in range(2)]
    assert sink.write(records) == 1
    sink.close()
    assert sorted(read_captures(sink_uri).query("request_id == 'twice'")["attempt"]) == [0, 1]


def test_classifier_rows_carry_probabilities(sink_uri):
    frame = _frame(2)
    record = capture_rows(
        frame, np.array(["no", "yes"]), request_id="q", identity=IDENTITY,
        probabilities=np.array([[0.75, 0.25], [0.5, 0.5]]), classes=np.array(["no", "yes"]),
    )  # fmt: skip
    sink = open_sink(sink_uri)
    sink.write([record])
    sink.close()
    rows = read_captures(sink_uri)
    assert rows["prediction"].tolist() == ["no", "yes"]
    assert json.loads(rows["probabilities"].iloc[0]) == {"no": 0.75, "yes": 0.25}


def test_window_since_inclusive_until_exclusive_and_last_n(sink_uri):
    for day in (1, 2, 3):
        _write(sink_uri, f"day{day}", moment=datetime(2026, 1, day, 12, tzinfo=timezone.utc))
    assert set(read_captures(sink_uri, since="2026-01-02T12:00:00Z")["request_id"]) == {"day2", "day3"}
    assert set(read_captures(sink_uri, until="2026-01-02 12:00")["request_id"]) == {"day1"}
    assert set(read_captures(sink_uri, since="2026-01-02", until="2026-01-03")["request_id"]) == {"day2"}
    window = read_captures(sink_uri, since="2026-01-02T13:00:00+02:00", until="2026-01-03")
    assert set(window["request_id"]) == {"day2"}
    assert read_captures(sink_uri, last_n=2)["request_id"].unique().tolist() == ["day2", "day3"]
    assert read_captures(sink_uri, until="2026-01-03", last_n=1)["request_id"].unique().tolist() == ["day2"]
    empty = read_captures(sink_uri, since="2027-01-01")
    assert len(empty) == 0 and list(empty.columns) == list(CAPTURE_COLUMNS)


def test_window_errors(tmp_path):
    path = tmp_path / "cap.db"
    _write(path, "x")
    with pytest.raises(StewardInputError) as info:
        read_captures(path, since="yesterday-ish")
    assert str(info.value) == r.BAD_TIME.format(name="since", value="yesterday-ish")
    with pytest.raises(StewardInputError) as info:
        read_captures(path, since="2026-02-01", until="2026-01-01")
    assert str(info.value) == r.EMPTY_WINDOW.format(name="since/until", since="2026-02-01", until="2026-01-01")
    for bad in (0, -1, 2.5, "3", True):
        with pytest.raises(StewardInputError) as info:
            read_captures(path, last_n=bad)
        assert str(info.value) == r.BAD_LAST_N.format(value=bad)


def test_missing_and_foreign_captures_are_named(tmp_path):
    with pytest.raises(StewardInputError) as info:
        read_captures(tmp_path / "nope.db")
    assert str(info.value) == r.CAPTURE_NOT_FOUND.format(path=tmp_path / "nope.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (a)").connection.commit()
    with pytest.raises(StewardInputError) as info:
        read_captures(other)
    assert str(info.value) == r.NOT_A_CAPTURE.format(path=other, error="no such table: captures")
    with pytest.raises(StewardInputError) as info:
        read_captures(tmp_path)
    assert str(info.value) == _sink_sqlite.IS_A_DIRECTORY.format(path=tmp_path)
    with pytest.raises(StewardInputError) as info:
        read_captures(f"parquet:{tmp_path / 'nope'}")
    assert str(info.value) == _sink_parquet.PARQUET_NOT_FOUND.format(path=tmp_path / "nope")
    with pytest.raises(StewardInputError) as info:
        read_captures(f"parquet:{tmp_path}")
    assert str(info.value) == _sink_parquet.NOT_A_PARQUET_CAPTURE.format(path=tmp_path, sub="captures")


def test_capture_uris():
    assert parse_capture_uri("captures.db") == CaptureLocation("sqlite", "captures.db")
    assert parse_capture_uri("sqlite:///tmp/c.db").target == "tmp/c.db"
    assert parse_capture_uri("sqlite:////tmp/c.db").target == "/tmp/c.db"
    assert parse_capture_uri("parquet:/mnt/c") == CaptureLocation("parquet", "/mnt/c")
    assert parse_capture_uri("parquet:///mnt/c") == CaptureLocation("parquet", "/mnt/c")
    assert parse_capture_uri("postgresql+psycopg2://u:secret@db/c").kind == "sql"
    assert "secret" not in parse_capture_uri("postgresql+psycopg2://u:secret@db/c").name
    with pytest.raises(StewardInputError):
        parse_capture_uri("  ")


def test_previous_release_sqlite_file_is_migrated_in_place(tmp_path):
    """A capture file of the previous release (no attempt, no status) reads, then takes new rows."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """CREATE TABLE requests (request_id TEXT PRIMARY KEY, ts TEXT NOT NULL, model_name TEXT,
                   model_version TEXT, model_id TEXT, run_id TEXT, n_rows INTEGER NOT NULL);
               CREATE INDEX requests_ts ON requests (ts);
               CREATE TABLE captures (request_id TEXT NOT NULL, row INTEGER NOT NULL, features TEXT NOT NULL,
                   prediction, probabilities TEXT, PRIMARY KEY (request_id, row));
               CREATE TABLE labels (request_id TEXT NOT NULL, row INTEGER NOT NULL, label,
                   labelled_at TEXT NOT NULL, PRIMARY KEY (request_id, row)) WITHOUT ROWID;
               INSERT INTO requests VALUES ('old-1', '2026-01-01T00:00:00.000000Z', 'house', '1', 'm', 'r', 1);
               INSERT INTO captures VALUES ('old-1', 0, '{"x": 1.5}', 15.0, NULL);"""
        )
    rows = read_captures(path)
    assert rows[["request_id", "attempt", "status", "x", "prediction"]].values.tolist() == [
        ["old-1", 0, "answered", 1.5, 15.0]
    ]
    _write(path, "old-1", n=1)
    assert read_captures(path)["attempt"].tolist() == [0, 1]


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_export_window(sink_uri, tmp_path, suffix):
    _write(sink_uri, "old", moment=datetime(2026, 1, 1, tzinfo=timezone.utc))
    _write(sink_uri, "new", n=2, moment=datetime(2026, 1, 5, tzinfo=timezone.utc))
    output = tmp_path / "out" / f"window{suffix}"
    assert export_captures(sink_uri, output, since="2026-01-03") == 2
    frame = pd.read_parquet(output) if suffix == ".parquet" else pd.read_csv(output)
    assert frame["request_id"].tolist() == ["new", "new"] and frame["row"].tolist() == [0, 1]
    assert frame["x"].tolist() == [0.0, 1.0]


def test_export_refuses_unknown_suffix(tmp_path):
    with pytest.raises(StewardInputError) as info:
        export_captures(tmp_path / "cap.db", tmp_path / "out.xlsx")
    assert str(info.value) == r.BAD_OUTPUT.format(path=tmp_path / "out.xlsx")


def test_labels_join_by_request_and_by_row(sink_uri):
    _write(sink_uri, "whole", moment=datetime(2026, 1, 1, tzinfo=timezone.utc))
    _write(sink_uri, "some", moment=datetime(2026, 1, 2, tzinfo=timezone.utc))
    labels = pd.DataFrame({"request_id": ["whole", "some", "never"], "row": [None, 1, None], "label": [5.0, 7.0, 1.0]})
    result = join_labels(sink_uri, labels)
    assert result.labels == 3 and result.labelled_rows == 4 and result.unmatched_requests == ("never",)
    assert result.summary() == "4 captured row(s) labelled from 3 label(s); 1 not captured: never"
    rows = read_captures(sink_uri).set_index(["request_id", "row"])
    assert rows.loc["whole", "label"].tolist() == [5.0, 5.0, 5.0]
    assert rows.loc[("some", 1), "label"] == 7.0
    assert rows.loc[[("some", 0), ("some", 2)], "label"].isna().all()
    assert rows.loc[("some", 1), "labelled_at"] is not pd.NaT
    # a corrected label replaces the old one; a label reaches every attempt of a reused id
    _write(sink_uri, "some", n=2, moment=datetime(2026, 1, 3, tzinfo=timezone.utc))
    result = join_labels(sink_uri, pd.DataFrame({"request_id": ["some", "some"], "row": [1, 7], "label": [8.0, 1.0]}))
    assert result.labelled_rows == 2 and result.unmatched_requests == ("some#7",)
    rows = read_captures(sink_uri)
    assert rows.query("request_id == 'some' and row == 1")["label"].tolist() == [8.0, 8.0]


def test_label_errors(tmp_path):
    path = tmp_path / "cap.db"
    _write(path, "x")
    with pytest.raises(StewardInputError) as info:
        join_labels(path, pd.DataFrame({"request": ["x"], "y": [1]}))
    assert str(info.value) == r.LABELS_MISSING_COLUMNS.format(missing="'request_id', 'label'")
    with pytest.raises(StewardInputError) as info:
        join_labels(path, pd.DataFrame({"request_id": ["x"], "row": [1.5], "label": [1]}))
    assert str(info.value) == r.LABELS_BAD_ROW.format(value=1.5)
    with pytest.raises(StewardInputError) as info:
        read_labels_file(tmp_path / "labels.json")
    assert str(info.value) == r.LABELS_NOT_FOUND.format(path=tmp_path / "labels.json")
    (tmp_path / "labels.json").write_text("{}")
    with pytest.raises(StewardInputError) as info:
        read_labels_file(tmp_path / "labels.json")
    assert str(info.value) == r.BAD_LABELS_FILE.format(path=tmp_path / "labels.json")


_HAMMER = """
import sys, threading
import numpy as np, pandas as pd
from mlflow_steward.serving import CaptureQueue, ModelIdentity, open_sink
from mlflow_steward.serving._capture import PendingCapture, utc_timestamp
uri, worker, n_requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
queue = CaptureQueue(open_sink(uri, batch_wait_s=0.2))
refused = []
def body(thread):
    for i in range(n_requests):
        n = 1 + (i % 5)
        frame = pd.DataFrame({"x": np.arange(n, dtype=float)})
        pending = PendingCapture(frame=frame, predictions=frame["x"], request_id=f"{worker}-{thread}-{i}",
                                 identity=ModelIdentity(), timestamp=utc_timestamp())
        if not queue.submit(pending):
            refused.append(i)
threads = [threading.Thread(target=body, args=(t,)) for t in range(3)]
[t.start() for t in threads]
[t.join() for t in threads]
stats = queue.close(timeout=60)
sys.exit(1 if refused or stats.unwritten_rows else 0)
"""


def test_processes_and_threads_write_every_row_once(sink_uri):
    n_requests, n_workers = 60, 3
    workers = [
        subprocess.Popen([sys.executable, "-c", _HAMMER, sink_uri, str(w), str(n_requests)]) for w in range(n_workers)
    ]
    assert [w.wait(180) for w in workers] == [0] * n_workers
    rows = read_captures(sink_uri)
    expected = n_workers * 3 * sum(1 + (i % 5) for i in range(n_requests))
    assert len(rows) == expected
    assert not rows.duplicated(["request_id", "attempt", "row"]).any()
    assert rows["request_id"].nunique() == n_workers * 3 * n_requests and (rows["attempt"] == 0).all()


def _cli():
    from mlflow_steward.cli._main import main

    return main


def test_cli_export_and_label(sink_uri, tmp_path, monkeypatch):
    from click.testing import CliRunner

    _write(sink_uri, "req-1", n=2, moment=datetime(2026, 3, 1, tzinfo=timezone.utc))
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"request_id": ["req-1"], "label": [3.5]}).to_csv(labels, index=False)
    runner = CliRunner()
    result = runner.invoke(_cli(), ["capture", "label", "--path", sink_uri, "--labels", str(labels)])
    assert result.exit_code == 0, result.output
    assert "2 captured row(s) labelled from 1 label(s)" in result.output
    monkeypatch.setenv("STEWARD_CAPTURE_PATH", sink_uri)  # --path defaults to the server's variable
    output = tmp_path / "march.parquet"
    result = runner.invoke(
        _cli(), ["capture", "export", "--since", "2026-03-01", "--until", "2026-04-01", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote 2 captured row(s) to {output}" in result.output
    assert pd.read_parquet(output)["label"].tolist() == [3.5, 3.5]
    result = runner.invoke(_cli(), ["capture", "export", "--last", "1", "--output", str(tmp_path / "last.csv")])
    assert result.exit_code == 0 and "wrote 2 captured row(s)" in result.output


def test_cli_errors_are_one_line_exit_2(tmp_path):
    from click.testing import CliRunner

    result = CliRunner().invoke(
        _cli(), ["capture", "export", "--path", str(tmp_path / "none.db"), "--output", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2
    assert r.CAPTURE_NOT_FOUND.format(path=tmp_path / "none.db") in result.output
    assert "Traceback" not in result.output
