"""`mlspec comment`: the Markdown report as **one** pull/merge request comment, edited in place on every push.

The comment is found again by the hidden marker on its first line (``<!-- mlspec-report: <project> -->``):
the first comment of the thread that starts with it is edited; only when there is none is one created. So a
pull request has one mlspec comment however often it is pushed to, not one per commit.

* GitHub Actions: the pull request comes from the event payload (``GITHUB_EVENT_PATH``); the comments are
  the pull request's issue comments (``GET/POST /repos/{owner}/{repo}/issues/{n}/comments``, ``PATCH
  /repos/{owner}/{repo}/issues/comments/{id}``), with ``GITHUB_TOKEN`` (the job needs ``pull-requests:
  write``) against ``GITHUB_API_URL``.
* GitLab CI: merge request notes (``GET/POST /projects/:id/merge_requests/:iid/notes``, ``PUT
  .../notes/:note_id``) against ``CI_API_V4_URL``, with a project access token (``api`` scope) in
  ``MLSPEC_GITLAB_TOKEN``: ``CI_JOB_TOKEN`` cannot write notes.

Nothing to comment on is not an error: outside a pull/merge request, without a token (a pull request from a
fork gets none that can write, and its report is in the job summary and artifacts), the command prints a
notice and succeeds. An API that refuses is an error with the platform's own message and what to check.
Requests use the standard library, with a timeout, no redirects (a token must not follow one to another
host) and pagination only within the API's own origin; pages are bounded.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlspec import __version__, jsonio
from mlspec.errors import MlspecError
from mlspec.load import Loaded
from mlspec.report import marker

TIMEOUT = 30.0
MAX_PAGES = 50  # 5,000 comments at 100 a page: far more than any pull request has
MAX_RESPONSE_BYTES = 32 << 20
GITLAB_TOKEN_VAR = "MLSPEC_GITLAB_TOKEN"
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


@dataclass(frozen=True)
class Thread:
    """One pull/merge request's comments, and how to talk to its platform's API."""

    platform: str
    what: str
    """For people: ``pull request #12 of octo/repo``."""
    api: str
    comments: str
    """URL of the first page of comments (oldest first), also where a new one is POSTed without the query."""
    comment: str
    """URL of one comment, with ``{id}``."""
    update_method: str
    headers: Mapping[str, str]
    is_system: str = ""
    """A key whose true value marks a comment written by the platform itself (GitLab's system notes)."""


def comment(loaded: Loaded, body_file: Path | None = None, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Post or update the report comment; ``body_file`` replaces the report rendered from the workspace."""
    thread = locate(environ)
    if isinstance(thread, str):
        return [f"notice: {thread}"]
    tag = marker(loaded.spec.project)
    if body_file is None:
        from mlspec.report import markdown
        from mlspec.report.model import collect
        from mlspec.report.outputs import default_dir

        body = markdown.render(collect(loaded, default_dir(loaded, environ), environ))
    else:
        try:
            body = body_file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MlspecError(f"cannot read the comment body {body_file}: {exc}") from None
        if not body.startswith(tag):
            body = f"{tag}\n{body}"
    return [publish(thread, body, tag)]


def locate(environ: Mapping[str, str] = os.environ) -> Thread | str:
    """The thread to comment on, or why there is none here (a notice, not an error)."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return _github(environ)
    if environ.get("GITLAB_CI") == "true":
        return _gitlab(environ)
    return "not running in GitHub Actions or GitLab CI: no pull or merge request to comment on"


def _github(environ: Mapping[str, str]) -> Thread | str:
    token = environ.get("GITHUB_TOKEN", "")
    if not token:
        return ("GITHUB_TOKEN is not set for this step (pull requests from forks get no token that can write); "
                "the report is in the job summary and the run's artifacts")
    path = environ.get("GITHUB_EVENT_PATH")
    if not path:
        raise MlspecError("GITHUB_EVENT_PATH is not set: GitHub Actions names the event payload there")
    try:
        event = jsonio.read(path, what=f"{path} (GITHUB_EVENT_PATH)")
    except (OSError, jsonio.JsonError) as exc:
        raise MlspecError(f"cannot read the GitHub event payload: {exc}") from None
    pull = event.get("pull_request") if isinstance(event, dict) else None
    if not isinstance(pull, dict) or not isinstance(pull.get("number"), int) or isinstance(pull["number"], bool):
        return f"the {environ.get('GITHUB_EVENT_NAME') or 'current'} event is not a pull request: nothing to comment on"
    repository = environ.get("GITHUB_REPOSITORY", "")
    head = jsonio.dig(pull, "head", "repo", "full_name")
    if head != repository:
        return (f"pull request #{pull['number']} comes from another repository ({head or 'unknown'}), whose token "
                "cannot write here; the report is in the job summary and the run's artifacts")
    api = environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    repo = "/".join(urllib.parse.quote(part, safe="") for part in repository.split("/"))
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
               "X-GitHub-Api-Version": "2022-11-28", "User-Agent": f"mlspec/{__version__}"}
    return Thread("GitHub", f"pull request #{pull['number']} of {repository}", api,
                  f"{api}/repos/{repo}/issues/{pull['number']}/comments?per_page=100",
                  f"{api}/repos/{repo}/issues/comments/{{id}}", "PATCH", headers)


def _gitlab(environ: Mapping[str, str]) -> Thread | str:
    iid = environ.get("CI_MERGE_REQUEST_IID", "")
    if not iid:
        return "not a merge request pipeline (CI_MERGE_REQUEST_IID is not set): nothing to comment on"
    token = environ.get(GITLAB_TOKEN_VAR, "")
    if not token:
        return (f"{GITLAB_TOKEN_VAR} is not set, so no merge request note is posted: add a project access token "
                "with the api scope as a masked CI/CD variable (CI_JOB_TOKEN cannot write notes); the report is "
                "in the job's artifacts and test report")
    api = environ.get("CI_API_V4_URL", "").rstrip("/")
    project = environ.get("CI_PROJECT_ID", "")
    if not api or not project:
        raise MlspecError("CI_API_V4_URL and CI_PROJECT_ID must be set in a GitLab merge request pipeline")
    notes = f"{api}/projects/{urllib.parse.quote(project, safe='')}/merge_requests/{urllib.parse.quote(iid)}/notes"
    headers = {"PRIVATE-TOKEN": token, "Accept": "application/json", "User-Agent": f"mlspec/{__version__}"}
    return Thread("GitLab", f"merge request !{iid} of project {project}", api,
                  f"{notes}?per_page=100&sort=asc&order_by=created_at", f"{notes}/{{id}}", "PUT", headers,
                  is_system="system")


def publish(thread: Thread, body: str, marker: str) -> str:
    """Edit the comment that starts with ``marker``, or create one; returns what was done."""
    existing = find(thread, marker)
    if existing is None:
        created = _call(thread, "POST", thread.comments.split("?", 1)[0], {"body": body})[0]
        return f"posted the report as comment {created.get('id')} on {thread.what}"
    _call(thread, "PUT" if thread.update_method == "PUT" else "PATCH", thread.comment.format(id=existing),
          {"body": body})
    return f"updated the report in comment {existing} on {thread.what}"


def find(thread: Thread, marker: str) -> int | None:
    """The id of the oldest comment that starts with ``marker`` (as the report writes it, not quoted)."""
    url: str | None = thread.comments
    for _ in range(MAX_PAGES):
        if url is None:
            return None
        page, headers = _call(thread, "GET", url)
        if not isinstance(page, list):
            raise MlspecError(f"the {thread.platform} API listed the comments of {thread.what} as "
                              f"{type(page).__name__}, not a list")
        for item in page:
            if (isinstance(item, dict) and isinstance(item.get("body"), str) and item["body"].startswith(marker)
                    and not (thread.is_system and item.get(thread.is_system)) and isinstance(item.get("id"), int)):
                return int(item["id"])
        url = _next_page(thread, url, headers)
    raise MlspecError(f"{thread.what} has more than {MAX_PAGES} pages of comments; not looking further")


def _next_page(thread: Thread, url: str, headers: Mapping[str, str]) -> str | None:
    found = _NEXT.search(headers.get("Link") or "")
    if found:
        following = found[1]
    elif headers.get("X-Next-Page"):  # GitLab also says it this way
        parts = urllib.parse.urlsplit(url)
        query = dict(urllib.parse.parse_qsl(parts.query))
        query["page"] = headers["X-Next-Page"]
        following = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    else:
        return None
    if _origin(following) != _origin(thread.api):
        raise MlspecError(f"the {thread.platform} API pointed the next page of comments at {_origin(following)}, "
                          f"not at {_origin(thread.api)}; not sending the token there")
    return following


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status, reported like any refusal


NO_REDIRECT_OPENER = urllib.request.build_opener(_NoRedirect)
"""The opener for every call that carries a token: a redirect must never take the token to another host."""


def _call(thread: Thread, method: str, url: str, payload: dict[str, Any] | None = None
          ) -> tuple[Any, Mapping[str, str]]:
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    headers = dict(thread.headers)
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with NO_REDIRECT_OPENER.open(request, timeout=TIMEOUT) as response:
            raw = response.read(MAX_RESPONSE_BYTES + 1)
            answer_headers = {k: v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        raise MlspecError(_refusal(thread, method, url, exc)) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise MlspecError(f"cannot reach the {thread.platform} API at {thread.api}: {reason}") from None
    if len(raw) > MAX_RESPONSE_BYTES:
        raise MlspecError(f"the {thread.platform} API answered {method} {_path(url)} with more than "
                          f"{MAX_RESPONSE_BYTES >> 20} MiB")
    try:
        return jsonio.loads(raw or b"null", "answer"), answer_headers
    except jsonio.JsonError as exc:
        raise MlspecError(f"the {thread.platform} API answered {method} {_path(url)} with something that is not "
                          f"JSON ({exc}): {_snippet(raw)}") from None


def _refusal(thread: Thread, method: str, url: str, exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read(64 << 10)
    except OSError:
        raw = b""
    detail = _snippet(raw)
    try:
        data = jsonio.loads(raw, "answer")
        if isinstance(data, dict):
            detail = str(data.get("message") or data.get("error") or detail)
    except jsonio.JsonError:
        pass
    text = f"the {thread.platform} API refused {method} {_path(url)}: {exc.code} {exc.reason}"
    text += f" ({detail})" if detail else ""
    return f"{text}; {_hint(thread, exc.code)}"


def _hint(thread: Thread, status: int) -> str:
    if thread.platform == "GitHub":
        if status == 401:
            return "GITHUB_TOKEN was not accepted"
        if status in (403, 404):
            return ("the job needs `permissions: pull-requests: write` (the report job that `mlspec compile` "
                    "generates has it), and a pull request from a fork gets a read-only token")
    else:
        if status == 401:
            return (f"{GITLAB_TOKEN_VAR} was not accepted: use a project access token with the api scope that has "
                    "not expired")
        if status in (403, 404):
            return (f"the token in {GITLAB_TOKEN_VAR} must belong to this project (CI_PROJECT_ID) with the api scope "
                    "and at least the Reporter role")
    if 300 <= status < 400:
        return "redirects are not followed with a token; point the API URL at its final address"
    if status == 429 or status >= 500:
        return f"{thread.platform} is busy or failing; run the job again later"
    return f"{thread.platform} did not accept the request"


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def _snippet(raw: bytes) -> str:
    text = " ".join(raw.decode("utf-8", "replace").split())
    return text if len(text) <= 200 else text[:197] + "..."
