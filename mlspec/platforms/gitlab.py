"""GitLab CI: everything mlspec knows of it at run time.

* Detection: ``GITLAB_CI=true``. The job's facts come from the predefined variables
  (https://docs.gitlab.com/ci/variables/predefined_variables/): ``GITLAB_USER_LOGIN``, ``CI_COMMIT_SHA``,
  ``CI_COMMIT_REF_NAME``, ``CI_COMMIT_BRANCH`` (set in branch pipelines only),
  ``CI_MERGE_REQUEST_TARGET_BRANCH_NAME``, ``CI_PIPELINE_URL`` / ``CI_JOB_URL``, ``CI_PROJECT_DIR``.
* Log: lines between ``section_start`` and ``section_end`` markers fold. A file among a job's artifacts has its
  own link (``<job>/artifacts/file/<path>``).
* API (``CI_API_V4_URL`` for ``CI_PROJECT_ID``), with a project access token (``api`` scope, Reporter role or
  above) in the masked CI/CD variable :data:`TOKEN_VAR`: a job token (``CI_JOB_TOKEN``) can write neither
  notes nor issues. The report comment is a merge request note (``GET/POST
  /projects/:id/merge_requests/:iid/notes``, ``PUT .../notes/:note_id``); the drift issue a labelled issue
  (``GET/POST /projects/:id/issues``, ``PUT .../issues/:iid``, ``POST .../issues/:iid/notes``).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path

from mlspec import __version__
from mlspec.errors import MlspecError
from mlspec.platforms import issues
from mlspec.platforms.base import DriftIssue, JobFacts, Pipeline, Platform
from mlspec.platforms.comments import Thread
from mlspec.platforms.http import Client

DETECT_VAR = "GITLAB_CI"
TOKEN_VAR = "MLSPEC_GITLAB_TOKEN"
_ESC = "\x1b[0K"  # "erase to end of line", which GitLab's log viewer expects around section markers


class GitLab(Platform):
    name = "gitlab"
    ci = "GitLab CI"
    token_var = TOKEN_VAR
    run_noun = "Pipeline"
    issue_settings = f"GitLab CI (CI_API_V4_URL, CI_PROJECT_ID, {TOKEN_VAR})"

    def detected(self, env: Mapping[str, str]) -> bool:
        return env.get(DETECT_VAR) == "true"

    def job(self, env: Mapping[str, str]) -> JobFacts:
        return JobFacts(env.get("GITLAB_USER_LOGIN") or "gitlab-ci", env.get("CI_COMMIT_SHA"),
                        env.get("CI_COMMIT_REF_NAME"), env.get("CI_JOB_URL") or env.get("CI_PIPELINE_URL"))

    def merge_target(self, env: Mapping[str, str]) -> str | None:
        return env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME") or None

    def pushed_branch(self, env: Mapping[str, str]) -> str | None:
        return env.get("CI_COMMIT_BRANCH") or None

    def commit(self, env: Mapping[str, str]) -> str | None:
        return env.get("CI_COMMIT_SHA") or None

    def run_url(self, env: Mapping[str, str]) -> str | None:
        return env.get("CI_PIPELINE_URL") or None

    def pipeline(self, env: Mapping[str, str]) -> Pipeline | None:
        # A retried job runs again in the same pipeline (CI_PIPELINE_ID): it adds a part to the same run.
        if not env.get("CI_PIPELINE_ID"):
            return None
        branch = (env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") or env.get("CI_COMMIT_BRANCH")
                  or env.get("CI_COMMIT_REF_NAME"))
        return Pipeline(env["CI_PIPELINE_ID"], env.get("CI_JOB_NAME") or "job", branch)

    def artifact_url(self, env: Mapping[str, str], path: Path) -> str | None:
        job, project_dir = env.get("CI_JOB_URL"), env.get("CI_PROJECT_DIR")
        if not (job and project_dir):
            return None
        try:
            rel = path.absolute().relative_to(Path(project_dir).absolute())
        except ValueError:
            return ""
        return f"{job}/artifacts/file/{rel.as_posix()}"

    def fold_start(self, name: str, title: str, now: float) -> str:
        return f"{_ESC}section_start:{int(now)}:{_section(name)}[collapsed=true]\r{_ESC}{title}"

    def fold_end(self, name: str, now: float) -> str:
        return f"{_ESC}section_end:{int(now)}:{_section(name)}\r{_ESC}"

    def comment_thread(self, env: Mapping[str, str]) -> Thread | str:
        iid = env.get("CI_MERGE_REQUEST_IID", "")
        if not iid:
            return "not a merge request pipeline (CI_MERGE_REQUEST_IID is not set): nothing to comment on"
        token = env.get(TOKEN_VAR, "")
        if not token:
            return (f"{TOKEN_VAR} is not set, so no merge request note is posted: add a project access token "
                    "with the api scope as a masked CI/CD variable (CI_JOB_TOKEN cannot write notes); the report "
                    "is in the job's artifacts and test report")
        api, project = env.get("CI_API_V4_URL", ""), env.get("CI_PROJECT_ID", "")
        if not api or not project:
            raise MlspecError("CI_API_V4_URL and CI_PROJECT_ID must be set in a GitLab merge request pipeline")
        client = _client(api, token, _comment_hint)
        notes = f"{client.base}/projects/{_project_path(project)}/merge_requests/{urllib.parse.quote(iid)}/notes"
        return Thread(client, f"merge request !{iid} of project {project}",
                      f"{notes}?per_page=100&sort=asc&order_by=created_at", f"{notes}/{{id}}", "PUT",
                      is_system="system")

    def file_issue(self, env: Mapping[str, str], issue: DriftIssue) -> str:
        token, api, project = env.get(TOKEN_VAR), env.get("CI_API_V4_URL"), env.get("CI_PROJECT_ID", "")
        if not token:
            raise MlspecError(f"--open-issue needs the CI/CD variable {TOKEN_VAR}: a project access token with "
                              "the api scope (Reporter role or above), masked; a job token cannot create issues")
        if not api or not project:
            raise MlspecError("--open-issue needs CI_API_V4_URL and CI_PROJECT_ID, which GitLab CI sets")
        client = _client(api, token, _issue_hint)
        base = f"/projects/{_project_path(project)}/issues"
        query = urllib.parse.urlencode({"state": "opened", "labels": issue.label, "per_page": 100})
        found = issues.listed(client, f"{base}?{query}", f"project {project}",
                              lambda i: issue.marker in (i.get("description") or ""))
        if not found:
            made = issues.call(client, "POST", base, {"title": issue.title, "description": issue.body,
                                                      "labels": issue.label})
            return f"opened issue #{made['iid']}: {made.get('web_url', '')}"
        iid = min(i["iid"] for i in found)
        issues.call(client, "PUT", f"{base}/{iid}", {"title": issue.title, "description": issue.body})
        issues.call(client, "POST", f"{base}/{iid}/notes", {"body": issue.again})
        url = next(i.get("web_url", "") for i in found if i["iid"] == iid)
        return f"updated issue #{iid}: {url}"


def _client(api: str, token: str, hint: Callable[[int], str]) -> Client:
    headers = {"PRIVATE-TOKEN": token, "Accept": "application/json", "User-Agent": f"mlspec/{__version__}"}
    return Client("GitLab", api, headers, hint)


def _project_path(project: str) -> str:
    return urllib.parse.quote(project, safe="")


def _comment_hint(status: int) -> str:
    if status == 401:
        return f"{TOKEN_VAR} was not accepted: use a project access token with the api scope that has not expired"
    if status in (403, 404):
        return (f"the token in {TOKEN_VAR} must belong to this project (CI_PROJECT_ID) with the api scope and at "
                "least the Reporter role")
    return ""


def _issue_hint(status: int) -> str:
    return f"{TOKEN_VAR} needs the api scope and the Reporter role" if status in (401, 403) else ""


def _section(name: str) -> str:
    """Section names allow only letters, digits, ``_``, ``.`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


PLATFORM = GitLab()
