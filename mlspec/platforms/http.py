"""The one HTTP client mlspec has: JSON calls to a CI platform's REST API, over the standard library.

Every call carries a token, so the client is strict where it matters:

* redirects are never followed: urllib would resend the token's header to wherever a ``Location`` points;
  a 3xx is reported like any refusal;
* pagination (``Link: <...>; rel="next"``, or GitLab's ``X-Next-Page``) is followed only within the API's own
  origin, and for at most :data:`MAX_PAGES` pages;
* answers are bounded (:data:`MAX_RESPONSE_BYTES`) and read through :mod:`mlspec.jsonio` (bounded depth);
* every call has a timeout, and every failure is an :class:`HttpError` (a user error, no traceback) that keeps
  what it is about (status, answer, cause), so a caller can word it for its own users.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mlspec import jsonio
from mlspec.errors import MlspecError

TIMEOUT = 30.0
MAX_PAGES = 50
"""5,000 items at 100 a page: far more comments than a pull request has, or open drift issues a project."""
MAX_RESPONSE_BYTES = 32 << 20
MAX_ERROR_BYTES = 64 << 10
"""Of a refusal's answer, enough for the platform's message."""
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


class HttpError(MlspecError):
    """A call to a platform API failed; ``str()`` is a complete message."""

    def __init__(self, message: str, method: str, url: str) -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class Refused(HttpError):
    """The API answered with a status that is not 2xx (a 3xx included: redirects are not followed)."""

    def __init__(self, message: str, method: str, url: str, status: int, reason: str, body: bytes) -> None:
        super().__init__(message, method, url)
        self.status = status
        self.reason = reason
        self.body = body


class Unreachable(HttpError):
    """No answer at all: the host is unknown, refuses connections, or timed out."""

    def __init__(self, message: str, method: str, url: str, cause: BaseException) -> None:
        super().__init__(message, method, url)
        self.cause = cause


@dataclass(frozen=True)
class Answer:
    data: Any
    """The parsed JSON (None for an empty body)."""
    headers: Mapping[str, str]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status, reported like any refusal


_OPENER = urllib.request.build_opener(_NoRedirect)


def _no_hint(status: int) -> str:
    return ""


class Client:
    """Calls to one API (``base``, such as ``https://api.github.com``) with the headers that authenticate them.

    ``hint`` turns a refusal's status into what the user should check (the token's scope, a permission);
    where it says nothing, a generic hint by status class is given.
    """

    def __init__(self, name: str, base: str, headers: Mapping[str, str],
                 hint: Callable[[int], str] = _no_hint) -> None:
        self.name = name
        self.base = base.rstrip("/")
        self.headers = dict(headers)
        self.hint = hint

    @property
    def origin(self) -> str:
        return origin(self.base)

    def call(self, method: str, url: str, payload: Mapping[str, Any] | None = None) -> Answer:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with _OPENER.open(request, timeout=TIMEOUT) as response:
                raw = response.read(MAX_RESPONSE_BYTES + 1)
                answer_headers = {k: v for k, v in response.headers.items()}
        except urllib.error.HTTPError as exc:
            raise self._refused(method, url, exc) from None
        except (urllib.error.URLError, OSError) as exc:  # TimeoutError is an OSError
            reason = getattr(exc, "reason", None) or exc
            raise Unreachable(f"cannot reach the {self.name} API at {self.base}: {reason}", method, url,
                              exc) from None
        if len(raw) > MAX_RESPONSE_BYTES:
            raise HttpError(f"the {self.name} API answered {method} {_path(url)} with more than "
                            f"{MAX_RESPONSE_BYTES >> 20} MiB", method, url)
        if not raw.strip():
            return Answer(None, answer_headers)
        try:
            return Answer(jsonio.loads(raw, "answer"), answer_headers)
        except jsonio.JsonError as exc:
            raise HttpError(f"the {self.name} API answered {method} {_path(url)} with something that is not "
                            f"JSON ({exc}): {snippet(raw)}", method, url) from None

    def pages(self, url: str, listing: str, of: str) -> Iterator[list[Any]]:
        """The pages of a list (``listing``, such as "comments", ``of`` what, for messages), first to last.

        A caller that has found what it looks for stops iterating, and no further page is asked for.
        """
        following: str | None = url
        for _ in range(MAX_PAGES):
            if following is None:
                return
            answer = self.call("GET", following)
            if not isinstance(answer.data, list):
                raise HttpError(f"the {self.name} API listed the {listing} of {of} as "
                                f"{type(answer.data).__name__}, not a list", "GET", following)
            yield answer.data
            following = self._next_page(following, answer.headers, listing)
        if following is not None:
            raise HttpError(f"{of} has more than {MAX_PAGES} pages of {listing}; not looking further", "GET",
                            following)

    def _next_page(self, url: str, headers: Mapping[str, str], listing: str) -> str | None:
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
        if origin(following) != self.origin:
            raise HttpError(f"the {self.name} API pointed the next page of {listing} at {origin(following)}, "
                            f"not at {self.origin}; not sending the token there", "GET", following)
        return following

    def _refused(self, method: str, url: str, exc: urllib.error.HTTPError) -> Refused:
        try:
            raw = exc.read(MAX_ERROR_BYTES)
        except OSError:
            raw = b""
        detail = snippet(raw)
        try:
            data = jsonio.loads(raw, "answer")
            if isinstance(data, dict):
                detail = str(data.get("message") or data.get("error") or detail)
        except jsonio.JsonError:
            pass
        text = f"the {self.name} API refused {method} {_path(url)}: {exc.code} {exc.reason}"
        text += f" ({detail})" if detail else ""
        return Refused(f"{text}; {self.hint(exc.code) or self._generic_hint(exc.code)}", method, url, exc.code,
                       str(exc.reason), raw)

    def _generic_hint(self, status: int) -> str:
        if 300 <= status < 400:
            return "redirects are not followed with a token; point the API URL at its final address"
        if status == 429 or status >= 500:
            return f"{self.name} is busy or failing; run the job again later"
        return f"{self.name} did not accept the request"


def origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def snippet(raw: bytes) -> str:
    """An answer's text for a message: whitespace collapsed, at most 200 characters."""
    text = " ".join(raw.decode("utf-8", "replace").split())
    return text if len(text) <= 200 else text[:197] + "..."
