"""Reading the spec's data sources into pandas, with errors that name the source and the spec line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlspec.runtime.context import StageError

if TYPE_CHECKING:
    import pandas as pd

    from mlspec.spec import Source


def source_path(root: Path, source: Source) -> Path:
    return root / source.path


def read_source(root: Path, name: str, source: Source) -> pd.DataFrame:
    """Read data source ``name``; raise :class:`StageError` pointing at ``data.sources.<name>.path``."""
    import pandas as pd

    path = source_path(root, source)
    where = ("data", "sources", name, "path")
    if not path.exists():
        raise StageError(f"data source {name!r}: file {source.path!r} not found", where)
    if path.is_dir():
        raise StageError(f"data source {name!r}: {source.path!r} is a directory, expected a file", where)
    fmt = source.inferred_format()
    try:
        frame = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StageError(f"data source {name!r}: cannot read {source.path!r} as {fmt}: {first}", where) from None
    except ImportError as exc:  # e.g. parquet without pyarrow
        raise StageError(f"data source {name!r}: reading {fmt} needs an extra package: {exc}", where) from None
    if frame.empty and len(frame.columns) == 0:
        raise StageError(f"data source {name!r}: {source.path!r} has no columns", where)
    return frame
