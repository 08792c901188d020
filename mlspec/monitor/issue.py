"""The drift issue: one per project, opened on the first drift and updated (plus a comment) on each later one.

``on_drift: issue`` makes the scheduled pipeline run ``mlspec monitor --open-issue`` after a drifting monitor
job. The issue is found again by a hidden marker in its body among the open issues labelled
:data:`LABEL`, so repeated drift never floods the tracker; once a person closes it, the next drift opens a
new one. The tracker, its token and its calls are the platform's (:mod:`mlspec.platforms.github`: the
``GITHUB_TOKEN`` the generated job passes, with ``issues: write``; :mod:`mlspec.platforms.gitlab`: a project
access token in ``MLSPEC_GITLAB_TOKEN``); tokens are sent in headers and never printed.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlspec import platforms
from mlspec.errors import MlspecError

LABEL = "mlspec-drift"
MAX_BODY = 60_000  # GitHub refuses bodies over 65536 characters


def marker(project: str) -> str:
    return f"<!-- mlspec drift issue: {project} -->"


def file(project: str, message: str, report_md: str, environ: Mapping[str, str]) -> str:
    """Open or update the drift issue; returns what was done, with the issue's address."""
    platform = platforms.detect(environ)
    if platform is None:
        settings = " or ".join(p.issue_settings for p in platforms.PLATFORMS)
        raise MlspecError(f"--open-issue files the drift issue from a CI job: {settings}")
    run = platform.run_url(environ)
    again = f"Drift again: {message}." + (f" {platform.run_noun}: {run}" if run else "")
    issue = platforms.DriftIssue(marker(project), LABEL, f"Drift detected: {project}",
                                 _body(project, report_md, run), again)
    return platform.file_issue(environ, issue)


def _body(project: str, report_md: str, run_url: str | None) -> str:
    if len(report_md) > MAX_BODY:
        report_md = report_md[:MAX_BODY] + "\n\n… (cut; the whole report is in the run's artifacts)\n"
    footer = f"\n---\nLast updated by {run_url}\n" if run_url else ""
    return f"{marker(project)}\n{report_md}{footer}"
