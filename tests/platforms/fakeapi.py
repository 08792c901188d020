"""A strict stand-in for the parts of the GitHub and GitLab REST APIs that mlspec calls: the pull/merge request
comments of `mlspec comment`, and the issues of `mlspec monitor --open-issue`.

A real HTTP server on 127.0.0.1 (a random free port, one thread per request) that checks every request the
way the real APIs define it, and answers like them:

GitHub (https://docs.github.com/en/rest/issues/comments):
  GET   /repos/{owner}/{repo}/issues/{n}/comments?per_page=..&page=..  → 200, a JSON list, ``Link`` rel="next"
  POST  /repos/{owner}/{repo}/issues/{n}/comments    {"body": "..."}   → 201, the comment
  PATCH /repos/{owner}/{repo}/issues/comments/{id}   {"body": "..."}   → 200, the comment
  headers: ``Authorization: Bearer <token>``, ``Accept: application/vnd.github+json``,
  ``X-GitHub-Api-Version: 2022-11-28``, a ``User-Agent`` (GitHub rejects requests without one), and
  ``Content-Type: application/json`` with a body.
GitLab (https://docs.gitlab.com/api/notes/#merge-requests):
  GET  /api/v4/projects/:id/merge_requests/:iid/notes?per_page=..&page=..&sort=..&order_by=..
       → 200, a list, ``X-Next-Page`` and ``Link`` headers
  POST /api/v4/projects/:id/merge_requests/:iid/notes            {"body": "..."} → 201, the note
  PUT  /api/v4/projects/:id/merge_requests/:iid/notes/:note_id   {"body": "..."} → 200, the note
  headers: ``PRIVATE-TOKEN: <token>``.
Issues, of one repository / project (https://docs.github.com/en/rest/issues, https://docs.gitlab.com/api/issues/):
  GET   /repos/{o}/{r}/issues?state=open&labels=..&per_page=..&page=..  → open issues with that label (pull
        requests are issues too, with a ``pull_request`` key), paged like the comments
  POST  /repos/{o}/{r}/issues  {"title", "body", "labels": [..]} → 201;  PATCH /repos/{o}/{r}/issues/{n}
  POST  /repos/{o}/{r}/issues/{n}/comments  {"body"} → 201
  GET   /api/v4/projects/:id/issues?state=opened&labels=..&per_page=..&page=..
  POST  /api/v4/projects/:id/issues  {"title", "description", "labels": "a,b"} → 201;  PUT .../issues/:iid
  POST  /api/v4/projects/:id/issues/:iid/notes  {"body"} → 201

Anything else is refused with the status the real API would give (401 bad token, 404 unknown path, 405,
400/422 bad body); every request is recorded, refused or not, for the test to inspect.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GITHUB_TOKEN = "ghs_test-token"
GITLAB_TOKEN = "glpat-test-token"
MAX_BODY = 1 << 20


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Api:
    """The state of the fake: comments by thread, and every request seen."""

    base: str = ""
    requests: list[Request] = field(default_factory=list)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Thread key (``github:octo/repo#12``, ``gitlab:42!7``) → its comments, oldest first."""
    issues: list[dict[str, Any]] = field(default_factory=list)
    """The issues of the one repository or project, by number (``number`` on GitHub, ``iid`` on GitLab); their
    comments are threads of :attr:`comments` (``github:octo/repo#3``, ``gitlab:42#3``), as on GitHub, where
    a pull request's comments are its issue's."""
    refuse: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    """Method → (status, JSON body) to answer instead, to test refusals."""
    extra_headers: dict[str, str] = field(default_factory=dict)
    """Added to every answer (e.g. a ``Link`` pointing elsewhere)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1000

    def seed(self, thread: str, body: str, system: bool = False, login: str = "octocat") -> dict[str, Any]:
        with self.lock:
            self.next_id += 1
            item = {"id": self.next_id, "body": body, "user": {"login": login, "type": "User"},
                    "author": {"username": login}, "system": system}
            self.comments.setdefault(thread, []).append(item)
            return item

    def seed_issue(self, body: str, labels: list[str], state: str = "open", pull_request: bool = False,
                   gitlab: bool = False) -> dict[str, Any]:
        """An issue as the platform lists it; ``state`` is GitHub's word (``opened`` on GitLab)."""
        with self.lock:
            number = len(self.issues) + 1
            key, text, url = ("iid", "description", "web_url") if gitlab else ("number", "body", "html_url")
            issue: dict[str, Any] = {key: number, "title": f"issue {number}", text: body, "labels": labels,
                                     "state": "opened" if gitlab and state == "open" else state,
                                     url: f"{self.base}/issues/{number}"}
            if pull_request:
                issue["pull_request"] = {"url": f"{self.base}/pulls/{number}"}
            self.issues.append(issue)
            return issue

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method != "GET"]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the test reads api.requests
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        api = self.server.api
        parts = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, MAX_BODY)) if length else b""
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        request = Request(self.command, parts.path, dict(urllib.parse.parse_qsl(parts.query)),
                          {k.lower(): v for k, v in self.headers.items()}, body)
        with api.lock:
            api.requests.append(request)
        if self.command in api.refuse:
            status, payload = api.refuse[self.command]
            self._answer(request, status, payload)
            return
        if parts.path.startswith("/api/v4/"):
            status, payload, headers = _gitlab(api, request)
        else:
            status, payload, headers = _github(api, request)
        self._answer(request, status, payload, headers)

    def _answer(self, request: Request, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        request.status = status
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in {**(headers or {}), **self.server.api.extra_headers}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: Api


Answer = tuple[int, Any, dict[str, str]]
_GH_LIST = re.compile(r"/repos/([^/]+)/([^/]+)/issues/(\d+)/comments")
_GH_ONE = re.compile(r"/repos/([^/]+)/([^/]+)/issues/comments/(\d+)")
_GL_NOTES = re.compile(r"/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes(?:/(\d+))?")
_ISSUES = re.compile(r"/(?:repos/[^/]+/[^/]+|api/v4/projects/[^/]+)/issues")
_ONE_ISSUE = re.compile(r"/(?:repos/[^/]+/[^/]+|api/v4/projects/([^/]+))/issues/(\d+)(/notes)?")


def _github(api: Api, r: Request) -> Answer:
    h = r.headers
    if h.get("authorization") != f"Bearer {GITHUB_TOKEN}":
        return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, {}
    if not h.get("user-agent"):
        return 403, {"message": "Request forbidden by administrative rules. Please make sure your request has "
                                "a User-Agent header"}, {}
    if h.get("accept") != "application/vnd.github+json" or h.get("x-github-api-version") != "2022-11-28":
        return 400, {"message": "expected Accept: application/vnd.github+json and X-GitHub-Api-Version"}, {}
    if _ISSUES.fullmatch(r.path) or _ONE_ISSUE.fullmatch(r.path):  # issue comments are the thread's, below
        return _issues(api, r, gitlab=False)
    listed, one = _GH_LIST.fullmatch(r.path), _GH_ONE.fullmatch(r.path)
    if listed:
        thread = f"github:{listed[1]}/{listed[2]}#{listed[3]}"
        if r.method == "GET":
            return _page(api, r, thread, {"per_page", "page"}, gitlab=False)
        if r.method == "POST":
            return _create(api, r, thread)
        return 404, {"message": "Not Found"}, {}
    if one and r.method == "PATCH":
        return _update(api, r, int(one[3]), thread_prefix=f"github:{one[1]}/{one[2]}#")
    return 404, {"message": "Not Found"}, {}


def _gitlab(api: Api, r: Request) -> Answer:
    if r.headers.get("private-token") != GITLAB_TOKEN:
        return 401, {"message": "401 Unauthorized"}, {}
    if _ISSUES.fullmatch(r.path) or _ONE_ISSUE.fullmatch(r.path):
        return _issues(api, r, gitlab=True)
    match = _GL_NOTES.fullmatch(r.path)
    if not match:
        return 404, {"message": "404 Not Found"}, {}
    thread = f"gitlab:{urllib.parse.unquote(match[1])}!{match[2]}"
    if match[3] is None and r.method == "GET":
        return _page(api, r, thread, {"per_page", "page", "sort", "order_by"}, gitlab=True)
    if match[3] is None and r.method == "POST":
        return _create(api, r, thread)
    if match[3] is not None and r.method == "PUT":
        return _update(api, r, int(match[3]), thread_prefix=thread)
    return 405, {"message": "405 Method Not Allowed"}, {}


def _issues(api: Api, r: Request, gitlab: bool) -> Answer:
    key, text = ("iid", "description") if gitlab else ("number", "body")
    one = _ONE_ISSUE.fullmatch(r.path)
    if one is None and r.method == "GET":
        state = "opened" if gitlab else "open"
        with api.lock:
            found = [i for i in api.issues if i["state"] == r.query.get("state") == state
                     and r.query.get("labels", "") in i["labels"]]
        return _page(api, r, "", {"state", "labels", "per_page", "page"}, gitlab, items=found)
    body = r.body if isinstance(r.body, dict) and r.headers.get("content-type") == "application/json" else None
    if body is None:
        return 400, {"message": "expected a JSON object"}, {}
    if one is None and r.method == "POST":
        fields = (set(body) == {"title", text, "labels"} and isinstance(body["title"], str)
                  and isinstance(body[text], str) and isinstance(body["labels"], str if gitlab else list))
        if not fields:
            return 422, {"message": f"expected title, {text} and labels ({'a string' if gitlab else 'a list'})"}, {}
        labels = body["labels"].split(",") if gitlab else body["labels"]
        with api.lock:
            number = len(api.issues) + 1
            issue = {key: number, "title": body["title"], text: body[text], "labels": labels,
                     "state": "opened" if gitlab else "open",
                     "web_url" if gitlab else "html_url": f"{api.base}/issues/{number}"}
            api.issues.append(issue)
        return 201, issue, {}
    if one is None:
        return 405, {"message": "Method Not Allowed"}, {}
    with api.lock:
        issue = next((i for i in api.issues if i[key] == int(one[2])), None)
    if issue is None:
        return 404, {"message": "Not Found"}, {}
    if one[3] and gitlab and r.method == "POST":
        return _create(api, r, f"gitlab:{urllib.parse.unquote(one[1])}#{one[2]}")
    if not one[3] and r.method == ("PUT" if gitlab else "PATCH"):
        with api.lock:
            issue.update({k: v for k, v in body.items() if k in ("title", text)})
        return 200, issue, {}
    return 404, {"message": "Not Found"}, {}


def _page(api: Api, r: Request, thread: str, allowed: set[str], gitlab: bool,
          items: list[dict[str, Any]] | None = None) -> Answer:
    if set(r.query) - allowed:
        return 400, {"message": f"unexpected parameters {sorted(set(r.query) - allowed)}"}, {}
    if r.body is not None:
        return 400, {"message": "a GET has no body"}, {}
    per_page = min(int(r.query.get("per_page", "30")), 100)  # both APIs cap a page at 100
    page = int(r.query.get("page", "1"))
    if items is None:
        with api.lock:
            items = list(api.comments.get(thread, []))
    if gitlab and r.query.get("sort") == "desc":
        items.reverse()
    shown = items[(page - 1) * per_page: page * per_page]
    headers: dict[str, str] = {}
    if page * per_page < len(items):
        query = {**r.query, "page": str(page + 1)}
        headers["Link"] = f'<{api.base}{r.path}?{urllib.parse.urlencode(query)}>; rel="next"'
        if gitlab:
            headers["X-Next-Page"] = str(page + 1)
    elif gitlab:
        headers["X-Next-Page"] = ""
    return 200, shown, headers


def _body_of(r: Request) -> str | None:
    if r.headers.get("content-type", "").split(";")[0] != "application/json":
        return None
    if not isinstance(r.body, dict) or set(r.body) != {"body"} or not isinstance(r.body["body"], str):
        return None
    return str(r.body["body"])


def _create(api: Api, r: Request, thread: str) -> Answer:
    body = _body_of(r)
    if body is None or not body:
        return 422, {"message": "Validation Failed: body is required JSON {\"body\": string}"}, {}
    if thread.startswith("github:") and len(body) > 65536:
        return 422, {"message": "Validation Failed", "errors": [{"message": "Body is too long (maximum is 65536 "
                                                                             "characters)"}]}, {}
    item = api.seed(thread, body, login="github-actions[bot]")
    return 201, item, {}


def _update(api: Api, r: Request, comment_id: int, thread_prefix: str) -> Answer:
    body = _body_of(r)
    if body is None or not body:
        return 422, {"message": "Validation Failed: body is required JSON {\"body\": string}"}, {}
    with api.lock:
        for thread, items in api.comments.items():
            for item in items:
                if item["id"] == comment_id and thread.startswith(thread_prefix):
                    item["body"] = body
                    return 200, item, {}
    return 404, {"message": "Not Found"}, {}


@contextmanager
def serve() -> Iterator[Api]:
    """The fake API, listening on 127.0.0.1 until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    api = Api(base=f"http://127.0.0.1:{server.server_address[1]}")
    server.api = api
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
