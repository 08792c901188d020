"""Store URLs: which filesystem, which bucket or host, which prefix; checked without importing any of them.

Accepted (``store.url``, or ``MLSPEC_STORE``)::

    s3://bucket/prefix          Amazon S3 and S3-compatible services (with ``endpoint_url``), via s3fs
    gs://bucket/prefix          Google Cloud Storage, via gcsfs (``gcs://`` is the same)
    az://container/prefix       Azure Blob Storage, via adlfs (``abfs://`` is the same)
    sftp://[user@]host[:port]/path   an SSH server, via sshfs
    file:///absolute/path       a directory (also a plain path; relative to mlspec.yaml)

Credentials never belong in the URL: a password (``user:secret@``) or a query string is refused, because the
spec is committed. Each filesystem reads its own standard environment or credential chain instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

REMOTE_SCHEMES = {"s3": "s3", "gs": "gs", "gcs": "gs", "az": "az", "abfs": "az", "sftp": "sftp"}
"""URL scheme → the filesystem kind it names."""
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,254}$")
_HOST = re.compile(r"^[A-Za-z0-9._-]{1,253}$")


@dataclass(frozen=True)
class StoreUrl:
    kind: str
    """``s3``, ``gs``, ``az``, ``sftp`` or ``file``."""
    bucket: str
    """Bucket or container (s3, gs, az), host (sftp); empty for ``file``."""
    prefix: str
    """Path below the bucket, or the directory of a ``file`` store; no trailing ``/``."""
    user: str = ""
    port: int | None = None
    text: str = ""
    """The URL as written, for messages."""

    @property
    def remote(self) -> bool:
        return self.kind != "file"

    @property
    def root(self) -> str:
        """The store's root in its filesystem's own path syntax (``bucket/prefix`` for object stores)."""
        if self.kind in ("s3", "gs", "az"):
            return f"{self.bucket}/{self.prefix}".rstrip("/")
        return self.prefix


class StoreUrlError(ValueError):
    """A store URL mlspec cannot use; the message says what to write instead."""


def parse(text: str) -> StoreUrl:
    """The parts of a store URL; :class:`StoreUrlError` when it is not one mlspec can use.

    A ``file`` store's relative path is returned as written: the caller resolves it against mlspec.yaml.
    """
    if "://" not in text:
        if not text.strip() or "\x00" in text:
            raise StoreUrlError("the store needs a URL (s3://bucket/prefix) or a directory")
        return StoreUrl("file", "", text.rstrip("/") or "/", text=text)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if parts.query or parts.fragment:
        raise StoreUrlError(f"{text!r}: a store URL takes no query or fragment (credentials and options belong in "
                            "the environment, not the committed spec)")
    if parts.password is not None:
        raise StoreUrlError(f"{_redacted(text)!r}: never put a password in the spec; use an SSH key or agent, or "
                            "the store's credential variables")
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise StoreUrlError(f"{text!r}: a file URL names a local directory (file:///absolute/path)")
        if not parts.path.startswith("/"):
            raise StoreUrlError(f"{text!r}: write file:///absolute/path, or a plain relative directory")
        return StoreUrl("file", "", parts.path.rstrip("/") or "/", text=text)
    kind = REMOTE_SCHEMES.get(scheme)
    if kind is None:
        known = ", ".join(f"{s}://" for s in (*sorted(set(REMOTE_SCHEMES) - {"gcs", "abfs"}), "file"))
        raise StoreUrlError(f"{text!r}: unknown store scheme {scheme!r}; use one of {known} or a directory")
    host = parts.hostname or ""
    prefix = str(PurePosixPath("/" + parts.path.strip("/"))).strip("/") if parts.path.strip("/") else ""
    if ".." in prefix.split("/"):
        raise StoreUrlError(f"{text!r}: '..' has no place in a store URL")
    if kind == "sftp":
        if not host or not _HOST.match(host):
            raise StoreUrlError(f"{text!r}: write sftp://[user@]host[:port]/path")
        try:
            port = parts.port
        except ValueError:
            raise StoreUrlError(f"{text!r}: the port must be a number from 1 to 65535") from None
        return StoreUrl("sftp", host, "/" + prefix, user=parts.username or "", port=port, text=text)
    if parts.username is not None or parts.port is not None:
        raise StoreUrlError(f"{_redacted(text)!r}: write {scheme}://bucket/prefix; credentials come from the "
                            "environment")
    bucket = parts.netloc
    if not _BUCKET.match(bucket):
        raise StoreUrlError(f"{text!r}: {bucket!r} is not a bucket or container name (lowercase letters, digits, "
                            "'.', '-', '_')")
    return StoreUrl(kind, bucket, prefix, text=text)


def problem(text: str) -> str | None:
    """Why ``text`` is not a usable store URL, or None; for the spec's validator."""
    try:
        parse(text)
    except StoreUrlError as exc:
        return str(exc)
    return None


def _redacted(text: str) -> str:
    parts = urlsplit(text)
    if parts.password is None:
        return text
    return text.replace(f":{parts.password}@", ":***@", 1)
