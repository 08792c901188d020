"""Objects in a bucket or on an SSH server (s3, gs, az, sftp), through fsspec and the store's filesystem packages.

The filesystem is built as the store builds its own (the same packages, timeouts and credential chains), by
the :class:`~mlspec.sources.base.Filesystems` the data stage hands in (:mod:`mlspec.sources.storefs`: the
store is an engine, and an adapter sits below it). Credentials come from each service's standard environment,
never from the spec.

:func:`stat` is the cheap identity (one HEAD request, or its equivalent); :func:`fetch` downloads the object to
a file, streamed by the filesystem package (never whole in memory), and checks that the object was not
replaced while it was read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mlspec.fsutil import own_name
from mlspec.sources.base import Filesystems, Origin
from mlspec.sources.progress import FetchError, Progress, mib
from mlspec.sourceurl import SourceUrl

ENDPOINT_HELP = "data.sources.<name>.endpoint_url (default: store.endpoint_url or MLSPEC_STORE_ENDPOINT_URL)"
# Bugs in mlspec or a library, never "the service is down".
_BUGS = (TypeError, AttributeError, NameError, AssertionError, ImportError, FetchError)
_AUTH_WORDS = ("access denied", "accessdenied", "forbidden", "invalidaccesskeyid", "signaturedoesnotmatch",
               "authoriz", "authenticat", "credential", "403", "permission denied")


def stat(filesystems: Filesystems, url: SourceUrl, endpoint: str | None) -> Origin:
    """What the service says of the object, without downloading it."""
    fs, path = filesystems.open(url, endpoint)
    with _errors(filesystems, url, endpoint, "look up"):
        return _origin(url, fs.info(path))


def fetch(filesystems: Filesystems, url: SourceUrl, endpoint: str | None, into: Path, final: str, limit: int,
          log: Callable[[str], None] | None) -> Origin:
    """Download the object to ``into/final`` (through a temporary name); what the service said of it."""
    from fsspec.callbacks import Callback

    fs, path = filesystems.open(url, endpoint)
    with _errors(filesystems, url, endpoint, "look up"):
        before = _origin(url, fs.info(path))
    if before.size is not None and before.size > limit:
        raise FetchError(f"{url.text} is {mib(before.size)}, more than the {mib(limit)} the source allows; raise "
                         "`max_size_mib` if that is expected")
    progress = Progress(url.text, before.size, log)

    class _Counted(Callback):  # type: ignore[misc]  # fsspec is untyped
        def call(self, *args: Any, **kwargs: Any) -> None:
            progress.add(self.value - progress.done)

    into.mkdir(parents=True, exist_ok=True)
    tmp = into / own_name("fetch")
    try:
        with _errors(filesystems, url, endpoint, "download"):
            fs.get_file(path, str(tmp), callback=_Counted())
            after = _origin(url, fs.info(path))
        size = tmp.stat().st_size
        if size > limit:
            raise FetchError(f"{url.text} gave {mib(size)}, more than the {mib(limit)} the source allows; raise "
                             "`max_size_mib` if that is expected")
        if after.check != before.check or (before.size is not None and size != before.size):
            raise FetchError(f"{url.text} was replaced while it was being read; run again")
        os.replace(tmp, into / final)
    finally:
        tmp.unlink(missing_ok=True)
    if log is not None and progress.log is not None:
        log(f"fetched {url.text}: {mib(size)}")
    return before


def _origin(url: SourceUrl, info: dict[str, Any]) -> Origin:
    """The identity fields of an fsspec ``info()``, whichever package gave them: s3fs (ETag, VersionId,
    LastModified), gcsfs (etag, generation, updated), adlfs (etag, version_id, last_modified), sshfs (mtime)."""
    etag = info.get("ETag") or info.get("etag")
    version = info.get("VersionId") or info.get("version_id") or info.get("generation")
    modified = info.get("LastModified") or info.get("last_modified") or info.get("updated") or info.get("mtime")
    size = info.get("size")
    return Origin(url.text, int(size) if size is not None else None, str(etag) if etag else None,
                  str(version) if version else None, _when(modified))


def _when(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value.tzinfo else value.isoformat()
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


@contextlib.contextmanager
def _errors(filesystems: Filesystems, url: SourceUrl, endpoint: str | None, what: str) -> Iterator[None]:
    """What the filesystem packages raise, as a :class:`FetchError` that says what to set."""
    try:
        yield
    except _BUGS:
        raise
    except FileNotFoundError:
        raise FetchError(f"{url.text} does not exist; check `url`, or upload the object first") from None
    except Exception as exc:
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
        if isinstance(exc, PermissionError) or any(w in detail.lower() for w in _AUTH_WORDS):
            fix = filesystems.credentials(url.kind)
            raise FetchError(f"{url.text}: access refused ({detail}); set {fix}") from None
        where = ""
        if url.kind == "s3":
            where = f" at {endpoint}" if endpoint else " at AWS's endpoint"
            where += f" (an S3-compatible service needs {ENDPOINT_HELP}, or AWS_ENDPOINT_URL)"
        raise FetchError(f"cannot {what} {url.text}{where}: {detail}; check that the service is reachable") from None
