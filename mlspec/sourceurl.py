"""URLs of data that lives outside the repository (a ``url`` source), checked without importing any client.

Accepted (``data.sources.<name>.url``)::

    s3://bucket/key             Amazon S3 and S3-compatible services (with ``endpoint_url``), via s3fs
    gs://bucket/key             Google Cloud Storage, via gcsfs (``gcs://`` is the same)
    az://container/blob         Azure Blob Storage, via adlfs (``abfs://`` is the same)
    sftp://[user@]host[:port]/path   a file on an SSH server, via sshfs
    https://host[:port]/path    a plain download (``http://`` too, for a server on this machine)

The spec is committed, so nothing secret may be in it: a password (``user:secret@``), a query string (signed
URLs carry their token there) or a fragment is refused, as is a user name anywhere but ``sftp://``.
Credentials come from each service's standard environment or credential chain instead.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

SCHEMES = {"s3": "s3", "gs": "gs", "gcs": "gs", "az": "az", "abfs": "az", "sftp": "sftp", "https": "https",
           "http": "http"}
"""URL scheme → the kind of service it names."""
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,254}$")
_HOST = re.compile(r"^[A-Za-z0-9._-]{1,253}$")
_WRITE = {
    "s3": "s3://bucket/key", "gs": "gs://bucket/key", "az": "az://container/blob",
    "sftp": "sftp://[user@]host[:port]/path", "https": "https://host[:port]/path", "http": "http://host[:port]/path",
}


@dataclass(frozen=True)
class SourceUrl:
    kind: str
    """``s3``, ``gs``, ``az``, ``sftp``, ``https`` or ``http``."""
    host: str
    """Bucket or container (s3, gs, az), or host name (sftp, http, https)."""
    path: str
    """The object's key (s3, gs, az: no leading ``/``), or its absolute path on the host (``/data/t.csv``)."""
    user: str = ""
    port: int | None = None
    text: str = ""
    """The URL as written, for messages and as the data stage's input name."""

    @property
    def web(self) -> bool:
        return self.kind in ("http", "https")

    @property
    def name(self) -> str:
        """The object's file name (its last path segment)."""
        return PurePosixPath(self.path).name

    @property
    def loopback(self) -> bool:
        """Whether the host is this machine (plain http is safe there, and only there)."""
        host = self.host.strip("[]")
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


class SourceUrlError(ValueError):
    """A source URL mlspec cannot use; the message says what to write instead."""


def parse(text: str) -> SourceUrl:
    """The parts of a source URL; :class:`SourceUrlError` when it is not one mlspec can read."""
    if "://" not in text:
        raise SourceUrlError(f"{text!r} is not a URL; write {_WRITE['s3']}, {_WRITE['https']}, ... (a file of the "
                             "project is a source with `path:` instead)")
    if any(c.isspace() or ord(c) < 32 for c in text):
        raise SourceUrlError(f"{text!r}: a URL has no spaces or control characters (percent-encode them)")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    kind = SCHEMES.get(scheme)
    if kind is None:
        known = ", ".join(f"{s}://" for s in ("s3", "gs", "az", "sftp", "https", "http"))
        raise SourceUrlError(f"{text!r}: unknown scheme {scheme!r}; use one of {known}")
    if parts.password is not None:
        raise SourceUrlError(f"{redacted(text)!r}: never put a password in the spec; credentials come from the "
                             "environment (see the README's url sources)")
    if parts.query or parts.fragment:
        raise SourceUrlError(f"{redacted(text)!r}: a source URL takes no query or fragment (a signed URL carries "
                             "its token there, and the spec is committed); credentials come from the environment")
    if parts.username is not None and kind != "sftp":
        raise SourceUrlError(f"{redacted(text)!r}: write {_WRITE[kind]}; credentials come from the environment")
    try:
        port = parts.port
    except ValueError:
        raise SourceUrlError(f"{text!r}: the port must be a number from 1 to 65535") from None
    raw_path = parts.path
    segments = raw_path.strip("/").split("/") if raw_path.strip("/") else []
    if ".." in segments or "." in segments:
        raise SourceUrlError(f"{text!r}: '.' and '..' have no place in a source URL")
    if not segments or raw_path.endswith("/"):
        raise SourceUrlError(f"{text!r}: name one object (a file), not a bucket or a directory; write {_WRITE[kind]}")
    if kind in ("s3", "gs", "az"):
        if port is not None:
            raise SourceUrlError(f"{text!r}: write {_WRITE[kind]}; an S3-compatible service's address goes in "
                                 "`endpoint_url`")
        if not _BUCKET.match(parts.netloc):
            raise SourceUrlError(f"{text!r}: {parts.netloc!r} is not a bucket or container name (lowercase "
                                 "letters, digits, '.', '-', '_')")
        return SourceUrl(kind, parts.netloc, "/".join(segments), text=text)
    host = parts.hostname or ""
    if not _host_ok(host):
        raise SourceUrlError(f"{text!r}: write {_WRITE[kind]}")
    return SourceUrl(kind, host, "/" + "/".join(segments), user=parts.username or "", port=port, text=text)


def _host_ok(host: str) -> bool:
    if _HOST.match(host):
        return True
    try:  # an IPv6 address, written [::1] in the URL
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def problem(text: str) -> str | None:
    """Why ``text`` is not a usable source URL, or None; for the spec's validator."""
    try:
        parse(text)
    except SourceUrlError as exc:
        return str(exc)
    return None


def redacted(text: str) -> str:
    """``text`` with a password and a query string masked, for messages (a rejected URL is still shown)."""
    parts = urlsplit(text)
    out = text
    if parts.password is not None:
        out = out.replace(f":{parts.password}@", ":***@", 1)
    if parts.query:
        out = out.replace(f"?{parts.query}", "?***", 1)
    return out
