"""The drift issue's text, and what it needs to be filed; filing it on GitHub and GitLab is tested in
tests/platforms/test_github.py and test_gitlab.py."""

from __future__ import annotations

import pytest

from mlspec.errors import MlspecError
from mlspec.monitor import issue

REPORT = "# Drift report: wine\n\n**Drift**: drift in 1 of 13 features (proline).\n"


def test_long_reports_are_cut_to_fit_an_issue() -> None:
    body = issue._body("wine", "x" * (issue.MAX_BODY + 10), None)
    assert len(body) < 65_536 and body.endswith("(cut; the whole report is in the run's artifacts)\n")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "--open-issue files the drift issue from a CI job: GitHub Actions (GITHUB_REPOSITORY, GITHUB_TOKEN) "
             "or GitLab CI (CI_API_V4_URL, CI_PROJECT_ID, MLSPEC_GITLAB_TOKEN)"),
        ({"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r"},
         "--open-issue needs GITHUB_TOKEN and GITHUB_REPOSITORY; give the step `env: {GITHUB_TOKEN: ${{ "
         "secrets.GITHUB_TOKEN }}}` and the job `permissions: {issues: write}`"),
        ({"GITLAB_CI": "true", "CI_API_V4_URL": "http://x", "CI_PROJECT_ID": "1"},
         "--open-issue needs the CI/CD variable MLSPEC_GITLAB_TOKEN: a project access token with the api scope "
         "(Reporter role or above), masked; a job token cannot create issues"),
    ],
)
def test_missing_settings(environ: dict[str, str], message: str) -> None:
    with pytest.raises(MlspecError) as caught:
        issue.file("wine", "drift", REPORT, environ)
    assert str(caught.value) == message
