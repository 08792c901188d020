"""The drift issue: one per project, opened on the first drift and updated (plus a comment) on each later one.

``on_drift: issue`` makes the scheduled pipeline run ``mlspec monitor --open-issue`` after a drifting monitor
job. The issue is found again by a hidden marker in its body among the open issues labelled
:data:`LABEL`, so repeated drift never floods the tracker; once a person closes it, the next drift opens a
new one.

* GitHub Actions: the REST API at ``GITHUB_API_URL`` for ``GITHUB_REPOSITORY``, with ``GITHUB_TOKEN``, which
  the generated job passes from ``secrets.GITHUB_TOKEN`` and grants ``issues: write`` (that job only).
* GitLab CI: the REST API at ``CI_API_V4_URL`` for ``CI_PROJECT_ID``, with ``MLSPEC_GITLAB_TOKEN``: a project
  access token with the ``api`` scope and at least the Reporter role, stored as a masked CI/CD variable
  (a job token cannot create issues).

Only the standard library is used (``urllib``); tokens are sent in headers and never printed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from mlspec.errors import MlspecError
from mlspec.report.publish import NO_REDIRECT_OPENER

LABEL = "mlspec-drift"
GITLAB_TOKEN = "MLSPEC_GITLAB_TOKEN"
MAX_BODY = 60_000  # GitHub refuses bodies over 65536 characters
TIMEOUT = 30


def marker(project: str) -> str:
    return f"<!-- mlspec drift issue: {project} -->"


def file(project: str, message: str, report_md: str, environ: Mapping[str, str]) -> str:
    """Open or update the drift issue; returns what was done, with the issue's address."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return _GitHub(environ).file(project, message, report_md)
    if environ.get("GITLAB_CI") == "true":
        return _GitLab(environ).file(project, message, report_md)
    raise MlspecError("--open-issue files the drift issue from a CI job: GitHub Actions (GITHUB_REPOSITORY, "
                      f"GITHUB_TOKEN) or GitLab CI (CI_API_V4_URL, CI_PROJECT_ID, {GITLAB_TOKEN})")


def _body(project: str, report_md: str, run_url: str | None) -> str:
    if len(report_md) > MAX_BODY:
        report_md = report_md[:MAX_BODY] + "\n\n… (cut; the whole report is in the run's artifacts)\n"
    footer = f"\n---\nLast updated by {run_url}\n" if run_url else ""
    return f"{marker(project)}\n{report_md}{footer}"


class _Api:
    name = ""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base = base.rstrip("/")
        self.headers = {"User-Agent": "mlspec", "Content-Type": "application/json", **headers}

    def call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, body, self.headers, method=method)
        try:
            # Same rule as PR comments: a token never follows a redirect to another host.
            with NO_REDIRECT_OPENER.open(request, timeout=TIMEOUT) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            hint = self.hint(exc.code)
            raise MlspecError(f"{self.name} API {method} {path}: HTTP {exc.code} {exc.reason}: {detail}"
                              + (f"; {hint}" if hint else "")) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise MlspecError(f"{self.name} API {method} {self.base}{path}: {exc}") from None
        from mlspec import jsonio

        # An API answer comes from the network: bounded and located like any document mlspec did not write.
        return jsonio.loads(text, f"{self.name} API {method} {path} answer") if text.strip() else None

    def hint(self, code: int) -> str:
        return ""


class _GitHub(_Api):
    name = "GitHub"

    def __init__(self, environ: Mapping[str, str]) -> None:
        token = environ.get("GITHUB_TOKEN")
        self.repo = environ.get("GITHUB_REPOSITORY", "")
        if not token or not self.repo:
            raise MlspecError("--open-issue needs GITHUB_TOKEN and GITHUB_REPOSITORY; give the step "
                              "`env: {GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}}` and the job "
                              "`permissions: {issues: write}`")
        super().__init__(environ.get("GITHUB_API_URL") or "https://api.github.com",
                         {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                          "X-GitHub-Api-Version": "2022-11-28"})
        server, run = environ.get("GITHUB_SERVER_URL", "https://github.com"), environ.get("GITHUB_RUN_ID")
        self.run_url = f"{server}/{self.repo}/actions/runs/{run}" if run else None

    def hint(self, code: int) -> str:
        return "the job needs `permissions: {issues: write}`" if code in (401, 403, 404) else ""

    def file(self, project: str, message: str, report_md: str) -> str:
        repo = urllib.parse.quote(self.repo, safe="/")
        body, title = _body(project, report_md, self.run_url), f"Drift detected: {project}"
        query = urllib.parse.urlencode({"state": "open", "labels": LABEL, "per_page": 100})
        found = [i for i in self.call("GET", f"/repos/{repo}/issues?{query}") or []
                 if "pull_request" not in i and marker(project) in (i.get("body") or "")]
        if not found:
            made = self.call("POST", f"/repos/{repo}/issues", {"title": title, "body": body, "labels": [LABEL]})
            return f"opened issue #{made['number']}: {made.get('html_url', '')}"
        number = min(i["number"] for i in found)
        self.call("PATCH", f"/repos/{repo}/issues/{number}", {"title": title, "body": body})
        note = f"Drift again: {message}." + (f" Run: {self.run_url}" if self.run_url else "")
        self.call("POST", f"/repos/{repo}/issues/{number}/comments", {"body": note})
        url = next(i.get("html_url", "") for i in found if i["number"] == number)
        return f"updated issue #{number}: {url}"


class _GitLab(_Api):
    name = "GitLab"

    def __init__(self, environ: Mapping[str, str]) -> None:
        token, base, self.project_id = (environ.get(GITLAB_TOKEN), environ.get("CI_API_V4_URL"),
                                        environ.get("CI_PROJECT_ID", ""))
        if not token:
            raise MlspecError(f"--open-issue needs the CI/CD variable {GITLAB_TOKEN}: a project access token with "
                              "the api scope (Reporter role or above), masked; a job token cannot create issues")
        if not base or not self.project_id:
            raise MlspecError("--open-issue needs CI_API_V4_URL and CI_PROJECT_ID, which GitLab CI sets")
        super().__init__(base, {"PRIVATE-TOKEN": token})
        self.run_url = environ.get("CI_PIPELINE_URL")

    def hint(self, code: int) -> str:
        return f"{GITLAB_TOKEN} needs the api scope and the Reporter role" if code in (401, 403) else ""

    def file(self, project: str, message: str, report_md: str) -> str:
        base = f"/projects/{urllib.parse.quote(self.project_id, safe='')}/issues"
        body, title = _body(project, report_md, self.run_url), f"Drift detected: {project}"
        query = urllib.parse.urlencode({"state": "opened", "labels": LABEL, "per_page": 100})
        found = [i for i in self.call("GET", f"{base}?{query}") or []
                 if marker(project) in (i.get("description") or "")]
        if not found:
            made = self.call("POST", base, {"title": title, "description": body, "labels": LABEL})
            return f"opened issue #{made['iid']}: {made.get('web_url', '')}"
        iid = min(i["iid"] for i in found)
        self.call("PUT", f"{base}/{iid}", {"title": title, "description": body})
        note = f"Drift again: {message}." + (f" Pipeline: {self.run_url}" if self.run_url else "")
        self.call("POST", f"{base}/{iid}/notes", {"body": note})
        url = next(i.get("web_url", "") for i in found if i["iid"] == iid)
        return f"updated issue #{iid}: {url}"
