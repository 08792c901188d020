"""`mlspec report`: one report of a run, in the forms people and CI systems read.

:mod:`mlspec.report.model` reads the workspace (the gate's verdict, each suite's results, the evaluation's
metrics and plots, the data profiles, and what changed against the baseline) into one view-model; each
format renders that view-model and decides nothing of its own:

* ``report.md``: Markdown for the pull/merge request comment and GitHub's job summary, within GitHub's
  65,536-character limit for a comment, starting with the hidden marker that finds the comment again;
* ``report.html``: one self-contained file (inline CSS, plots as data URIs, no script) kept as a CI artifact;
* ``junit.xml``: one test case per gate and per expectation, which GitLab shows in the merge request;
* ``metrics.txt``: the champion's metrics in the ``name value`` form of GitLab's metrics report.

This module only names things: the CI compilers import it, so it must stay free of heavy imports.
"""

from __future__ import annotations

DIRECTORY = "report"
"""Where the report goes, under the workspace (``.mlspec/report/``)."""

FILES = {
    "markdown": "report.md",
    "html": "report.html",
    "junit": "junit.xml",
    "gitlab-metrics": "metrics.txt",
}
"""File name by ``--format``."""

FORMATS = tuple(FILES)


def marker(project: str) -> str:
    """The hidden first line of the comment, by which the next run finds it and edits it in place."""
    return f"<!-- mlspec-report: {project} -->"
