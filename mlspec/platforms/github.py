"""GitHub Actions: everything mlspec knows of it at run time.

* Detection: ``GITHUB_ACTIONS=true``. The job's facts come from the default variables
  (https://docs.github.com/en/actions/reference/variables-reference): ``GITHUB_ACTOR``, ``GITHUB_SHA``,
  ``GITHUB_REF_NAME`` / ``GITHUB_REF_TYPE``, ``GITHUB_BASE_REF`` (the target of a pull request),
  ``GITHUB_SERVER_URL`` + ``GITHUB_REPOSITORY`` + ``GITHUB_RUN_ID`` (+ ``GITHUB_RUN_ATTEMPT``) for the run's
  page, and the event payload at ``GITHUB_EVENT_PATH``; on pull requests ``GITHUB_SHA`` is a merge commit,
  so a report names the pushed head from the payload instead.
* Log: lines between ``::group::TITLE`` and ``::endgroup::`` fold; ``::error file=F,line=L,col=C::MESSAGE``
  becomes an annotation on the file, shown in the log and on the pull request. Markdown appended to the file
  ``$GITHUB_STEP_SUMMARY`` shows on the run's page (what a pull request from a fork shows, since its token
  cannot write a comment).
* API (``GITHUB_API_URL``, with ``GITHUB_TOKEN``): the report comment is one of the pull request's issue
  comments (``GET/POST /repos/{owner}/{repo}/issues/{n}/comments``, ``PATCH .../issues/comments/{id}``; the job
  needs ``pull-requests: write``); the drift issue is an issue labelled for it (``GET/POST
  /repos/{owner}/{repo}/issues``, ``PATCH .../issues/{n}``, ``POST .../issues/{n}/comments``; ``issues:
  write``). Pull requests are issues too, with a ``pull_request`` key: they are skipped.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path

from mlspec import __version__, jsonio
from mlspec.errors import MlspecError
from mlspec.platforms import issues
from mlspec.platforms.base import DriftIssue, JobFacts, Pipeline, Platform
from mlspec.platforms.comments import Thread
from mlspec.platforms.http import Client

DETECT_VAR = "GITHUB_ACTIONS"
TOKEN_VAR = "GITHUB_TOKEN"
SUMMARY_VAR = "GITHUB_STEP_SUMMARY"
EVENT_VAR = "GITHUB_EVENT_PATH"
DEFAULT_API = "https://api.github.com"
_RUN_VARS = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")


class GitHub(Platform):
    name = "github"
    ci = "GitHub Actions"
    token_var = TOKEN_VAR
    run_noun = "Run"
    issue_settings = f"GitHub Actions (GITHUB_REPOSITORY, {TOKEN_VAR})"

    def detected(self, env: Mapping[str, str]) -> bool:
        return env.get(DETECT_VAR) == "true"

    def job(self, env: Mapping[str, str]) -> JobFacts:
        run = self.run_url(env)
        if run and env.get("GITHUB_RUN_ATTEMPT", "1") != "1":
            run += f"/attempts/{env['GITHUB_RUN_ATTEMPT']}"
        return JobFacts(env.get("GITHUB_ACTOR") or "github-actions", env.get("GITHUB_SHA"), env.get("GITHUB_REF_NAME"),
                        run)

    def merge_target(self, env: Mapping[str, str]) -> str | None:
        return env.get("GITHUB_BASE_REF") or None

    def pushed_branch(self, env: Mapping[str, str]) -> str | None:
        if env.get("GITHUB_REF_TYPE") == "branch" and env.get("GITHUB_REF_NAME"):
            return env["GITHUB_REF_NAME"]
        return None

    def commit(self, env: Mapping[str, str]) -> str | None:
        head = _head_sha(Path(env[EVENT_VAR])) if env.get(EVENT_VAR) else None
        return head or env.get("GITHUB_SHA") or None

    def run_url(self, env: Mapping[str, str]) -> str | None:
        if not all(env.get(k) for k in _RUN_VARS):
            return None
        server, repo, run = (env[k] for k in _RUN_VARS)
        return f"{server}/{repo}/actions/runs/{run}"

    def pipeline(self, env: Mapping[str, str]) -> Pipeline | None:
        # A re-run keeps GITHUB_RUN_ID and counts GITHUB_RUN_ATTEMPT up: each attempt is its own run.
        if not env.get("GITHUB_RUN_ID"):
            return None
        attempt = env.get("GITHUB_RUN_ATTEMPT", "1")
        run = env["GITHUB_RUN_ID"] + ("" if attempt == "1" else f"-{attempt}")
        return Pipeline(run, env.get("GITHUB_JOB") or "job", env.get("GITHUB_HEAD_REF") or self.pushed_branch(env))

    def job_summary(self, env: Mapping[str, str]) -> tuple[str, Path] | None:
        return (SUMMARY_VAR, Path(env[SUMMARY_VAR])) if env.get(SUMMARY_VAR) else None

    def fold_start(self, name: str, title: str, now: float) -> str:
        return f"::group::{title}"

    def fold_end(self, name: str, now: float) -> str:
        return "::endgroup::"

    def annotation(self, text: str, file: str, line: int, col: int) -> str:
        where = _escape(file).replace(":", "%3A").replace(",", "%2C")
        return f"::error file={where},line={line},col={col}::{_escape(text)}"

    def comment_thread(self, env: Mapping[str, str]) -> Thread | str:
        token = env.get(TOKEN_VAR, "")
        if not token:
            return (f"{TOKEN_VAR} is not set for this step (pull requests from forks get no token that can write); "
                    "the report is in the job summary and the run's artifacts")
        path = env.get(EVENT_VAR)
        if not path:
            raise MlspecError(f"{EVENT_VAR} is not set: GitHub Actions names the event payload there")
        try:
            event = jsonio.read(path, what=f"{path} ({EVENT_VAR})")
        except (OSError, jsonio.JsonError) as exc:
            raise MlspecError(f"cannot read the GitHub event payload: {exc}") from None
        pull = event.get("pull_request") if isinstance(event, dict) else None
        if not isinstance(pull, dict) or not isinstance(pull.get("number"), int) or isinstance(pull["number"], bool):
            return (f"the {env.get('GITHUB_EVENT_NAME') or 'current'} event is not a pull request: nothing to "
                    "comment on")
        repository = env.get("GITHUB_REPOSITORY", "")
        head = jsonio.dig(pull, "head", "repo", "full_name")
        if head != repository:
            return (f"pull request #{pull['number']} comes from another repository ({head or 'unknown'}), whose "
                    "token cannot write here; the report is in the job summary and the run's artifacts")
        client = _client(env, token, _comment_hint)
        repo = _repo_path(repository)
        return Thread(client, f"pull request #{pull['number']} of {repository}",
                      f"{client.base}/repos/{repo}/issues/{pull['number']}/comments?per_page=100",
                      f"{client.base}/repos/{repo}/issues/comments/{{id}}", "PATCH")

    def file_issue(self, env: Mapping[str, str], issue: DriftIssue) -> str:
        token, repository = env.get(TOKEN_VAR), env.get("GITHUB_REPOSITORY", "")
        if not token or not repository:
            raise MlspecError(f"--open-issue needs {TOKEN_VAR} and GITHUB_REPOSITORY; give the step "
                              f"`env: {{{TOKEN_VAR}: ${{{{ secrets.{TOKEN_VAR} }}}}}}` and the job "
                              "`permissions: {issues: write}`")
        client = _client(env, token, _issue_hint)
        base = f"/repos/{_repo_path(repository)}/issues"
        query = urllib.parse.urlencode({"state": "open", "labels": issue.label, "per_page": 100})
        found = issues.listed(client, f"{base}?{query}", repository,
                              lambda i: "pull_request" not in i and issue.marker in (i.get("body") or ""))
        if not found:
            made = issues.call(client, "POST", base, {"title": issue.title, "body": issue.body,
                                                      "labels": [issue.label]})
            return f"opened issue #{made['number']}: {made.get('html_url', '')}"
        number = min(i["number"] for i in found)
        issues.call(client, "PATCH", f"{base}/{number}", {"title": issue.title, "body": issue.body})
        issues.call(client, "POST", f"{base}/{number}/comments", {"body": issue.again})
        url = next(i.get("html_url", "") for i in found if i["number"] == number)
        return f"updated issue #{number}: {url}"


def _client(env: Mapping[str, str], token: str, hint: Callable[[int], str]) -> Client:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
               "X-GitHub-Api-Version": "2022-11-28", "User-Agent": f"mlspec/{__version__}"}
    return Client("GitHub", env.get("GITHUB_API_URL") or DEFAULT_API, headers, hint)


def _repo_path(repository: str) -> str:
    return "/".join(urllib.parse.quote(part, safe="") for part in repository.split("/"))


def _comment_hint(status: int) -> str:
    if status == 401:
        return f"{TOKEN_VAR} was not accepted"
    if status in (403, 404):
        return ("the job needs `permissions: pull-requests: write` (the report job that `mlspec compile` "
                "generates has it), and a pull request from a fork gets a read-only token")
    return ""


def _issue_hint(status: int) -> str:
    return "the job needs `permissions: {issues: write}`" if status in (401, 403, 404) else ""


def _head_sha(event: Path) -> str | None:
    try:
        data = jsonio.read(event)
    except (OSError, jsonio.JsonError):  # only a nicer commit id: nothing depends on it
        return None
    sha = jsonio.dig(data, "pull_request", "head", "sha")
    return sha if isinstance(sha, str) and sha else None


def _escape(text: str) -> str:
    # Workflow commands end at a newline; these escapes are how GitHub spells them in a message.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


PLATFORM = GitHub()
