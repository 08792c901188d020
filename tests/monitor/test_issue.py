"""The one drift issue: opened once, then updated with a comment, on GitHub and on GitLab."""

from __future__ import annotations

import pytest

from mlspec.errors import MlspecError
from mlspec.monitor import issue
from mlspec.platforms import gitlab
from tests.monitor import fakeissues

REPORT = "# Drift report: wine\n\n**Drift**: drift in 1 of 13 features (proline).\n"


def _github(base: str) -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "GITHUB_API_URL": base, "GITHUB_REPOSITORY": "octo/wine",
            "GITHUB_TOKEN": fakeissues.GITHUB_TOKEN, "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_RUN_ID": "77"}


def _gitlab(base: str) -> dict[str, str]:
    return {"GITLAB_CI": "true", "CI_API_V4_URL": f"{base}/api/v4", "CI_PROJECT_ID": "42",
            gitlab.TOKEN_VAR: fakeissues.GITLAB_TOKEN, "CI_PIPELINE_URL": "https://gitlab.example/p/1"}


def test_github_opens_one_issue_and_then_updates_it() -> None:
    with fakeissues.serve() as tracker:
        # An unrelated open issue with the label, and a pull request, are left alone.
        tracker.issues.append({"number": 1, "title": "x", "body": "hand-written", "labels": [issue.LABEL],
                               "state": "open", "html_url": ""})
        first = issue.file("wine", "drift in 1 of 13 features", REPORT, _github(tracker.base))
        assert first == f"opened issue #2: {tracker.base}/issues/2"
        again = issue.file("wine", "drift in 2 of 13 features", REPORT + "more\n", _github(tracker.base))
        assert again == f"updated issue #2: {tracker.base}/issues/2"
        made = tracker.issues[1]
    assert made["title"] == "Drift detected: wine" and made["labels"] == [issue.LABEL]
    assert made["body"].startswith(issue.marker("wine") + "\n# Drift report: wine")
    assert made["body"].endswith("more\n\n---\nLast updated by https://github.example/octo/wine/actions/runs/77\n")
    assert tracker.comments == [(2, "Drift again: drift in 2 of 13 features. Run: "
                                    "https://github.example/octo/wine/actions/runs/77")]
    assert [m for m, _ in tracker.requests] == ["GET", "POST", "GET", "PATCH", "POST"]


def test_gitlab_opens_one_issue_and_then_updates_it() -> None:
    with fakeissues.serve() as tracker:
        assert issue.file("wine", "drift", REPORT, _gitlab(tracker.base)).startswith("opened issue #1: ")
        assert issue.file("wine", "drift", REPORT, _gitlab(tracker.base)).startswith("updated issue #1: ")
        # A closed issue is history: the next drift opens a new one.
        tracker.issues[0]["state"] = "closed"
        assert issue.file("wine", "drift", REPORT, _gitlab(tracker.base)).startswith("opened issue #2: ")
    assert tracker.issues[0]["description"].startswith(issue.marker("wine"))
    assert tracker.comments == [(1, "Drift again: drift. Pipeline: https://gitlab.example/p/1")]


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


def test_a_refused_token_says_what_permission_is_missing() -> None:
    with fakeissues.serve() as tracker:
        environ = {**_github(tracker.base), "GITHUB_TOKEN": "wrong"}
        with pytest.raises(MlspecError) as caught:
            issue.file("wine", "drift", REPORT, environ)
    text = str(caught.value)
    assert text.startswith("GitHub API GET /repos/octo/wine/issues?state=open&labels=mlspec-drift&per_page=100: "
                           "HTTP 401 Unauthorized: ")
    assert text.endswith("; the job needs `permissions: {issues: write}`") and "wrong" not in text


def test_a_redirect_is_refused_so_the_token_never_leaves_the_api() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str | None] = []
    elsewhere = "http://127.0.0.1:9/elsewhere"  # never contacted: the client must stop at the 302

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(302)
            self.send_header("Location", elsewhere)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(MlspecError) as caught:
            issue.file("wine", "drift", REPORT, _github(f"http://127.0.0.1:{server.server_address[1]}"))
    finally:
        server.shutdown()
        server.server_close()
    assert "HTTP 302" in str(caught.value)
    assert len(seen) == 1  # the redirect was not followed with the token
