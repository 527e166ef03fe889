"""The production history: numbering, the 5,000-character tag, the full history from run artifacts."""

from __future__ import annotations

import json

import pytest

from mlflow_steward import names
from mlflow_steward.registry import HISTORY_TAG_MAX_CHARS, full_history, read_history
from mlflow_steward.registry._history import (
    ACTION_PROMOTE,
    ACTION_ROLLBACK,
    fit_to_tag,
    new_entry,
    parse_history,
    previous_production,
    write_history,
)
from mlflow_steward.registry._records import log_history


def _chain(moves, reason="x"):
    entries = []
    for action, src, dst in moves:
        entries.append(new_entry(entries, action=action, from_version=src, to_version=dst, by="me@host",
                                 reason=reason, run_id=None))
    return entries


def test_entries_are_numbered_from_one():
    entries = _chain([(ACTION_PROMOTE, None, "1"), (ACTION_PROMOTE, "1", "2")])
    assert [e.seq for e in entries] == [1, 2]
    assert entries[0].from_version is None and entries[1].from_version == "1"
    assert parse_history(fit_to_tag(entries)) == entries


def test_tag_keeps_the_newest_entries_that_fit():
    entries = _chain([(ACTION_PROMOTE, str(i), str(i + 1)) for i in range(200)], reason="r" * 100)
    text = fit_to_tag(entries)
    assert len(text) <= HISTORY_TAG_MAX_CHARS == 5000
    kept = parse_history(text)
    assert kept[-1] == entries[-1]
    assert [e.seq for e in kept] == list(range(kept[0].seq, 201))
    assert kept[0].seq > 1


def test_reason_is_capped():
    (entry,) = _chain([(ACTION_PROMOTE, None, "1")], reason="y" * 10_000)
    assert len(entry.reason) == 300


def test_unreadable_tag_gives_empty_history():
    assert parse_history("{not json") == []
    assert parse_history(None) == []


@pytest.mark.parametrize(
    "moves,current,expected",
    [
        ([(ACTION_PROMOTE, None, "1")], "1", None),
        ([(ACTION_PROMOTE, None, "1"), (ACTION_PROMOTE, "1", "2")], "2", "1"),
        # after a rollback 3 -> 2, the next rollback goes to 1 (no toggling back to 3)
        ([(ACTION_PROMOTE, None, "1"), (ACTION_PROMOTE, "1", "2"), (ACTION_PROMOTE, "2", "3"),
          (ACTION_ROLLBACK, "3", "2")], "2", "1"),
        ([(ACTION_PROMOTE, None, "1"), (ACTION_PROMOTE, "1", "2"), (ACTION_ROLLBACK, "2", "1")], "1", None),
    ],
)
def test_previous_production(moves, current, expected):
    version, entry = previous_production(_chain(moves), current)
    assert version == expected
    assert entry.to_version == current  # the entry that put the current version in production


def test_previous_production_of_an_unrecorded_version():
    assert previous_production(_chain([(ACTION_PROMOTE, None, "1")]), "5") == (None, None)


def test_full_history_is_completed_from_the_newest_run_artifact(mlflow_store):
    import mlflow

    client = mlflow.MlflowClient()
    client.create_registered_model("hist")
    run_id = client.create_run(mlflow.get_experiment_by_name("test").experiment_id).info.run_id
    entries = _chain([(ACTION_PROMOTE, str(i), str(i + 1)) for i in range(120)], reason="z" * 80)
    last = entries[-1]
    entries[-1] = type(last)(**{**last.to_dict(), "run_id": run_id})
    log_history(client, run_id, entries, names.ARTIFACT_GATE_HISTORY)
    write_history(client, "hist", entries)
    tagged = read_history(client, "hist")
    assert len(client.get_registered_model("hist").tags[names.TAG_HISTORY]) <= 5000
    assert tagged[0].seq > 1
    assert full_history(client, "hist") == entries
    stored = json.loads(mlflow.artifacts.load_text(f"runs:/{run_id}/{names.ARTIFACT_GATE_HISTORY}"))
    assert len(stored) == 120


def test_entries_of_the_previous_release_count_as_confirmed():
    legacy = '[{"seq": 1, "action": "promote", "from_version": null, "to_version": "1", "at": "t", "by": "b", "reason": "r", "run_id": null}]'
    (entry,) = parse_history(legacy)
    assert entry.state == "confirmed" and entry.took_effect and entry.is_move
    intent = new_entry([entry], action=ACTION_PROMOTE, from_version="1", to_version="2", by="b", reason="r",
                       run_id=None, state="intent")
    assert parse_history(fit_to_tag([entry, intent]))[-1].state == "intent"


def test_previous_production_skips_entries_that_did_not_take_effect():
    entries = _chain([(ACTION_PROMOTE, None, "1"), (ACTION_PROMOTE, "1", "2"), (ACTION_PROMOTE, "2", "3")])
    from dataclasses import replace

    entries[2] = replace(entries[2], state="not applied")
    assert previous_production(entries, "3") == (None, None)
