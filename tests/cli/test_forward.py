"""The MLproject scripts forward to the CLI, treating ``--name ""`` as not given."""

from __future__ import annotations

import importlib.util
from pathlib import Path

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


def _forward_module():
    spec = importlib.util.spec_from_file_location("_forward", PIPELINES / "_forward.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_empty_options_are_dropped_and_others_kept():
    drop = _forward_module().drop_empty_options
    argv = ["--data", "", "--target", "y", "--families", "", "--n-trials", "5", "--flag"]
    assert drop(argv) == ["--target", "y", "--n-trials", "5", "--flag"]
