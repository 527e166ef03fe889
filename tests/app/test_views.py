"""Views on hand-made records (data that lands later: monitor windows, dataset versions), the chart
helper, number formats, the monitor-run reader and the configuration."""

from __future__ import annotations

import re

import pytest

from mlflow_steward.app import (
    AppConfig,
    DatasetPage,
    DatasetVersion,
    ModelPage,
    MonitorWindow,
    Move,
    Point,
    PointerMove,
    VersionRow,
    render_dataset,
    render_model,
)
from mlflow_steward.app import _svg as svg
from mlflow_steward.app._html import Links, interval
from mlflow_steward.app._registry_source import parse_metric_text
from mlflow_steward.exceptions import StewardInputError

T0 = 1_780_000_000.0


def _windows(n: int = 4) -> tuple[MonitorWindow, ...]:
    return tuple(
        MonitorWindow(
            run_id=f"r{i}", experiment_id="7", version="2", start=T0 + 3600 * (i - 1), end=T0 + 3600 * i,
            state="drift" if i == n - 1 else "healthy",
            drift={("median_income", "psi"): Point(0.3 if i == n - 1 else 0.02, 0.01, 0.4, alarm=i == n - 1),
                   ("age", "psi"): Point(0.01, 0.0, 0.02)},
            live={"rmse": Point(50_000 + i, 48_000, 52_000)}, labels=250,
        )
        for i in range(n)
    )


def _page(**changes) -> ModelPage:
    base = dict(
        name="housing", task="regression", key_metric="rmse", production="2", staging=None,
        versions=(VersionRow("2", ("production",), "passed", {"rmse": "49,100 [48,200, 50,100]"}, "2026-11-01T00:00:00+00:00", "run2", "abc"),
                  VersionRow("1", (), "passed", {"rmse": "51,000 [50,000, 52,000]"}, "2026-10-01T00:00:00+00:00", "run1", "abc")),
        moves=(Move(1, "promote", None, "1", "2026-10-01T00:00:00+00:00", "ann@host", "first", "g1"),
               Move(2, "promote", "1", "2", "2026-11-01T00:00:00+00:00", "ann@host", "better", "g2"),
               Move(3, "rollback", "2", "1", "2026-11-02T00:00:00+00:00", "bob@host", "bad <launch>", "r3")),
        gates=(), gate_details=(), windows=(), datasets=(), notes=(),
        test_values={"rmse": Point(49_100, 48_200, 50_100)},
    )
    base.update(changes)
    return ModelPage(**base)


def test_empty_monitoring_and_datasets_say_so():
    html = render_model(_page(), Links())
    assert "no monitor runs yet" in html and "no dataset versions yet" in html and "no gate decisions yet" in html


def test_history_in_order_escaped_with_a_step_chart():
    html = render_model(_page(), Links())
    assert re.findall(r'data-seq="(\d+)" data-action="(\w+)"', html) == [("1", "promote"), ("2", "promote"), ("3", "rollback")]
    assert "bad &lt;launch&gt;" in html and "<launch>" not in html
    assert "production version over time" in html and 'class="point alarm"' in html  # the rollback point


def test_monitor_windows_draw_live_and_drift_charts():
    html = render_model(_page(windows=_windows()), Links())
    assert "live rmse with interval" in html and "test 49,100" in html  # test value as the reference line
    assert "median_income: psi" in html and "age: psi" in html
    assert html.count('class="chart"') == 1 + 1 + 2  # production steps, live rmse, two drift columns
    assert "median_income/psi" in html  # the alarm, in the windows table
    assert 'href="/#/experiments/7/runs/r3"' in html


def test_dataset_versions_render_once_recorded():
    versions = (
        DatasetVersion("housing", "v2", 20_640, "2026-11-02T00:00:00+00:00", "accepted", "f" * 64, "v1", True, "d2", "3"),
        DatasetVersion("housing", "v1", 13_760, "2026-11-01T00:00:00+00:00", "accepted", "e" * 64, None, False, "d1", "3"),
    )
    html = render_model(_page(datasets=versions), Links(prefix="/mlflow"))
    assert "no dataset versions yet" not in html and "20,640" in html
    assert 'href="/mlflow/steward/datasets/housing"' in html
    page = DatasetPage("housing", versions, (PointerMove(1, "add", None, "v1", "2026-11-01T00:00:00+00:00", "ann", "batch 1"),))
    assert page.current.version == "v2"
    rendered = render_dataset(page, Links())
    assert "13,760" in rendered and 'data-seq="1"' in rendered
    assert "no dataset versions yet" in render_dataset(DatasetPage("x", (), ()), Links())


def test_links_quote_names_and_use_the_static_prefix():
    links = Links(prefix="/mlflow")
    assert links.model("my model/a") == "/mlflow/steward/models/my%20model%2Fa"
    assert links.mlflow_version("my model", "3") == "/mlflow/#/models/my%20model/versions/3"
    assert links.mlflow_run("abc") == "/mlflow/#/runs/abc"


@pytest.mark.parametrize(
    "text, expected",
    [("49,100 [48,200, 50,100]", (49100.0, 48200.0, 50100.0)), ("0.8123 [0.8011, 0.8234]", (0.8123, 0.8011, 0.8234)),
     ("-1.5e-05", (-1.5e-05, None, None)), ("1,234,567 [-inf, inf]", (1234567.0, float("-inf"), float("inf")))],
)
def test_metric_tags_parse_back(text, expected):
    point = parse_metric_text(text)
    assert (point.value, point.low, point.high) == expected


def test_bad_metric_tags_give_none():
    assert parse_metric_text("n/a") is None and parse_metric_text("") is None and parse_metric_text(None) is None


def test_interval_uses_one_precision():
    assert interval(Point(-810.1, -1710.0, 89.87), signed=True) == "-810 [-1,710, 90]"
    assert interval(Point(0.01234, 0.011, 0.0137)) == "0.01234 [0.01100, 0.01370]"
    assert interval(None) == "–"


def test_nice_ticks_cover_the_range():
    ticks = svg.nice_ticks(0.013, 0.41)
    assert ticks[0] <= 0.013 and ticks[-1] >= 0.41 and 3 <= len(ticks) <= 7
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1
    assert svg.nice_ticks(5.0, 5.0)  # a constant series still gets an axis


def test_charts_are_self_contained_svg():
    chart = svg.time_chart([svg.Series("a", (T0, T0 + 60), (1.0, 2.0), (0.5, 1.5), (1.5, 2.5), (False, True))], title="t <1>")
    assert chart.startswith("<svg") and chart.endswith("</svg>") and "t &lt;1&gt;" in chart
    assert "<script" not in chart and "http://" not in chart.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert chart.count("<circle") == 2 and 'class="point alarm"' in chart and "<polygon" in chart
    assert "no data" in svg.time_chart([], title="empty")
    forest = svg.forest_chart(["overall", "a=1"], [1.0, -2.0], [0.0, -3.0], [2.0, -1.0], [False, True], margin=1.5, metric="rmse")
    assert forest.count('class="interval') == 2 and 'class="interval worse"' in forest and "margin" in forest


def test_monitor_reader_follows_the_documented_layout():
    from types import SimpleNamespace

    from mlflow_steward.app._monitor_source import window_from_run

    run = SimpleNamespace(
        info=SimpleNamespace(run_id="r", experiment_id="5", start_time=int(T0 * 1000)),
        data=SimpleNamespace(
            tags={"steward.model_version": "3", "steward.monitor_state": "performance",
                  "steward.window_end": "2026-11-02T10:00:00Z"},
            metrics={"drift/median_income/psi": 0.3, "drift/median_income/psi_ci_low": 0.2,
                     "drift/median_income/psi_ci_high": 0.4, "drift/median_income/psi_alarm": 1.0,
                     "live/rmse": 60_000.0, "live/rmse_ci_low": 57_000.0, "live/rmse_ci_high": 63_000.0,
                     "live/rmse_alarm": 1.0, "live/n_labels": 412.0, "drift/bad_key": 1.0},
        ),
    )
    window = window_from_run(run)
    assert window.state == "performance" and window.version == "3" and window.labels == 412
    assert window.drift == {("median_income", "psi"): Point(0.3, 0.2, 0.4, alarm=True)}
    assert window.live == {"rmse": Point(60_000.0, 57_000.0, 63_000.0, alarm=True)}
    assert window.end == pytest.approx(1_793_613_600.0) and window.start is None


@pytest.mark.parametrize(
    "env, expected",
    [({}, False), ({"STEWARD_APP_AUTH": "basic-auth"}, True), ({"STEWARD_APP_AUTH": "none"}, False),
     ({"MLFLOW_AUTH_CONFIG_PATH": "{ini}"}, True), ({"MLFLOW_AUTH_CONFIG_PATH": "{ini}", "STEWARD_APP_AUTH": "none"}, False)],
)
def test_auth_is_on_when_mlflow_auth_is_configured(tmp_path, env, expected):
    ini = tmp_path / "basic_auth.ini"
    ini.write_text("[mlflow]\ndefault_permission = READ\n")
    env = {k: v.format(ini=ini) for k, v in env.items()}
    assert AppConfig.from_env(env).auth is expected


def test_bad_auth_settings_name_the_variable(tmp_path):
    with pytest.raises(StewardInputError, match="STEWARD_APP_AUTH='maybe': expected one of"):
        AppConfig.from_env({"STEWARD_APP_AUTH": "maybe"})
    with pytest.raises(StewardInputError, match="MLFLOW_AUTH_CONFIG_PATH=.*no such file"):
        AppConfig.from_env({"MLFLOW_AUTH_CONFIG_PATH": str(tmp_path / "missing.ini")})
    empty = tmp_path / "empty.ini"
    empty.write_text("[other]\n")
    with pytest.raises(StewardInputError, match=r"no \[mlflow\] section"):
        AppConfig.from_env({"MLFLOW_AUTH_CONFIG_PATH": str(empty)})
    assert AppConfig.from_env({"_MLFLOW_STATIC_PREFIX": "/mlflow/"}).prefix == "/mlflow"


def test_importing_the_app_package_is_cheap():
    import subprocess
    import sys

    code = "import sys, mlflow_steward.app; print(any(m in sys.modules for m in ('mlflow', 'flask', 'pandas')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
