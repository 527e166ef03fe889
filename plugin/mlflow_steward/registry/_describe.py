"""Model-version descriptions in Markdown (the MLflow UI renders them on the version's page).

A description is made of sections between HTML-comment markers (``<!-- steward:gate -->`` …
``<!-- /steward:gate -->``), so a new gate decision replaces the previous one and leaves the
registration section, and any text a person wrote outside the markers, untouched. MLflow's SQL
schema declares ``model_versions.description`` as ``VARCHAR(5000)``. The gate section stays short:
the overall row and only the slices that decided or were flagged (worst first, cut to fit), the
others counted, and a link to the model's steward page and to ``gate/decision.json`` for the rest.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Mapping

from mlflow_steward import names
from mlflow_steward.registry._decision import NOT_COMPARED, OK, OVERALL, TOO_SMALL, WORSE
from mlflow_steward.registry._format import fmt, fmt_interval, fmt_p

if TYPE_CHECKING:
    from mlflow_steward.registry._decision import GateDecision, GateRow

MAX_DESCRIPTION_CHARS = 5000
SECTION_CANDIDATE = "candidate"
SECTION_GATE = "gate"
_ORDER = (SECTION_CANDIDATE, SECTION_GATE)
_HEADLINE = {
    names.GATE_PASSED: "✅ PASSED",
    names.GATE_REJECTED: "❌ REJECTED",
    names.GATE_FORCED: "⚠️ FORCED",
}


def _markers(section: str) -> tuple[str, str]:
    return f"<!-- steward:{section} -->", f"<!-- /steward:{section} -->"


def merge_section(existing: str | None, section: str, markdown: str) -> str:
    """``existing`` with ``section`` replaced by ``markdown`` (added in canonical order if absent)."""
    start, end = _markers(section)
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = existing or ""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    sections = {s: pattern_for(s).search(text) for s in _ORDER}
    later = [m for s, m in sections.items() if m and _ORDER.index(s) > _ORDER.index(section)]
    if later:
        at = min(m.start() for m in later)
        return f"{text[:at]}{block}\n\n{text[at:]}"
    return f"{text.rstrip()}\n\n{block}".lstrip()


def pattern_for(section: str) -> re.Pattern[str]:
    start, end = _markers(section)
    return re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)


def candidate_markdown(
    *,
    run_id: str | None,
    task: str,
    target: str | None,
    dataset_version: str,
    dataset_digest: str,
    test_data_uri: str,
    code_version: str,
    metric_tags: Mapping[str, str],
) -> str:
    """The registration section: where the version came from and its test metrics."""
    lines = ["### steward: candidate", ""]
    lines.append(
        f"Task **{task}**" + (f", target `{target}`" if target else "") + f"; trained in run `{run_id or '–'}`"
        + (f", code version `{code_version}`" if code_version else "") + "."
    )
    lines.append(
        f"Dataset version `{dataset_version or '–'}` (digest `{(dataset_digest or '–')[:16]}`); "
        f"fixed test set `{test_data_uri}`."
    )
    if metric_tags:
        lines += ["", "| test metric | value [interval] |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in metric_tags.items()]
    return "\n".join(lines)


#: Verdicts of rows that neither decided nor were flagged: the description only counts them.
_QUIET = (OK, NOT_COMPARED, TOO_SMALL)
_COLUMNS = ("slice", "n", "champion", "challenger", "difference [{level}]", "p adj.", "verdict")


def steward_page_path(name: str) -> str:
    """Where ``mlflow server --app-name steward`` shows the model (root-relative, so it works on the
    server the MLflow UI was opened from)."""
    from urllib.parse import quote

    return f"/steward/models/{quote(name, safe='')}"


def _cells(row: GateRow) -> list[str]:
    label = "overall" if row.column == OVERALL else f"{row.column} = {row.value}"
    diff = "–" if row.difference is None else fmt_interval(
        row.difference.estimate, row.difference.low, row.difference.high
    )
    return [label, f"{row.n:,}", fmt(row.champion), fmt(row.challenger), diff, fmt_p(row.p_adjusted), row.verdict]


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Aligned plain-text columns (numbers right-aligned) for a fenced block: MLflow renders Markdown
    tables without cell padding, so their columns run together; monospace columns do not."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    left = {0, len(header) - 1}

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _quiet_counts(rows: list[GateRow]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.verdict] = counts.get(row.verdict, 0) + 1
    return ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def gate_markdown(
    decision: GateDecision, *, by: str = "", reason: str = "", budget: int = MAX_DESCRIPTION_CHARS
) -> str:
    """The gate section: verdict, each check, the overall row and only the slices that decided or
    were flagged (worse, better, undefined), as an aligned text table; the other slices are counted.
    Ends with a link to the model's steward page and the artifact holding the full table."""
    verdict = decision.verdict
    head = [f"### steward gate: {_HEADLINE[verdict]}", ""]
    against = (
        f"production version {decision.champion_version}" if decision.champion_version else
        "absolute thresholds (no production model yet)"
    )
    direction = "higher" if decision.greater_is_better else "lower"
    head.append(
        f"Version {decision.version} vs {against} on {decision.n_rows:,} test rows (`{decision.test_source}`); "
        f"metric **{decision.metric}** ({direction} is better). Decided {decision.decided_at}"
        + (f" by {by}" if by else "") + "."
    )
    if decision.forced:
        gate_said = "passed" if decision.passed else "rejected"
        head += ["", f"**Forced** promotion (`force=True`){': ' + reason if reason else ''}. "
                     f"The gate alone would have **{gate_said}** this version."]
    elif reason:
        head += ["", f"Reason given: {reason}"]
    head += [""] + [f"- {'✓' if c.passed else '✗'} **{c.name}**: {_plain(c.detail)}" for c in decision.checks]

    rows = sorted(decision.rows, key=_row_rank)
    notable = [r for r in rows if r.column == OVERALL or r.verdict not in _QUIET]
    quiet = [r for r in rows if r.column != OVERALL and r.verdict in _QUIET]
    run = f" of gate run `{decision.gate_run_id}`" if decision.gate_run_id else " of the gate run"
    footer = [
        "",
        f"All rows and the forest plot: [steward page]({steward_page_path(decision.model_name)}) "
        f"(`mlflow server --app-name steward`) · artifact `{names.ARTIFACT_GATE_DECISION}`{run}.",
    ]
    header = [c.format(level=_level(decision)) for c in _COLUMNS]
    fixed = len("\n".join(head)) + len("\n".join(footer)) + 160
    cells = [_cells(r) for r in notable]
    widest = max(map(len, _text_table(header, cells))) if cells else 0  # no line is longer
    fits = max(1, (budget - fixed) // (widest + 1) - 1) if cells else 0
    shown = notable[:fits]
    table = ["", "```text", *_text_table(header, [_cells(r) for r in shown]), "```"] if shown else []
    unshown = len(notable) - len(shown)
    counts = []
    if unshown:
        counts.append(f"{unshown} more slice rows not shown (worst first above).")
    if quiet:
        counts.append(f"Other slices: {_quiet_counts(quiet)}.")
    return "\n".join(head + table + ([""] + [" ".join(counts)] if counts else []) + footer)


def _plain(text: str) -> str:
    """Text shown as is: an interval ``[low, high]`` must not turn into a Markdown link."""
    return text.replace("[", "\\[").replace("]", "\\]")


def _level(decision: GateDecision) -> str:
    return f"{decision.config.confidence:.0%}" if decision.config is not None else "interval"


def _row_rank(row: GateRow) -> tuple[int, float]:
    if row.column == OVERALL:
        return (0, 0.0)
    if row.verdict == WORSE:
        return (1, row.p_adjusted if row.p_adjusted is not None else 1.0)
    return (2, row.p_adjusted if row.p_adjusted is not None else 2.0)


def fit_description(text: str, limit: int = MAX_DESCRIPTION_CHARS) -> str:
    """Cut ``text`` to ``limit`` characters (a last resort: sections are sized to fit already)."""
    return text if len(text) <= limit else text[: limit - 20].rstrip() + "\n\n… (cut)"
