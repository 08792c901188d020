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
runner's stat cache, without reading the table). A kind whose data lives elsewhere has no such files; it will
add one method here that gives the fingerprint its identity without a full read (an ETag, a version id),
alongside the identity :meth:`Adapter.read` returns for what it actually read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from mlspec.errors import MlspecError

if TYPE_CHECKING:
    import pandas as pd

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
class Snapshot:
    """One reading of a source: the table, and the identity of the data it was read from."""

    frame: pd.DataFrame
    identity: str
    """``sha256:<hex>`` of the bytes read (or the kind's own version identity); ``profile.json``'s ``digest``."""


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

    @abstractmethod
    def read(self, root: Path, name: str, source: S) -> Snapshot:
        """The table and its identity; raise :class:`SourceError` (located) when it cannot be read."""
