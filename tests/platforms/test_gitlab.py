"""GitLab CI: the report note and the drift issue against :mod:`tests.platforms.fakeapi`, which checks requests
like the GitLab REST API.

The note tests run the real command line (`mlspec comment`) in a subprocess, with only the CI variables the
test sets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec.errors import MlspecError
from mlspec.monitor import issue
from mlspec.platforms import JobFacts
from mlspec.platforms.gitlab import PLATFORM as GITLAB
from tests.platforms import fakeapi
from tests.platforms.kit import MARKER, comment, gitlab_env, gitlab_schedule

THREAD_GL = "gitlab:42!7"
REPORT = "# Drift report: wine\n\n**Drift**: drift.\n"


# --- the job's facts and the log --------------------------------------------------------------------------


def test_job_facts_prefer_the_job_page() -> None:
    env = {"GITLAB_USER_LOGIN": "alice", "CI_COMMIT_SHA": "c" * 40, "CI_COMMIT_REF_NAME": "feature",
           "CI_JOB_URL": "https://gitlab.example/j/7", "CI_PIPELINE_URL": "https://gitlab.example/p/1"}
    assert GITLAB.job(env) == JobFacts("alice", "c" * 40, "feature", "https://gitlab.example/j/7")
    assert GITLAB.job({}) == JobFacts("gitlab-ci", None, None, None)
    assert GITLAB.run_url(env) == "https://gitlab.example/p/1"
    assert (GITLAB.merge_target({"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}),
            GITLAB.pushed_branch({"CI_COMMIT_BRANCH": "dev"})) == ("main", "dev")


def test_sections_have_names_gitlab_accepts_and_no_annotations() -> None:
    assert GITLAB.fold_start("train:m 1", "run it", 12.9) == (
        "\x1b[0Ksection_start:12:train_m_1[collapsed=true]\r\x1b[0Krun it")
    assert GITLAB.fold_end("train:m 1", 13.0) == "\x1b[0Ksection_end:13:train_m_1\r\x1b[0K"
    assert GITLAB.annotation("bad", "mlspec.yaml", 1, 1) is None


# --- the report note ---------------------------------------------------------------------------------------


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


# --- the drift issue ---------------------------------------------------------------------------------------


def test_gitlab_opens_one_issue_and_then_updates_it() -> None:
    with fakeapi.serve() as api:
        assert issue.file("wine", "drift", REPORT, gitlab_schedule(api.base)).startswith("opened issue #1: ")
        assert issue.file("wine", "drift", REPORT, gitlab_schedule(api.base)).startswith("updated issue #1: ")
        # A closed issue is history: the next drift opens a new one.
        api.issues[0]["state"] = "closed"
        assert issue.file("wine", "drift", REPORT, gitlab_schedule(api.base)).startswith("opened issue #2: ")
    assert api.issues[0]["description"].startswith(issue.marker("wine"))
    assert api.issues[0]["labels"] == [issue.LABEL]
    assert [c["body"] for c in api.comments["gitlab:42#1"]] == ["Drift again: drift. Pipeline: https://gitlab.example/p/1"]
    assert api.requests[0].query == {"state": "opened", "labels": issue.LABEL, "per_page": "100"}
    assert [(r.method, r.path) for r in api.requests[1:4]] == [
        ("POST", "/api/v4/projects/42/issues"), ("GET", "/api/v4/projects/42/issues"),
        ("PUT", "/api/v4/projects/42/issues/1")]
    assert all(r.headers["private-token"] == fakeapi.GITLAB_TOKEN for r in api.requests)


def test_gitlab_pages_through_open_issues() -> None:
    with fakeapi.serve() as api:
        for i in range(250):
            api.seed_issue(f"hand-written {i}", [issue.LABEL], gitlab=True)
        done = issue.file("wine", "drift", REPORT, gitlab_schedule(api.base))
    assert done == f"opened issue #251: {api.base}/issues/251"
    assert [(r.method, r.query.get("page")) for r in api.requests] == [
        ("GET", None), ("GET", "2"), ("GET", "3"), ("POST", None)]


def test_a_refused_token_names_the_scope_and_role() -> None:
    with fakeapi.serve() as api, pytest.raises(MlspecError) as caught:
        issue.file("wine", "drift", REPORT, {**gitlab_schedule(api.base), "MLSPEC_GITLAB_TOKEN": "job-token"})
    assert str(caught.value) == (
        "GitLab API GET /projects/42/issues?state=opened&labels=mlspec-drift&per_page=100: HTTP 401 Unauthorized: "
        '{"message": "401 Unauthorized"}; MLSPEC_GITLAB_TOKEN needs the api scope and the Reporter role')


def test_the_pipeline_a_job_files_its_run_history_part_under() -> None:
    from mlspec.platforms import Pipeline

    base = {"GITLAB_CI": "true", "CI_PIPELINE_ID": "4242", "CI_JOB_NAME": "train: [forest]", "CI_COMMIT_BRANCH": "main",
            "CI_COMMIT_REF_NAME": "main"}
    assert GITLAB.pipeline(base) == Pipeline("4242", "train: [forest]", "main")
    merge_request = {**base, "CI_COMMIT_BRANCH": "", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature"}
    assert GITLAB.pipeline(merge_request) == Pipeline("4242", "train: [forest]", "feature")
    assert GITLAB.pipeline({"GITLAB_CI": "true"}) is None
