"""What mlspec needs to know of a kind of data source: the interface every adapter implements.

A source kind (today a file of the project; later an object in a bucket, a query) is one adapter module in
this package and one line in its registry (:mod:`mlspec.sources`). The rest of mlspec asks the adapter and
never looks inside a source's spec entry:

* :meth:`Adapter.section`: the source's spec entry as the fingerprints see it (what must rerun the data stage
  when it is edited; documentation such as ``description`` is left out);
* :meth:`Adapter.files`: the project files it reads, relative to the spec's directory: the data stage's input
  files in mlspec.lock (hashed through the stat cache) and the CI cache keys;
* :meth:`Adapter.location`: where the data is, for people (run log, reports, ``profile.json``'s ``path``),
  and :meth:`Adapter.table_format`, how it is stored (``profile.json``'s ``format``);
* :meth:`Adapter.concerns`: what ``mlspec validate`` can tell without reading the data (cheap, no pandas);
* :meth:`Adapter.read`: the table and its *identity*, the digest of exactly what was read (for a file the
  sha256 of its bytes; an ETag, version id or query-result hash for other kinds).

Only the ``data:<source>`` stage calls :meth:`Adapter.read`; it keeps the table as a snapshot that every
later stage of the run reads (:mod:`mlspec.runtime.snapshot`), so one run sees one version of the data.

For a file, the data stage's fingerprint learns of a change through :meth:`Adapter.files` (hashed by the
runner's stat cache, without reading the table). A kind whose data lives elsewhere has no such files: its
:meth:`Adapter.probe` gives the fingerprint the object's identity without downloading it (an ETag, a version
id), and its :meth:`Adapter.read` keeps the exact bytes it read (:attr:`Snapshot.raw`) with their
:class:`Origin`, so the data stage can keep them among its outputs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from mlspec.errors import MlspecError

if TYPE_CHECKING:
    import pandas as pd

    from mlspec.sourceurl import SourceUrl

SpecPath = tuple[str | int, ...]
S = TypeVar("S")


class SourceError(MlspecError):
    """A source that cannot be read, for a reason the user can fix; ``spec_path`` is the spec key it is about
    (the data stage reports it there, with the line)."""

    def __init__(self, message: str, spec_path: SpecPath) -> None:
        super().__init__(message)
        self.spec_path = spec_path


@dataclass(frozen=True)
class Concern:
    """A problem ``mlspec validate`` finds in a source's entry: an error, or a warning (it may appear later)."""

    path: SpecPath
    message: str
    warning: bool = False


@dataclass(frozen=True)
class Origin:
    """What the service holding an object says of it: recorded by the data stage beside the digest."""

    url: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None
    """S3's VersionId, or GCS's and Azure's generation / version, when the service keeps versions."""
    last_modified: str | None = None

    def as_json(self) -> dict[str, str | int]:
        """The fields the service gave, in a fixed order (``url`` first)."""
        fields = {"url": self.url, "size": self.size, "etag": self.etag, "version_id": self.version_id,
                  "last_modified": self.last_modified}
        return {k: v for k, v in fields.items() if v is not None}

    @property
    def check(self) -> str | None:
        """The identity a cheap look-up compares (the data stage's fingerprint input), or None when the service
        gives nothing that changes when the object is replaced. A version id names one version for good; an
        ETag changes with the bytes; a modification time and size are the last resort (a plain web server)."""
        if self.version_id:
            return f"version {self.version_id}" + (f" etag {self.etag}" if self.etag else "")
        if self.etag:
            return f"etag {self.etag}" + (f" size {self.size}" if self.size is not None else "")
        if self.last_modified:
            return f"modified {self.last_modified}" + (f" size {self.size}" if self.size is not None else "")
        return None


class Filesystems(Protocol):
    """How an adapter reaches a bucket or an SSH server: the store's filesystems, handed in by the data stage
    (:mod:`mlspec.sources.storefs`), since the store is an engine and adapters sit below it."""

    def open(self, url: SourceUrl, endpoint: str | None) -> tuple[Any, str]:
        """The fsspec filesystem of ``url`` and the object's path in it; raise
        :class:`~mlspec.sources.progress.FetchError` when its package is missing."""

    def credentials(self, kind: str) -> str:
        """The variables that give ``kind``'s filesystem its credentials, for messages."""


@dataclass(frozen=True)
class Reading:
    """What the data stage gives a read besides the source's spec entry."""

    into: Path | None = None
    """A directory for the bytes of a source that lives outside the project (kept as the stage's outputs)."""
    store_endpoint: str | None = None
    """The store's S3 endpoint, when the store is on S3: the default of an s3:// source's."""
    log: Callable[[str], None] | None = None
    """Progress lines (a large download)."""
    filesystems: Filesystems | None = None
    """How to reach s3://, gs://, az:// and sftp:// objects; needed by the ``url`` kind for those."""


NO_READING = Reading()


@dataclass(frozen=True)
class Snapshot:
    """One reading of a source: the table, and the identity of the data it was read from."""

    frame: pd.DataFrame
    identity: str
    """``sha256:<hex>`` of the bytes read (or the kind's own version identity); ``profile.json``'s ``digest``."""
    raw: Path | None = None
    """The file holding exactly the bytes read, when they came from outside the project (inside
    :attr:`Reading.into`): the data stage keeps it, so a pull at this commit brings those bytes back."""
    origin: Origin | None = None
    """What the service said of the object it read."""


class Adapter(ABC, Generic[S]):
    """One kind of data source; ``S`` is its spec model (e.g. :class:`mlspec.spec.FileSource`)."""

    kind: ClassVar[str]

    @abstractmethod
    def section(self, source: S) -> dict[str, Any]:
        """The spec entry as fingerprinted: editing anything in it reruns the stages that read the source."""

    @abstractmethod
    def files(self, source: S) -> list[str]:
        """Project files the source reads, relative to the spec's directory (``/``-separated, as written)."""

    @abstractmethod
    def location(self, source: S) -> str:
        """Where the data is, as people should see it."""

    @abstractmethod
    def table_format(self, source: S) -> str:
        """The format the table is stored in (``csv``, ``parquet``, ...): ``profile.json``'s ``format``."""

    @abstractmethod
    def concerns(self, root: Path, name: str, source: S) -> list[Concern]:
        """Problems visible without reading the data; ``root`` is the spec's directory."""

    def probe(self, name: str, source: S, reading: Reading) -> dict[str, str]:
        """Inputs of the data stage's fingerprint besides :meth:`files`, by name → identity, found without
        reading the data (a HEAD request). A problem is reported by :meth:`read`, so this never raises."""
        return {}

    @abstractmethod
    def read(self, root: Path, name: str, source: S, reading: Reading = NO_READING) -> Snapshot:
        """The table and its identity; raise :class:`SourceError` (located) when it cannot be read."""
