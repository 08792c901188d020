"""A stand-in for the issue endpoints of the GitHub and GitLab REST APIs, as `mlspec monitor --open-issue` uses
them: a real HTTP server on 127.0.0.1 that checks the token header and keeps issues in memory.

GitHub (https://docs.github.com/en/rest/issues): ``GET /repos/{o}/{r}/issues?state=open&labels=..`` (open
issues with that label; pull requests are issues too, with a ``pull_request`` key), ``POST /repos/{o}/{r}/issues``
(201), ``PATCH /repos/{o}/{r}/issues/{n}``, ``POST /repos/{o}/{r}/issues/{n}/comments`` (201).
GitLab (https://docs.gitlab.com/api/issues/): ``GET /api/v4/projects/:id/issues?state=opened&labels=..``,
``POST /api/v4/projects/:id/issues`` (201, labels a comma-separated string), ``PUT .../issues/:iid``,
``POST .../issues/:iid/notes`` (201).
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

GITHUB_TOKEN = "ghs_issue-token"
GITLAB_TOKEN = "glpat-issue-token"


@dataclass
class Tracker:
    base: str = ""
    issues: list[dict[str, Any]] = field(default_factory=list)
    comments: list[tuple[int, str]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        tracker = self.server.tracker
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        with tracker.lock:
            tracker.requests.append((self.command, self.path))
            gitlab = url.path.startswith("/api/v4/")
            if gitlab and self.headers.get("PRIVATE-TOKEN") != GITLAB_TOKEN:
                return self._answer(401, {"message": "401 Unauthorized"})
            if not gitlab and (self.headers.get("Authorization") != f"Bearer {GITHUB_TOKEN}"
                               or not self.headers.get("User-Agent")):
                return self._answer(401, {"message": "Bad credentials"})
            key, text = ("iid", "description") if gitlab else ("number", "body")
            listing = re.fullmatch(r"/(?:repos/[^/]+/[^/]+|api/v4/projects/[^/]+)/issues", url.path)
            one = re.fullmatch(r"/(?:repos/[^/]+/[^/]+|api/v4/projects/[^/]+)/issues/(\d+)(/comments|/notes)?",
                               url.path)
            if listing and self.command == "GET":
                state = "opened" if gitlab else "open"
                found = [i for i in tracker.issues if i["state"] == state
                         and query.get("labels", "") in i["labels"]]
                return self._answer(200, found)
            if listing and self.command == "POST":
                labels = body["labels"].split(",") if gitlab else body["labels"]
                number = len(tracker.issues) + 1
                issue = {key: number, "title": body["title"], text: body[text], "labels": labels,
                         "state": "opened" if gitlab else "open",
                         "web_url" if gitlab else "html_url": f"{tracker.base}/issues/{number}"}
                tracker.issues.append(issue)
                return self._answer(201, issue)
            if one:
                issue = next((i for i in tracker.issues if i[key] == int(one[1])), None)
                if issue is None:
                    return self._answer(404, {"message": "Not Found"})
                if one[2] and self.command == "POST":
                    tracker.comments.append((issue[key], body["body"]))
                    return self._answer(201, {"id": len(tracker.comments), "body": body["body"]})
                if self.command in ("PATCH", "PUT"):
                    issue.update({k: v for k, v in body.items() if k in ("title", text)})
                    return self._answer(200, issue)
            return self._answer(404, {"message": "Not Found"})

    do_GET = do_POST = do_PATCH = do_PUT = _handle


class _Server(ThreadingHTTPServer):
    tracker: Tracker


@contextmanager
def serve() -> Iterator[Tracker]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.tracker = Tracker(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.tracker
    finally:
        server.shutdown()
        server.server_close()
