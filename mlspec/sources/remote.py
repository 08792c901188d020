"""The ``url`` kind: a CSV or Parquet object outside the repository (a bucket, an SSH server, a download).

A commit cannot hold such data, so the data stage makes it reproducible instead:

* **Fingerprint.** :meth:`UrlAdapter.probe` asks the service for the object's identity without downloading it
  (:mod:`mlspec.sources.objects`' ``info``, :mod:`mlspec.sources.web`'s HEAD): a version id, else an ETag,
  else a modification time and size. It is the data stage's input named by the URL, so an unchanged object
  leaves the stage up to date and a replaced one reruns it. A service that gives none of these makes the
  stage run every time (its downstream stages still skip when the bytes came out the same).
* **The bytes.** :meth:`UrlAdapter.read` downloads the object into ``source/<name><suffix>`` among the data
  stage's outputs, so mlspec.lock records its digest and the store keeps it as an object: pulling the stage's
  outputs at an old commit brings back the very bytes that commit read, after the object was overwritten.
* **Identity.** The table's identity is the ``sha256:`` of those bytes, as for a file; the service's ETag,
  version id, size and modification time are returned with it (:class:`~mlspec.sources.base.Origin`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path, PurePosixPath
from typing import Any

from mlspec.sources.base import NO_READING, Adapter, Concern, Origin, Reading, Snapshot, SourceError
from mlspec.sources.progress import FetchError
from mlspec.sourceurl import SourceUrl, parse
from mlspec.spec import UrlSource

RAW_DIR = "source"
"""The data stage's output directory that holds the bytes read."""
UNAVAILABLE = "unavailable"
"""The probe's identity of an object it could not look up: the stage runs, and its read says why."""
UNVERSIONED = "no identity: "
_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd"}
_PACKAGES = {"s3": "s3fs", "gs": "gcsfs", "az": "adlfs", "sftp": "sshfs"}


class UrlAdapter(Adapter[UrlSource]):
    kind = "url"

    def section(self, source: UrlSource) -> dict[str, Any]:
        # What decides the table: the object and how it is parsed. The size limit and the token's variable
        # only decide whether it can be read; the object's identity is the stage's input (see probe).
        out: dict[str, Any] = {"kind": self.kind, "url": source.url, "format": source.inferred_format()}
        if source.endpoint_url:
            out["endpoint_url"] = source.endpoint_url
        return out

    def files(self, source: UrlSource) -> list[str]:
        return []

    def location(self, source: UrlSource) -> str:
        return source.url

    def table_format(self, source: UrlSource) -> str:
        return source.inferred_format() or "csv"  # the spec model refuses a URL whose format is unknown

    def concerns(self, root: Path, name: str, source: UrlSource) -> list[Concern]:
        """A filesystem package that is not installed, and plain http:// to another machine (anyone on the way
        could change the bytes; the digest records what arrived, not what was meant)."""
        url = parse(source.url)
        where = ("data", "sources", name, "url")
        package = _PACKAGES.get(url.kind)
        if package and importlib.util.find_spec(package) is None:
            return [Concern(where, f"reading {url.kind}:// needs the Python package {package!r} (pip install "
                                   "'mlspec-ci[store]')", warning=True)]
        if url.kind == "http" and not url.loopback:
            return [Concern(where, f"{source.url!r} is plain http: the bytes can be changed on the way; use https://",
                            warning=True)]
        return []

    def probe(self, name: str, source: UrlSource, reading: Reading) -> dict[str, str]:
        """The object's identity, by its URL, from one look-up (no download)."""
        try:
            origin = _stat(parse(source.url), source, reading)
        except FetchError:
            return {source.url: UNAVAILABLE}
        check = origin.check
        if check is None:
            import time

            # Nothing that changes when the object is replaced: never assume it did not.
            return {source.url: f"{UNVERSIONED}checked at {time.time_ns()}"}
        return {source.url: check}

    def read(self, root: Path, name: str, source: UrlSource, reading: Reading = NO_READING) -> Snapshot:
        """Download the object into ``reading.into`` and parse it; :class:`SourceError` at
        ``data.sources.<name>.url`` when it cannot be fetched or parsed."""
        from mlspec.runtime.hashing import file_digest

        where = ("data", "sources", name, "url")
        if reading.into is None:
            raise ValueError("a url source is read into a directory the data stage keeps")  # a bug, not the user's
        url = parse(source.url)
        fmt = self.table_format(source)
        final = raw_name(name, url, fmt)
        try:
            if url.web:
                from mlspec.sources import web

                origin, digest = web.fetch(url, source.token_env, reading.into, final, source.max_bytes, reading.log)
            else:
                from mlspec.sources import objects

                origin = objects.fetch(_filesystems(reading), url, _endpoint(source, reading), reading.into, final,
                                       source.max_bytes, reading.log)
                digest = file_digest(reading.into / final)
        except FetchError as exc:
            raise SourceError(f"data source {name!r}: {exc}", where) from None
        path = reading.into / final
        frame = _parse(name, source.url, path, fmt, where)
        return Snapshot(frame, digest, raw=path, origin=origin)


def raw_name(name: str, url: SourceUrl, fmt: str) -> str:
    """``<name>.csv``, ``<name>.csv.gz``, ``<name>.parquet``: the source's name, the suffix that says how to parse."""
    suffix = "." + fmt
    compressed = PurePosixPath(url.path).suffix.lower()
    if fmt == "csv" and compressed in _COMPRESSION:
        suffix += compressed
    return f"{name}{suffix}"


def _endpoint(source: UrlSource, reading: Reading) -> str | None:
    # The source's own, else the store's when the store is on S3 (one S3-compatible service for both).
    return source.endpoint_url or reading.store_endpoint


def _filesystems(reading: Reading) -> Any:
    if reading.filesystems is None:
        raise ValueError("reading a bucket object needs the store's filesystems (Reading.filesystems)")  # a bug
    return reading.filesystems


def _stat(url: SourceUrl, source: UrlSource, reading: Reading) -> Origin:
    if url.web:
        from mlspec.sources import web

        return web.stat(url, source.token_env)
    from mlspec.sources import objects

    return objects.stat(_filesystems(reading), url, _endpoint(source, reading))


def _parse(name: str, url: str, path: Path, fmt: str, where: tuple[str, ...]) -> Any:
    import pandas as pd

    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, compression=_COMPRESSION.get(path.suffix.lower()))
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(f"data source {name!r}: cannot read {url!r} as {fmt}: {first}", where) from None
    except ImportError as exc:  # e.g. parquet without pyarrow
        raise SourceError(f"data source {name!r}: reading {fmt} needs an extra package: {exc}", where) from None
    if frame.empty and len(frame.columns) == 0:
        raise SourceError(f"data source {name!r}: {url!r} has no columns", where)
    return frame
