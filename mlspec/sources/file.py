"""The ``file`` kind: a CSV or Parquet file of the project (or of a shared directory, with the opt-in).

The file is opened once through :func:`mlspec.confine.open_confined` (the file read is the one checked to lie
inside the project, or opted out, and to be a regular file, even if it was swapped since validation), hashed
and parsed from that same descriptor, so the identity is the digest of exactly the bytes the table came from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlspec import confine
from mlspec.sources.base import NO_READING, Adapter, Concern, Reading, Snapshot, SourceError
from mlspec.spec import FileSource

# pandas infers compression from a path's suffix but not from an open file; the same suffixes, spelled out.
_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd", ".tar": "tar"}


class FileAdapter(Adapter[FileSource]):
    kind = "file"

    def section(self, source: FileSource) -> dict[str, Any]:
        # The description is documentation; editing it must not rerun anything. `kind` is left out too: there
        # was only this kind when locks were first written, and their fingerprints must stay as they are.
        return {"path": source.path, "format": source.inferred_format()}

    def files(self, source: FileSource) -> list[str]:
        return [source.path]

    def location(self, source: FileSource) -> str:
        return source.path

    def table_format(self, source: FileSource) -> str:
        return source.inferred_format() or "csv"  # the spec model refuses a file whose format is unknown

    def concerns(self, root: Path, name: str, source: FileSource) -> list[Concern]:
        """Files outside the project or not regular are errors (see :mod:`mlspec.confine`). A missing file is a
        warning: CI may fetch it (dvc pull, a download step) before `mlspec run`."""
        where = ("data", "sources", name, "path")
        try:
            found = confine.resolve(root, source.path, outside_ok=source.outside_project)
        except confine.Refused as exc:
            return [Concern(where, exc.message)]
        if not found.exists():
            return [Concern(where, f"{source.path!r} does not exist (yet)", warning=True)]
        return []

    def read(self, root: Path, name: str, source: FileSource, reading: Reading = NO_READING) -> Snapshot:
        """Raise :class:`SourceError` pointing at ``data.sources.<name>.path``. The file is the project's (git or
        DVC keeps it), so nothing of it is copied into ``reading.into``."""
        import pandas as pd

        # Here, not at the top: `mlspec validate` asks this adapter about files and never pays for hashing.
        from mlspec.runtime.hashing import stat_key, stream_digest

        where = ("data", "sources", name, "path")
        try:
            path = confine.resolve(root, source.path, outside_ok=source.outside_project)
        except confine.Refused as exc:
            raise SourceError(f"data source {name!r}: {exc.message}", where) from None
        if not path.exists():
            raise SourceError(f"data source {name!r}: file {source.path!r} not found", where)
        fmt = source.inferred_format()
        try:
            with confine.open_confined(root, source.path, outside_ok=source.outside_project) as handle:
                before = stat_key(os.fstat(handle.fileno()))
                identity = stream_digest(handle)
                handle.seek(0)
                if fmt == "parquet":
                    frame = pd.read_parquet(handle)
                else:
                    frame = pd.read_csv(handle, compression=_COMPRESSION.get(path.suffix.lower()))
                changed = stat_key(os.fstat(handle.fileno())) != before
        except confine.Refused as exc:
            raise SourceError(f"data source {name!r}: {exc.message}", where) from None
        except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SourceError(f"data source {name!r}: cannot read {source.path!r} as {fmt}: {first}", where) from None
        except ImportError as exc:  # e.g. parquet without pyarrow
            raise SourceError(f"data source {name!r}: reading {fmt} needs an extra package: {exc}", where) from None
        if changed:  # written to while it was read: the digest and the table may describe different bytes
            raise SourceError(f"data source {name!r}: {source.path!r} changed while it was being read; run again",
                              where)
        if frame.empty and len(frame.columns) == 0:
            raise SourceError(f"data source {name!r}: {source.path!r} has no columns", where)
        return Snapshot(frame, identity)

