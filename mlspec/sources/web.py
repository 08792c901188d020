"""Downloads over https:// (and http:// on this machine), bounded: a size limit, a timeout, no change of scheme.

* **Size.** An object larger than the source's ``max_size_mib`` is refused from its ``Content-Length`` before
  a byte is read, and a body that keeps coming past the limit is cut off, whatever the header said.
* **Time.** Every connect and read waits at most :data:`TIMEOUT` seconds.
* **Redirects.** Followed up to :data:`MAX_REDIRECTS` times, never to another scheme (an https:// source
  cannot be sent to http://, file:// or ftp://). The token (``token_env``) is an unredirected header: it goes
  to the URL of the spec only, never to where that URL points.
* **Identity.** :func:`stat` sends a HEAD request: ETag, Last-Modified and Content-Length are what the data
  stage's fingerprint compares. The body is streamed to disk while it is hashed, never held in memory.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import IO, Any

from mlspec.fsutil import own_name
from mlspec.sources.base import Origin
from mlspec.sources.progress import FetchError, Progress, mib
from mlspec.sourceurl import SourceUrl

TIMEOUT = 60.0
MAX_REDIRECTS = 5
CHUNK = 1 << 20


class _SameScheme(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def http_error_302(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                       headers: http.client.HTTPMessage) -> Any:
        # Checked before urllib's own scheme check, which would allow http <-> https and ftp.
        location = headers.get("Location") or headers.get("URI") or ""
        before = req.full_url.split(":", 1)[0].lower()
        after = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, location)).scheme.lower()
        if location and after != before:
            shown = location.split("?", 1)[0]
            raise FetchError(f"{_origin_url(req)} redirects to {after}:// ({shown}); a {before}:// source is read "
                             f"over {before}:// only")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _origin_url(req: urllib.request.Request) -> str:
    return str(getattr(req, "mlspec_source", req.full_url))


_OPENER = urllib.request.build_opener(_SameScheme())
# No proxy handler beyond the default one, no cookies, no credentials from the URL (the spec refuses them).


def _request(url: SourceUrl, method: str, token_env: str | None) -> urllib.request.Request:
    req = urllib.request.Request(url.text, method=method, headers={"User-Agent": "mlspec"})
    req.mlspec_source = url.text  # type: ignore[attr-defined]  # for messages after a redirect
    if token_env:
        token = os.environ.get(token_env, "")
        if not token:
            raise FetchError(f"{url.text}: `token_env` names {token_env}, which is not set; set it to the token")
        req.add_unredirected_header("Authorization", f"Bearer {token}")
    return req


def _open(url: SourceUrl, method: str, token_env: str | None) -> Any:
    try:
        return _OPENER.open(_request(url, method, token_env), timeout=TIMEOUT)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise FetchError(_refused(url, exc.code, exc.reason, token_env)) from None
    except urllib.error.URLError as exc:
        reason = exc.reason if isinstance(exc.reason, str) else " ".join(str(exc.reason).split())
        raise FetchError(f"cannot reach {url.text}: {reason}; check the URL and that the server is up") from None
    except (TimeoutError, OSError) as exc:
        raise FetchError(f"cannot reach {url.text}: {exc or type(exc).__name__}; check the URL and that the "
                         "server is up") from None


def _refused(url: SourceUrl, code: int, reason: str, token_env: str | None) -> str:
    if code == 404 or code == 410:
        return f"{url.text} does not exist (HTTP {code}); check `url`"
    if code in (401, 403):
        fix = (f"check the token in {token_env}" if token_env else
               "if it needs a token, put it in an environment variable and name that variable in `token_env`")
        return f"{url.text}: access refused (HTTP {code} {reason}); {fix}"
    return f"{url.text}: the server answered HTTP {code} {reason}"


def _headers_origin(url: SourceUrl, headers: Message) -> Origin:
    length = headers.get("Content-Length")
    size = int(length) if length is not None and length.strip().isdigit() else None
    return Origin(url.text, size, headers.get("ETag") or None, None, headers.get("Last-Modified") or None)


def stat(url: SourceUrl, token_env: str | None) -> Origin:
    """What a HEAD request says of the object; a server that refuses HEAD (405, 501) is asked with a GET whose
    body is not read."""
    try:
        response = _open(url, "HEAD", token_env)
    except FetchError as exc:
        if "HTTP 405" not in str(exc) and "HTTP 501" not in str(exc):
            raise
        response = _open(url, "GET", token_env)
    with response:  # the identity is the spec URL's, even when a redirect served it
        return _headers_origin(url, response.headers)


def fetch(url: SourceUrl, token_env: str | None, into: Path, final: str, limit: int,
          log: Callable[[str], None] | None) -> tuple[Origin, str]:
    """Download to ``into/final`` (through a temporary name); what the server said, and the ``sha256:`` digest."""
    into.mkdir(parents=True, exist_ok=True)
    tmp = into / own_name("fetch")
    with _open(url, "GET", token_env) as response:
        origin = _headers_origin(url, response.headers)
        if origin.size is not None and origin.size > limit:
            raise FetchError(f"{url.text} is {mib(origin.size)}, more than the {mib(limit)} the source allows; "
                             "raise `max_size_mib` if that is expected")
        progress = Progress(url.text, origin.size, log)
        digest = hashlib.sha256()
        try:
            with open(tmp, "xb") as out:
                while chunk := _read(url, response):
                    progress.add(len(chunk))
                    if progress.done > limit:
                        raise FetchError(f"{url.text} sent more than the {mib(limit)} the source allows; raise "
                                         "`max_size_mib` if that is expected")
                    digest.update(chunk)
                    out.write(chunk)
            if origin.size is not None and progress.done != origin.size:
                raise FetchError(f"{url.text}: the download stopped at {progress.done} of {origin.size} bytes; "
                                 "run again")
            os.replace(tmp, into / final)
        finally:
            tmp.unlink(missing_ok=True)
    if progress.log is not None and log is not None:
        log(f"fetched {url.text}: {mib(progress.done)}")
    return origin, "sha256:" + digest.hexdigest()


def _read(url: SourceUrl, response: Any) -> bytes:
    try:
        return bytes(response.read(CHUNK))
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise FetchError(f"{url.text}: the download broke off ({exc or type(exc).__name__}); run again") from None

