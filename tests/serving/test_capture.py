"""Capture storage: concurrent writers, time windows, export, labels joined later, and their errors."""

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
    CaptureWriter,
    ModelIdentity,
    expand_features,
    export_captures,
    join_labels,
    read_captures,
    read_labels_file,
)
from mlflow_steward.serving import _capture_read as r
from mlflow_steward.serving._capture import capture_rows, utc_timestamp

IDENTITY = ModelIdentity(name="house", version="3", model_id="m-1", run_id="run-1")


def _frame(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(n, dtype=float), "city": ["a", None, "c"][:n] + ["d"] * max(0, n - 3)})


def _write(path, request_id: str, n: int = 3, *, moment: datetime | None = None) -> None:
    writer = CaptureWriter(path)
    frame = _frame(n)
    stamp = utc_timestamp(moment) if moment else None
    writer.write(capture_rows(frame, frame["x"] * 10, request_id=request_id, identity=IDENTITY, timestamp=stamp))
    writer.close()


def test_rows_round_trip_with_features_and_identity(tmp_path):
    path = tmp_path / "cap.db"
    _write(path, "req-a")
    rows = read_captures(path)
    assert rows["request_id"].tolist() == ["req-a"] * 3 and rows["row"].tolist() == [0, 1, 2]
    assert rows["prediction"].tolist() == [0.0, 10.0, 20.0]
    assert set(rows["model_name"]) == {"house"} and set(rows["model_version"]) == {"3"}
    assert json.loads(rows["features"].iloc[1]) == {"x": 1.0, "city": None}
    features = expand_features(rows)
    assert features["x"].tolist() == [0.0, 1.0, 2.0] and features["city"].iloc[2] == "c"
    assert rows["label"].isna().all()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_classifier_rows_carry_probabilities():
    frame = _frame(2)
    rows = capture_rows(
        frame, np.array(["no", "yes"]), request_id="q", identity=IDENTITY,
        probabilities=np.array([[0.75, 0.25], [0.5, 0.5]]), classes=np.array(["no", "yes"]),
    )  # fmt: skip
    assert [row[3] for row in rows.rows] == ["no", "yes"]
    assert json.loads(rows.rows[0][4]) == {"no": 0.75, "yes": 0.25}
    assert rows.request[0] == "q" and rows.request[-1] == 2


def test_duplicate_request_is_refused_whole(tmp_path):
    path = tmp_path / "cap.db"
    _write(path, "same")
    writer = CaptureWriter(path)
    assert writer.record(_frame(4), np.zeros(4), request_id="same", identity=IDENTITY) is False
    assert len(read_captures(path)) == 3  # the 4-row request was rolled back, not half-written
    assert writer.failures == 1


_HAMMER = """
import sys, threading
import numpy as np, pandas as pd
from mlflow_steward.serving import CaptureWriter, ModelIdentity
path, worker, n_requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
writer = CaptureWriter(path)
failed = []
def body(thread):
    for i in range(n_requests):
        n = 1 + (i % 5)
        frame = pd.DataFrame({"x": np.arange(n, dtype=float)})
        if not writer.record(frame, frame["x"], request_id=f"{worker}-{thread}-{i}", identity=ModelIdentity()):
            failed.append(i)
threads = [threading.Thread(target=body, args=(t,)) for t in range(3)]
[t.start() for t in threads]
[t.join() for t in threads]
sys.exit(1 if failed else 0)
"""


def test_processes_and_threads_write_every_row_once(tmp_path):
    path = str(tmp_path / "cap.db")
    n_requests, n_workers = 100, 3
    workers = [
        subprocess.Popen([sys.executable, "-c", _HAMMER, path, str(w), str(n_requests)]) for w in range(n_workers)
    ]
    assert [w.wait(120) for w in workers] == [0] * n_workers
    rows = read_captures(path)
    expected = n_workers * 3 * sum(1 + (i % 5) for i in range(n_requests))
    assert len(rows) == expected
    assert not rows.duplicated(["request_id", "row"]).any()
    assert rows["request_id"].nunique() == n_workers * 3 * n_requests


def test_window_since_inclusive_until_exclusive(tmp_path):
    path = tmp_path / "cap.db"
    for day in (1, 2, 3):
        _write(path, f"day{day}", moment=datetime(2026, 1, day, 12, tzinfo=timezone.utc))
    assert set(read_captures(path, since="2026-01-02T12:00:00Z")["request_id"]) == {"day2", "day3"}
    assert set(read_captures(path, until="2026-01-02 12:00")["request_id"]) == {"day1"}
    window = read_captures(path, since="2026-01-02", until="2026-01-03")
    assert set(window["request_id"]) == {"day2"}
    assert set(read_captures(path, since="2026-01-02T13:00:00+02:00", until="2026-01-03")["request_id"]) == {"day2"}


def test_window_errors(tmp_path):
    path = tmp_path / "cap.db"
    _write(path, "x")
    with pytest.raises(StewardInputError) as info:
        read_captures(path, since="yesterday-ish")
    assert str(info.value) == r.BAD_TIME.format(name="since", value="yesterday-ish")
    with pytest.raises(StewardInputError) as info:
        read_captures(path, since="2026-02-01", until="2026-01-01")
    assert str(info.value) == r.EMPTY_WINDOW.format(name="since/until", since="2026-02-01", until="2026-01-01")


def test_missing_and_foreign_databases_are_named(tmp_path):
    with pytest.raises(StewardInputError) as info:
        read_captures(tmp_path / "nope.db")
    assert str(info.value) == r.CAPTURE_NOT_FOUND.format(path=tmp_path / "nope.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (a)").connection.commit()
    with pytest.raises(StewardInputError) as info:
        read_captures(other)
    assert str(info.value) == r.NOT_A_CAPTURE.format(path=other, error="no such table: captures")


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_export_window(tmp_path, suffix):
    path = tmp_path / "cap.db"
    _write(path, "old", moment=datetime(2026, 1, 1, tzinfo=timezone.utc))
    _write(path, "new", n=2, moment=datetime(2026, 1, 5, tzinfo=timezone.utc))
    output = tmp_path / "out" / f"window{suffix}"
    assert export_captures(path, output, since="2026-01-03") == 2
    frame = pd.read_parquet(output) if suffix == ".parquet" else pd.read_csv(output)
    assert frame["request_id"].tolist() == ["new", "new"] and frame["row"].tolist() == [0, 1]


def test_export_refuses_unknown_suffix(tmp_path):
    with pytest.raises(StewardInputError) as info:
        export_captures(tmp_path / "cap.db", tmp_path / "out.xlsx")
    assert str(info.value) == r.BAD_OUTPUT.format(path=tmp_path / "out.xlsx")


def test_labels_join_by_request_and_by_row(tmp_path):
    path = tmp_path / "cap.db"
    _write(path, "whole")
    _write(path, "some")
    labels = pd.DataFrame({"request_id": ["whole", "some", "never"], "row": [None, 1, None], "label": [5.0, 7.0, 1.0]})
    result = join_labels(path, labels)
    assert result.labels == 3 and result.labelled_rows == 4 and result.unmatched_requests == ("never",)
    assert result.summary() == "4 captured row(s) labelled from 3 label(s); 1 not captured: never"
    rows = read_captures(path).set_index(["request_id", "row"])
    assert rows.loc["whole", "label"].tolist() == [5.0, 5.0, 5.0]
    assert rows.loc[("some", 1), "label"] == 7.0
    assert rows.loc[[("some", 0), ("some", 2)], "label"].isna().all()
    # a corrected label replaces the old one
    join_labels(path, pd.DataFrame({"request_id": ["some"], "row": [1], "label": [8.0]}))
    assert read_captures(path).set_index(["request_id", "row"]).loc[("some", 1), "label"] == 8.0


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


def _cli():
    """The ``steward`` group with ``capture`` attached (the lead registers it in cli/_main.py)."""
    from mlflow_steward.cli._capture import capture
    from mlflow_steward.cli._main import main

    if "capture" not in main.commands:
        main.add_command(capture)
    return main


def test_cli_export_and_label(tmp_path, monkeypatch):
    from click.testing import CliRunner

    path = tmp_path / "cap.db"
    _write(path, "req-1", n=2, moment=datetime(2026, 3, 1, tzinfo=timezone.utc))
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"request_id": ["req-1"], "label": [3.5]}).to_csv(labels, index=False)
    runner = CliRunner()
    result = runner.invoke(_cli(), ["capture", "label", "--path", str(path), "--labels", str(labels)])
    assert result.exit_code == 0, result.output
    assert "2 captured row(s) labelled from 1 label(s)" in result.output
    monkeypatch.setenv("STEWARD_CAPTURE_PATH", str(path))  # --path defaults to the server's variable
    output = tmp_path / "march.parquet"
    result = runner.invoke(
        _cli(), ["capture", "export", "--since", "2026-03-01", "--until", "2026-04-01", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote 2 captured row(s) to {output}" in result.output
    assert pd.read_parquet(output)["label"].tolist() == [3.5, 3.5]


def test_cli_errors_are_one_line_exit_2(tmp_path):
    from click.testing import CliRunner

    result = CliRunner().invoke(
        _cli(), ["capture", "export", "--path", str(tmp_path / "none.db"), "--output", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2
    assert r.CAPTURE_NOT_FOUND.format(path=tmp_path / "none.db") in result.output
    assert "Traceback" not in result.output
