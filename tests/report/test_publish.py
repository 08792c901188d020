"""`mlspec comment` against a real HTTP server on loopback that checks requests like the GitHub and GitLab APIs.

Every test runs the real command line in a subprocess, with only the CI variables the test sets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlspec.report import marker
from tests.report import fakeapi
from tests.support import EXAMPLES

SPEC = EXAMPLES / "breast-cancer" / "mlspec.yaml"
MARKER = marker("breast-cancer")
REPO = "octo/ml-project"
THREAD_GH = f"github:{REPO}#12"
THREAD_GL = "gitlab:42!7"
_FOREIGN = ("GITHUB_", "GITLAB_", "CI_", "MLSPEC_", "RUNNER_", "ACTIONS_")


def comment(tmp_path: Path, env: dict[str, str], body: str = "## first push\n") -> subprocess.CompletedProcess[str]:
    text = tmp_path / "body.md"
    text.write_text(f"{MARKER}\n{body}")
    base = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN) and k != "CI"}
    return subprocess.run([sys.executable, "-m", "mlspec", "comment", "-f", str(SPEC), "--body", str(text)],
                          env={**base, "NO_PROXY": "127.0.0.1", **env}, capture_output=True, text=True, timeout=60)


def github_env(tmp_path: Path, api: fakeapi.Api, head: str = REPO, token: str = fakeapi.GITHUB_TOKEN,
               event: dict[str, object] | None = None) -> dict[str, str]:
    payload = event if event is not None else {
        "number": 12, "pull_request": {"number": 12, "head": {"sha": "a" * 40, "repo": {"full_name": head}}}}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(path),
           "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": api.base}
    if token:
        env["GITHUB_TOKEN"] = token
    return env


def gitlab_env(api: fakeapi.Api, token: str = fakeapi.GITLAB_TOKEN, iid: str = "7") -> dict[str, str]:
    env = {"GITLAB_CI": "true", "CI_API_V4_URL": f"{api.base}/api/v4", "CI_PROJECT_ID": "42",
           "CI_MERGE_REQUEST_IID": iid}
    if token:
        env["MLSPEC_GITLAB_TOKEN"] = token
    return env


# --- GitHub -------------------------------------------------------------------------------------------------


def test_github_creates_once_then_edits_the_same_comment(tmp_path: Path) -> None:
    with fakeapi.serve() as api:
        api.seed(THREAD_GH, "LGTM, but see the metrics")
        env = github_env(tmp_path, api)
        first = comment(tmp_path, env)
        assert first.returncode == 0, first.stderr
        (created,) = [c for c in api.comments[THREAD_GH] if c["body"].startswith(MARKER)]
        assert first.stdout == f"posted the report as comment {created['id']} on pull request #12 of {REPO}\n"

        second = comment(tmp_path, env, body="## second push\n")
        assert second.returncode == 0, second.stderr
        assert second.stdout == f"updated the report in comment {created['id']} on pull request #12 of {REPO}\n"
    # One mlspec comment, now with the second push's report; the reviewer's comment untouched.
    assert [c["body"] for c in api.comments[THREAD_GH]] == ["LGTM, but see the metrics", f"{MARKER}\n## second push\n"]
    assert [(r.method, r.path, r.status) for r in api.requests] == [
        ("GET", f"/repos/{REPO}/issues/12/comments", 200),
        ("POST", f"/repos/{REPO}/issues/12/comments", 201),
        ("GET", f"/repos/{REPO}/issues/12/comments", 200),
        ("PATCH", f"/repos/{REPO}/issues/comments/{created['id']}", 200),
    ]
    for request in api.requests:
        assert request.headers["authorization"] == f"Bearer {fakeapi.GITHUB_TOKEN}"
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert request.headers["user-agent"].startswith("mlspec/")
    assert api.requests[0].query == {"per_page": "100"}
    assert api.requests[1].headers["content-type"] == "application/json"
    assert api.requests[3].body == {"body": f"{MARKER}\n## second push\n"}


def test_github_follows_pagination_to_find_the_comment(tmp_path: Path) -> None:
    with fakeapi.serve() as api:
        for i in range(150):
            api.seed(THREAD_GH, f"review comment {i}")
        ours = api.seed(THREAD_GH, f"{MARKER}\nold report", login="github-actions[bot]")
        api.seed(THREAD_GH, f"> {MARKER}\n> quoting the report is not the report")
        result = comment(tmp_path, github_env(tmp_path, api))
    assert result.returncode == 0, result.stderr
    assert [(r.method, r.query.get("page")) for r in api.requests] == [("GET", None), ("GET", "2"), ("PATCH", None)]
    assert api.requests[-1].path == f"/repos/{REPO}/issues/comments/{ours['id']}"
    assert len(api.comments[THREAD_GH]) == 152


@pytest.mark.parametrize(("case", "expected"), [
    ("no token", "notice: GITHUB_TOKEN is not set for this step (pull requests from forks get no token that can "
                 "write); the report is in the job summary and the run's artifacts\n"),
    ("fork", "notice: pull request #12 comes from another repository (someone/fork), whose token cannot write "
             "here; the report is in the job summary and the run's artifacts\n"),
    ("push", "notice: the push event is not a pull request: nothing to comment on\n"),
])
def test_github_without_a_writable_pull_request_only_notes_why(tmp_path: Path, case: str, expected: str) -> None:
    with fakeapi.serve() as api:
        env = github_env(tmp_path, api, head="someone/fork" if case == "fork" else REPO,
                         token="" if case == "no token" else fakeapi.GITHUB_TOKEN,
                         event={"ref": "refs/heads/main"} if case == "push" else None)
        if case == "push":
            env["GITHUB_EVENT_NAME"] = "push"
        result = comment(tmp_path, env)
    assert (result.returncode, result.stdout, result.stderr) == (0, expected, "")
    assert api.requests == []


def test_github_refusal_is_summarised_without_a_traceback(tmp_path: Path) -> None:
    with fakeapi.serve() as api:
        api.refuse["POST"] = (403, {"message": "Resource not accessible by integration",
                                    "documentation_url": "https://docs.github.com/rest/issues/comments"})
        result = comment(tmp_path, github_env(tmp_path, api))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: the GitHub API refused POST /repos/{REPO}/issues/12/comments: 403 Forbidden (Resource not "
        "accessible by integration); the job needs `permissions: pull-requests: write` (the report job that "
        "`mlspec compile` generates has it), and a pull request from a fork gets a read-only token\n")


def test_a_bad_token_is_reported_as_such(tmp_path: Path) -> None:
    with fakeapi.serve() as api:
        result = comment(tmp_path, github_env(tmp_path, api, token="ghs_expired"))
    assert result.returncode == 1
    assert result.stderr == (f"error: the GitHub API refused GET /repos/{REPO}/issues/12/comments: 401 Unauthorized "
                             "(Bad credentials); GITHUB_TOKEN was not accepted\n")


def test_the_token_never_follows_a_link_to_another_origin(tmp_path: Path) -> None:
    with fakeapi.serve() as api, fakeapi.serve() as elsewhere:
        for i in range(120):
            api.seed(THREAD_GH, f"comment {i}")
        api.extra_headers["Link"] = f'<{elsewhere.base}/steal?page=2>; rel="next"'
        result = comment(tmp_path, github_env(tmp_path, api))
    assert result.returncode == 1
    assert result.stderr == (f"error: the GitHub API pointed the next page of comments at {elsewhere.base}, not "
                             f"at {api.base}; not sending the token there\n")
    assert elsewhere.requests == []


def test_redirects_are_not_followed(tmp_path: Path) -> None:
    with fakeapi.serve() as api:
        api.refuse["GET"] = (301, {"message": "Moved Permanently"})
        api.extra_headers["Location"] = "http://127.0.0.1:9/elsewhere"
        result = comment(tmp_path, github_env(tmp_path, api))
    assert result.returncode == 1
    assert "301 Moved Permanently" in result.stderr and "redirects are not followed with a token" in result.stderr
    assert len(api.requests) == 1


def test_an_unreachable_api_is_a_clear_error(tmp_path: Path) -> None:
    with fakeapi.serve() as api:
        base = api.base  # closed when the block ends: nothing listens there any more
    result = comment(tmp_path, github_env(tmp_path, fakeapi.Api(base=base)))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot reach the GitHub API at {base}: ")
    assert "Traceback" not in result.stderr


# --- GitLab -------------------------------------------------------------------------------------------------


def test_gitlab_creates_once_then_puts_the_same_note(tmp_path: Path) -> None:
    with fakeapi.serve() as api:
        api.seed(THREAD_GL, f"{MARKER}\nmentioned in a system note", system=True)
        api.seed(THREAD_GL, "please retrain with more trees")
        env = gitlab_env(api)
        first = comment(tmp_path, env)
        second = comment(tmp_path, env, body="## second push\n")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    note = api.comments[THREAD_GL][-1]
    assert first.stdout == f"posted the report as comment {note['id']} on merge request !7 of project 42\n"
    assert second.stdout == f"updated the report in comment {note['id']} on merge request !7 of project 42\n"
    assert note["body"] == f"{MARKER}\n## second push\n"
    assert len(api.comments[THREAD_GL]) == 3
    notes = "/api/v4/projects/42/merge_requests/7/notes"
    assert [(r.method, r.path, r.status) for r in api.requests] == [
        ("GET", notes, 200), ("POST", notes, 201), ("GET", notes, 200), ("PUT", f"{notes}/{note['id']}", 200)]
    assert api.requests[0].query == {"per_page": "100", "sort": "asc", "order_by": "created_at"}
    assert all(r.headers["private-token"] == fakeapi.GITLAB_TOKEN for r in api.requests)
    assert all("authorization" not in r.headers for r in api.requests)


def test_gitlab_pages_through_notes(tmp_path: Path) -> None:
    with fakeapi.serve() as api:
        for i in range(230):
            api.seed(THREAD_GL, f"note {i}")
        result = comment(tmp_path, gitlab_env(api))
    assert result.returncode == 0, result.stderr
    assert [(r.method, r.query.get("page")) for r in api.requests] == [
        ("GET", None), ("GET", "2"), ("GET", "3"), ("POST", None)]


@pytest.mark.parametrize(("env", "expected"), [
    ({"MLSPEC_GITLAB_TOKEN": ""}, "notice: MLSPEC_GITLAB_TOKEN is not set, so no merge request note is posted: add "
     "a project access token with the api scope as a masked CI/CD variable (CI_JOB_TOKEN cannot write notes); the "
     "report is in the job's artifacts and test report\n"),
    ({"CI_MERGE_REQUEST_IID": ""}, "notice: not a merge request pipeline (CI_MERGE_REQUEST_IID is not set): nothing "
     "to comment on\n"),
])
def test_gitlab_without_token_or_merge_request_only_notes_why(tmp_path: Path, env: dict[str, str],
                                                              expected: str) -> None:
    with fakeapi.serve() as api:
        result = comment(tmp_path, {**gitlab_env(api), **env})
    assert (result.returncode, result.stdout, result.stderr) == (0, expected, "")
    assert api.requests == []


def test_gitlab_job_token_is_refused_with_what_to_use(tmp_path: Path) -> None:
    with fakeapi.serve() as api:
        result = comment(tmp_path, gitlab_env(api, token="a-job-token"))
    assert result.returncode == 1
    assert result.stderr == (
        "error: the GitLab API refused GET /api/v4/projects/42/merge_requests/7/notes: 401 Unauthorized (401 "
        "Unauthorized); MLSPEC_GITLAB_TOKEN was not accepted: use a project access token with the api scope that "
        "has not expired\n")


def test_outside_ci_there_is_nothing_to_comment_on(tmp_path: Path) -> None:
    result = comment(tmp_path, {})
    assert (result.returncode, result.stdout) == (
        0, "notice: not running in GitHub Actions or GitLab CI: no pull or merge request to comment on\n")
