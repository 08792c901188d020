"""Reading the spec's data sources into pandas, with errors that name the source and the spec line.

A source is opened through :func:`mlspec.confine.open_confined`: the file read is the one that was checked to
lie inside the project (or opted out) and to be a regular file, even if it was swapped since validation.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlspec import confine
from mlspec.runtime.context import StageError

if TYPE_CHECKING:
    import pandas as pd

    from mlspec.spec import Source

# pandas infers compression from a path's suffix but not from an open file; the same suffixes, spelled out.
_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd", ".tar": "tar"}


def source_path(root: Path, source: Source) -> Path:
    """The file ``source`` names, symlinks resolved; raise :class:`confine.Refused` if it may not be read."""
    return confine.resolve(root, source.path, outside_ok=source.outside_project)


def read_source(root: Path, name: str, source: Source) -> pd.DataFrame:
    """Read data source ``name``; raise :class:`StageError` pointing at ``data.sources.<name>.path``."""
    import pandas as pd

    where = ("data", "sources", name, "path")
    try:
        path = source_path(root, source)
    except confine.Refused as exc:
        raise StageError(f"data source {name!r}: {exc.message}", where) from None
    if not path.exists():
        raise StageError(f"data source {name!r}: file {source.path!r} not found", where)
    fmt = source.inferred_format()
    try:
        with confine.open_confined(root, source.path, outside_ok=source.outside_project) as handle:
            if fmt == "parquet":
                frame = pd.read_parquet(handle)
            else:
                frame = pd.read_csv(handle, compression=_COMPRESSION.get(path.suffix.lower()))
    except confine.Refused as exc:
        raise StageError(f"data source {name!r}: {exc.message}", where) from None
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StageError(f"data source {name!r}: cannot read {source.path!r} as {fmt}: {first}", where) from None
    except ImportError as exc:  # e.g. parquet without pyarrow
        raise StageError(f"data source {name!r}: reading {fmt} needs an extra package: {exc}", where) from None
    if frame.empty and len(frame.columns) == 0:
        raise StageError(f"data source {name!r}: {source.path!r} has no columns", where)
    return frame
