"""The one number formatter (``mlflow_steward._format``), used by the registry, ensembles and the CLI."""

from __future__ import annotations

import math

import pytest

from mlflow_steward import _format
from mlflow_steward._format import fmt, fmt_interval, fmt_p


@pytest.mark.parametrize(
    ("value", "signed", "text"),
    [
        (49123.4, False, "49,123"),
        (-49123.4, False, "-49,123"),
        (1000, True, "+1,000"),
        (0.812345, False, "0.8123"),
        (-0.5, True, "-0.5"),
        (0.5, True, "+0.5"),
        (0, True, "0"),
        (None, False, "–"),
        (math.inf, False, "inf"),
    ],
)
def test_fmt(value, signed, text):
    assert fmt(value, signed=signed) == text


def test_interval_and_p():
    assert fmt_interval(49100, 48200, 50100) == "49,100 [48,200, 50,100]"
    assert fmt_interval(0.8, None, 0.9) == "0.8"
    assert (fmt_p(0.0004), fmt_p(0.04567), fmt_p(None)) == ("<0.001", "0.046", "–")


def test_every_caller_uses_the_same_function():
    from mlflow_steward.cli import _summary
    from mlflow_steward.ensemble import _compare
    from mlflow_steward.registry import _format as registry_format

    assert _summary.fmt is _compare.fmt is registry_format.fmt is _format.fmt
