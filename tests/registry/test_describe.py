"""Descriptions (Markdown sections, the 5,000-character limit) and the forest plot record."""

from __future__ import annotations

from mlflow_steward.registry import GateConfig, GateDecision, GateRow, draw_forest, forest_record
from mlflow_steward.registry._decision import OK, OVERALL, WORSE, Check, Estimate
from mlflow_steward.registry._describe import (
    MAX_DESCRIPTION_CHARS,
    SECTION_CANDIDATE,
    SECTION_GATE,
    gate_markdown,
    merge_section,
)


def _decision(n_slices=3, *, forced=False, worse_at=None, all_worse=False):
    rows = [GateRow(OVERALL, "", 1000, 95.0, 100.0, Estimate(-5.0, -8.0, -2.0), 0.001, None, 1.0, OK)]
    for i in range(n_slices):
        verdict = WORSE if i == worse_at or all_worse else OK
        rows.append(GateRow("col", f"value {i}", 50, 99.0, 100.0, Estimate(-1.0 + i, -3.0, 1.0 + i),
                            0.5, 0.9 if verdict == OK else 0.01, 1.0, verdict))
    checks = (Check("overall", True, "fine"), Check("slices", worse_at is None, "slice detail"))
    return GateDecision("m", "2", "1", "regression", "rmse", False, checks, tuple(rows),
                        n_rows=1000, test_source="runs:/x/test.parquet", config=GateConfig(), forced=forced)


def test_sections_are_replaced_and_ordered():
    text = merge_section(None, SECTION_GATE, "gate one")
    text = merge_section("Written by a person.\n\n" + text, SECTION_CANDIDATE, "candidate")
    assert text.index("candidate") < text.index("gate one")  # canonical order, even when added later
    text = merge_section(text, SECTION_GATE, "gate two")
    assert "gate one" not in text and text.count("gate two") == 1
    assert text.startswith("Written by a person.")


def _table_lines(text):
    block = text.split("```text\n", 1)[1].split("\n```", 1)[0]
    return block.splitlines()


def test_gate_markdown_lists_only_slices_that_decided_or_were_flagged():
    text = gate_markdown(_decision(40, worse_at=3))
    lines = _table_lines(text)
    assert [line.split("  ")[0].strip() for line in lines] == ["slice", "overall", "col = value 3"]
    assert "Other slices: 39 ok." in text and "value 7" not in text
    assert "[steward page](/steward/models/m)" in text and "gate/decision.json" in text
    verdict_at = lines[0].index("verdict")  # aligned columns: every row's verdict starts there
    assert [line[verdict_at:] for line in lines[1:]] == ["ok", "worse"]
    assert all(line[verdict_at - 2:verdict_at] == "  " for line in lines)


def test_first_candidate_description_counts_uncompared_slices():
    from mlflow_steward.registry._decision import NOT_COMPARED, TOO_SMALL

    rows = [GateRow(OVERALL, "", 4128, 49000.0, verdict=NOT_COMPARED)] + [
        GateRow("ocean_proximity", f"v{i}", 100, 48000.0, verdict=TOO_SMALL if i < 3 else NOT_COMPARED)
        for i in range(40)
    ]
    decision = GateDecision("my model", "1", None, "regression", "rmse", False,
                            (Check("thresholds", True, "r2 0.63 [0.53, 0.70] meets r2 >= 0"),), tuple(rows), n_rows=4128)
    text = gate_markdown(decision)
    assert len(_table_lines(text)) == 2  # header + overall: no "not compared" rows
    assert "Other slices: 37 not compared, 3 too small." in text
    assert "(/steward/models/my%20model)" in text
    assert r"r2 0.63 \[0.53, 0.70\] meets" in text  # an interval, not a Markdown link
    assert len(text) < 1000


def test_gate_markdown_fits_the_description_limit():
    decision = _decision(400, all_worse=True)
    text = gate_markdown(decision)
    assert len(text) <= MAX_DESCRIPTION_CHARS
    assert "more slice rows not shown" in text and "gate/decision.json" in text
    lines = _table_lines(text)
    assert lines[1].startswith("overall") and lines[2].startswith("col = value")
    assert 20 < len(lines) < 400


def test_forced_decision_says_so():
    text = gate_markdown(_decision(forced=True, worse_at=0), reason="hotfix", by="me@host")
    assert "⚠️ FORCED" in text and "would have **rejected**" in text and "hotfix" in text and "me@host" in text


def test_forest_record_and_figure():
    decision = _decision(5, worse_at=3)
    record = forest_record(decision)
    assert record.labels[0] == "overall" and record.labels[1] == "col=value 3"
    assert record.worse[1] and record.margin == 1.0
    figure = draw_forest(record)
    assert len(figure.axes) == 1 and figure.axes[0].get_xlabel() == "rmse: challenger - champion"
    first = GateDecision("m", "1", None, "regression", "rmse", False, (), (GateRow(OVERALL, "", 5, 1.0),))
    assert forest_record(first) is None  # nothing compared, nothing to draw


def test_decision_to_dict_is_strict_json():
    import json

    decision = _decision(2)
    data = json.loads(json.dumps(decision.to_dict(), allow_nan=False))
    assert data["verdict"] == "passed" and len(data["rows"]) == 3
    assert data["config"]["metric"] is None and data["rows"][0]["difference_low"] == -8.0
    assert list(decision.frame().columns)[:4] == ["slice", "value", "n", "champion"]
