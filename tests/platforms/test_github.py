"""GitHub Actions: the report comment and the drift issue against :mod:`tests.platforms.fakeapi`, which checks
requests like the GitHub REST API.

The comment tests run the real command line (`mlspec comment`) in a subprocess, with only the CI variables the
test sets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlspec.errors import MlspecError
from mlspec.monitor import issue
from mlspec.platforms import JobFacts
from mlspec.platforms.github import PLATFORM as GITHUB
from tests.platforms import fakeapi
from tests.platforms.kit import MARKER, REPO, comment, github_env, github_schedule

THREAD_GH = f"github:{REPO}#12"
REPORT = "# Drift report: wine\n\n**Drift**: drift in 1 of 13 features (proline).\n"


# --- the job's facts and the log --------------------------------------------------------------------------


def test_the_commit_of_a_pull_request_is_its_head_not_the_merge_commit(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"head": {"sha": "d" * 40}}}))
    env = {"GITHUB_SHA": "m" * 40, "GITHUB_EVENT_PATH": str(event)}
    assert GITHUB.commit(env) == "d" * 40
    event.write_text("{not json")  # only a nicer id: a broken payload falls back to GITHUB_SHA
    assert GITHUB.commit(env) == "m" * 40
    assert GITHUB.commit({"GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}) is None


def test_run_page_branches_and_actor() -> None:
    run = {"GITHUB_SERVER_URL": "https://github.example", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "5"}
    assert GITHUB.run_url(run) == "https://github.example/o/r/actions/runs/5"
    assert GITHUB.run_url({**run, "GITHUB_SERVER_URL": ""}) is None
    assert GITHUB.job({**run, "GITHUB_RUN_ATTEMPT": "3"}) == JobFacts(
        "github-actions", None, None, "https://github.example/o/r/actions/runs/5/attempts/3")
    assert GITHUB.merge_target({"GITHUB_BASE_REF": "main"}) == "main"
    assert GITHUB.pushed_branch({"GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "v1"}) is None
    assert GITHUB.pushed_branch({"GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "dev"}) == "dev"


def test_annotations_escape_what_ends_a_workflow_command() -> None:
    assert GITHUB.annotation("50% off\r\nnext", "a:b,c.yaml", 2, 9) == (
        "::error file=a%3Ab%2Cc.yaml,line=2,col=9::50%25 off%0D%0Anext")
    assert (GITHUB.fold_start("x", "run x", 0.0), GITHUB.fold_end("x", 0.0)) == ("::group::run x", "::endgroup::")


# --- the report comment ------------------------------------------------------------------------------------


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


# --- the drift issue ---------------------------------------------------------------------------------------


def test_github_opens_one_issue_and_then_updates_it() -> None:
    with fakeapi.serve() as api:
        # An unrelated open issue with the label, and a pull request that carries the marker, are left alone.
        api.seed_issue("hand-written", [issue.LABEL])
        api.seed_issue(f"{issue.marker('wine')} quoted in a pull request", [issue.LABEL], pull_request=True)
        first = issue.file("wine", "drift in 1 of 13 features", REPORT, github_schedule(api.base))
        assert first == f"opened issue #3: {api.base}/issues/3"
        again = issue.file("wine", "drift in 2 of 13 features", REPORT + "more\n", github_schedule(api.base))
        assert again == f"updated issue #3: {api.base}/issues/3"
        made = api.issues[2]
    assert made["title"] == "Drift detected: wine" and made["labels"] == [issue.LABEL]
    assert made["body"].startswith(issue.marker("wine") + "\n# Drift report: wine")
    assert made["body"].endswith("more\n\n---\nLast updated by https://github.example/octo/wine/actions/runs/77\n")
    assert [c["body"] for c in api.comments["github:octo/wine#3"]] == [
        "Drift again: drift in 2 of 13 features. Run: https://github.example/octo/wine/actions/runs/77"]
    assert [(r.method, r.path, r.status) for r in api.requests] == [
        ("GET", "/repos/octo/wine/issues", 200), ("POST", "/repos/octo/wine/issues", 201),
        ("GET", "/repos/octo/wine/issues", 200), ("PATCH", "/repos/octo/wine/issues/3", 200),
        ("POST", "/repos/octo/wine/issues/3/comments", 201)]
    assert api.requests[0].query == {"state": "open", "labels": issue.LABEL, "per_page": "100"}


def test_github_finds_the_drift_issue_beyond_the_first_hundred() -> None:
    with fakeapi.serve() as api:
        for i in range(130):
            api.seed_issue(f"hand-written {i}", [issue.LABEL])
        ours = api.seed_issue(f"{issue.marker('wine')}\nthe last report", [issue.LABEL])
        api.seed_issue(f"{issue.marker('wine')}\nclosed long ago", [issue.LABEL], state="closed")
        done = issue.file("wine", "drift", REPORT, github_schedule(api.base))
    assert done == f"updated issue #{ours['number']}: {ours['html_url']}"
    assert [(r.method, r.query.get("page")) for r in api.requests] == [
        ("GET", None), ("GET", "2"), ("PATCH", None), ("POST", None)]
    assert len(api.issues) == 132


def test_a_refused_token_says_what_permission_is_missing() -> None:
    with fakeapi.serve() as api:
        environ = {**github_schedule(api.base), "GITHUB_TOKEN": "wrong"}
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
            issue.file("wine", "drift", REPORT, github_schedule(f"http://127.0.0.1:{server.server_address[1]}"))
    finally:
        server.shutdown()
        server.server_close()
    assert "HTTP 302" in str(caught.value)
    assert len(seen) == 1  # the redirect was not followed with the token


def test_the_pipeline_a_job_files_its_run_history_part_under() -> None:
    from mlspec.platforms import Pipeline

    base = {"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "77", "GITHUB_JOB": "train", "GITHUB_REF_TYPE": "branch",
            "GITHUB_REF_NAME": "main"}
    assert GITHUB.pipeline(base) == Pipeline("77", "train", "main")
    assert GITHUB.pipeline({**base, "GITHUB_RUN_ATTEMPT": "1"}) == Pipeline("77", "train", "main")
    # A re-run attempt is a run of its own; a pull request builds its head branch, not "<n>/merge".
    pull = {**base, "GITHUB_RUN_ATTEMPT": "2", "GITHUB_REF_NAME": "5/merge", "GITHUB_HEAD_REF": "feature"}
    assert GITHUB.pipeline(pull) == Pipeline("77-2", "train", "feature")
    assert GITHUB.pipeline({"GITHUB_ACTIONS": "true"}) is None
