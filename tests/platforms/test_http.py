"""The one HTTP client: JSON calls, no redirects, pagination only within the API's origin, bounded answers."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mlspec.errors import MlspecError
from mlspec.platforms import http


@dataclass
class Script:
    """What the server answers, by path with its query, else by path: (status, headers, body bytes); and what it
    was asked."""

    base: str = ""
    answers: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    delay: float = 0.0


@contextmanager
def serve() -> Iterator[Script]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            script.seen.append((self.command, self.path, dict(self.headers.items()), self.rfile.read(length)))
            time.sleep(script.delay)
            nope = (404, {}, b'{"message": "nope"}')
            status, headers, body = script.answers.get(self.path) or script.answers.get(self.path.split("?")[0], nope)
            self.send_response(status)
            for key, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(key, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):  # the client gave up waiting: what the timeout test wants
                self.wfile.write(body)

        do_GET = do_POST = do_PATCH = _any

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    script.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()


def _client(base: str, hint: Any = None) -> http.Client:
    return http.Client("Forge", base, {"Authorization": "Bearer secret"}, *([hint] if hint else []))


def test_a_call_sends_json_with_the_headers_and_reads_json() -> None:
    with serve() as script:
        script.answers["/things"] = (201, {"X-Extra": "1"}, b'{"id": 7}')
        answer = _client(script.base).call("POST", f"{script.base}/things", {"name": "a"})
        got = _client(script.base).call("GET", f"{script.base}/things")
    assert (answer.data, answer.headers["X-Extra"], got.data) == ({"id": 7}, "1", {"id": 7})
    (method, _, headers, body), (_, _, get_headers, _) = script.seen
    assert (method, json.loads(body), headers["Authorization"]) == ("POST", {"name": "a"}, "Bearer secret")
    assert headers["Content-Type"] == "application/json" and "Content-Type" not in get_headers


def test_an_empty_answer_is_none() -> None:
    with serve() as script:
        script.answers["/gone"] = (204, {}, b"")
        assert _client(script.base).call("PATCH", f"{script.base}/gone", {}).data is None


def test_a_redirect_is_a_refusal_and_is_not_followed() -> None:
    with serve() as script:
        script.answers["/moved"] = (302, {"Location": f"{script.base}/elsewhere"}, b"")
        with pytest.raises(http.Refused) as caught:
            _client(script.base).call("GET", f"{script.base}/moved")
    assert caught.value.status == 302 and [path for _, path, _, _ in script.seen] == ["/moved"]
    assert str(caught.value) == ("the Forge API refused GET /moved: 302 Found; redirects are not followed with a "
                                 "token; point the API URL at its final address")


@pytest.mark.parametrize(("status", "body", "message"), [
    (401, b'{"message": "Bad credentials"}', "the Forge API refused GET /x: 401 Unauthorized (Bad credentials); "
                                             "check the token"),
    (422, b'{"error": "body is missing"}', "the Forge API refused GET /x: 422 Unprocessable Entity (body is "
                                           "missing); Forge did not accept the request"),
    (503, b"<html>  down \n for maintenance</html>", "the Forge API refused GET /x: 503 Service Unavailable "
                                                     "(<html> down for maintenance</html>); Forge is busy or "
                                                     "failing; run the job again later"),
])
def test_refusals_carry_the_platform_message_and_a_hint(status: int, body: bytes, message: str) -> None:
    with serve() as script:
        script.answers["/x"] = (status, {}, body)
        with pytest.raises(http.Refused) as caught:
            _client(script.base, lambda s: "check the token" if s == 401 else "").call("GET", f"{script.base}/x")
    assert str(caught.value) == message and caught.value.body == body and "secret" not in message


def test_answers_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "MAX_RESPONSE_BYTES", 1 << 20)
    with serve() as script:
        script.answers["/big"] = (200, {}, b"[" + b"1," * (1 << 20) + b"1]")
        with pytest.raises(http.HttpError) as caught:
            _client(script.base).call("GET", f"{script.base}/big")
    assert str(caught.value) == "the Forge API answered GET /big with more than 1 MiB"


def test_an_answer_that_is_not_json() -> None:
    with serve() as script:
        script.answers["/html"] = (200, {}, b"<html>login</html>")
        with pytest.raises(http.HttpError) as caught:
            _client(script.base).call("GET", f"{script.base}/html")
    assert str(caught.value).startswith("the Forge API answered GET /html with something that is not JSON (")
    assert str(caught.value).endswith("): <html>login</html>")


def test_unreachable_and_slow_apis_are_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with serve() as script:
        base = script.base  # closed when the block ends
    with pytest.raises(http.Unreachable) as caught:
        _client(base).call("GET", f"{base}/x")
    assert str(caught.value).startswith(f"cannot reach the Forge API at {base}: ")

    monkeypatch.setattr(http, "TIMEOUT", 0.2)
    with serve() as script:
        script.delay = 1.0
        script.answers["/slow"] = (200, {}, b"[]")
        with pytest.raises(http.Unreachable) as caught:
            _client(script.base).call("GET", f"{script.base}/slow")
    assert "timed out" in str(caught.value)
    assert isinstance(caught.value, MlspecError)


def test_pages_follow_link_and_x_next_page_within_the_origin() -> None:
    with serve() as script:
        script.answers["/one"] = (200, {"Link": f'<{script.base}/two?page=2>; rel="next", <x>; rel="last"'}, b"[1]")
        script.answers["/two"] = (200, {"X-Next-Page": "3"}, b"[2]")
        script.answers["/two?page=3"] = (200, {"X-Next-Page": ""}, b"[3]")  # GitLab's "no more"
        pages = list(_client(script.base).pages(f"{script.base}/one?per_page=1", "things", "the project"))
    assert pages == [[1], [2], [3]]
    assert [path for _, path, _, _ in script.seen] == ["/one?per_page=1", "/two?page=2", "/two?page=3"]


def test_a_next_page_elsewhere_is_not_asked_for() -> None:
    with serve() as script, serve() as elsewhere:
        script.answers["/one"] = (200, {"Link": f'<{elsewhere.base}/steal>; rel="next"'}, b"[1]")
        with pytest.raises(http.HttpError) as caught:
            list(_client(script.base).pages(f"{script.base}/one", "things", "the project"))
    assert str(caught.value) == (f"the Forge API pointed the next page of things at {elsewhere.base}, not at "
                                 f"{script.base}; not sending the token there")
    assert elsewhere.seen == []


def test_pages_are_bounded_and_must_be_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "MAX_PAGES", 3)
    with serve() as script:
        script.answers["/loop"] = (200, {"Link": f'<{script.base}/loop>; rel="next"'}, b"[]")
        script.answers["/object"] = (200, {}, b'{"items": []}')
        client = _client(script.base)
        with pytest.raises(http.HttpError) as caught:
            list(client.pages(f"{script.base}/loop", "things", "the project"))
        assert str(caught.value) == "the project has more than 3 pages of things; not looking further"
        assert len(script.seen) == 3
        with pytest.raises(http.HttpError) as caught:
            list(client.pages(f"{script.base}/object", "things", "the project"))
        assert str(caught.value) == "the Forge API listed the things of the project as dict, not a list"
