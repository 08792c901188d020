"""The report as Markdown: the pull/merge request comment and GitHub's job summary.

GitHub refuses a comment longer than 65,536 characters. The full report fits easily unless a suite fails
with many expectations or many files changed, so those lists are cut, shortest cut first, until it fits;
each cut says how many rows it left out and that the HTML report has them all. Plots are named, not shown:
both platforms strip images given as data URIs from comments, and the HTML report carries them.
"""

from __future__ import annotations

from typing import Any

from mlspec.render import render as render_template
from mlspec.report.model import Report

LIMIT = 65_536
CAPS: tuple[int | None, ...] = (None, 50, 20, 5, 0)
"""Rows kept per long list (failed expectations of a suite, changes), tried in this order."""
TRUNCATED = "\n\n*The report was cut here to fit a comment; the HTML report has all of it.*\n"


def render(report: Report) -> str:
    text = ""
    for cap in CAPS:
        text = render_template("report/report.md.j2", view(report, cap))
        if length(text) <= LIMIT:
            return text
    # Only reachable with absurd inputs (thousands of gates or suites): cut hard, keep the marker on top.
    keep = LIMIT - length(TRUNCATED)
    text = text[:keep]
    while length(text) > keep:  # each pass drops at least one character
        text = text[: len(text) - (length(text) - keep)]
    return text + TRUNCATED


def length(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units): an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def view(report: Report, cap: int | None) -> dict[str, Any]:
    suites = [(s, *_cut(s.failed, cap)) for s in report.suites if s.failed]
    changes, hidden_changes = _cut(report.changes.rows, cap)
    return {
        "r": report,
        "failed_suites": suites,
        "changes": changes,
        "hidden_changes": hidden_changes,
        "plot_names": ", ".join(p.name for p in report.plots),
        "footer": " · ".join(report.context),
    }


def _cut(rows: tuple[Any, ...], cap: int | None) -> tuple[tuple[Any, ...], int]:
    if cap is None or len(rows) <= cap:
        return rows, 0
    return rows[:cap], len(rows) - cap
