"""The snapshot of a data source: the table the ``data:<source>`` stage read, kept as Parquet for the whole run.

Only the data stage reads a source (through its adapter, :mod:`mlspec.sources`); validate, train, evaluate and
monitor read this snapshot from the data stage's outputs with :func:`read`. A file rewritten, a bucket object
replaced or a query answered differently halfway through a run therefore cannot give two stages two tables,
and the downstream fingerprints cover the data through the data stage's output digests.

The snapshot is the frame exactly: column order, dtypes (pandas strings, categories, nullable integers,
time zones), missing values; the index is dropped (sources have none that means anything: CSV gives a
RangeIndex). :func:`write` reads the file back and compares, so a frame that Parquet cannot hold (an object
column mixing value types, categories of numbers) is a :class:`StageError` naming the column, never a
silently different table. The bytes are deterministic for a given frame and pyarrow version: no timestamps,
fixed compression and row groups, so an unchanged source gives an unchanged output digest.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from mlspec.runtime.context import StageContext, StageError

if TYPE_CHECKING:
    import pandas as pd

FILE = "snapshot.parquet"
# Fixed writer settings: the bytes must not depend on library defaults that could change between releases.
_COMPRESSION = "zstd"
_COMPRESSION_LEVEL = 3
_ROW_GROUP_ROWS = 1 << 20


def write(frame: pd.DataFrame, directory: Path, name: str) -> Path:
    """Write ``frame`` (data source ``name``) as ``directory/snapshot.parquet``; raise :class:`StageError` at
    ``data.sources.<name>`` if the file would not give the same frame back."""
    where = ("data", "sources", name)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise StageError(f"data source {name!r}: the snapshot every later stage reads is Parquet, which needs "
                         f"pyarrow (pip install 'mlspec-ci[run]'): {exc}", where) from None
    frame = frame.reset_index(drop=True)
    problem = _column_names(frame)
    if problem:
        raise StageError(f"data source {name!r}: {problem}", where)
    try:
        with warnings.catch_warnings():
            # pyarrow reads a zoned column through Series.values, which pandas 3.1 deprecates; nothing to act on.
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray that drops timezone")
            table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, TypeError):
        raise StageError(f"data source {name!r}: {_unconvertible(frame)}", where) from None
    path = directory / FILE
    pq.write_table(table, path, compression=_COMPRESSION, compression_level=_COMPRESSION_LEVEL,
                   row_group_size=_ROW_GROUP_ROWS, use_dictionary=True, write_statistics=True)
    difference = _difference(frame, _read_file(path))
    if difference:
        path.unlink()
        raise StageError(f"data source {name!r}: {difference}", where)
    return path


def read(ctx: StageContext, source: str) -> pd.DataFrame:
    """The snapshot of data source ``source``, from the outputs of ``data:<source>`` (which the stage needs)."""
    path = ctx.upstream(f"data:{source}") / FILE
    if not path.is_file():
        raise StageError(f"data source {source!r} has no snapshot in the outputs of data:{source} (written by an "
                         f"older mlspec?); run `mlspec run --force data:{source}`", ("data", "sources", source))
    return _read_file(path)


def _read_file(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pandas()


def _column_names(frame: pd.DataFrame) -> str | None:
    names = list(frame.columns)
    if not all(isinstance(c, str) for c in names):
        odd = next(c for c in names if not isinstance(c, str))
        return f"column name {odd!r} is not text; a snapshot keeps text column names only"
    seen: set[str] = set()
    for c in names:
        if c in seen:
            return f"column {c!r} appears twice; give every column its own name"
        seen.add(c)
    return None


def _unconvertible(frame: pd.DataFrame) -> str:
    """Which column Arrow cannot convert, and why, for people."""
    import pyarrow as pa

    for column in frame.columns:
        try:
            pa.Table.from_pandas(frame[[column]], preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, TypeError):
            kinds = sorted({type(v).__name__ for v in frame[column].dropna()})
            mix = f" (values of types {', '.join(kinds[:4])})" if kinds else ""
            return (f"column {column!r} mixes value types{mix}, which one Parquet column cannot hold; give the "
                    "column one type in the source (numbers only, or text only)")
    return "the table cannot be written as Parquet"  # pragma: no cover - every column converts alone


def _difference(frame: pd.DataFrame, back: pd.DataFrame) -> str | None:
    """How the table read back from the snapshot differs from ``frame``, naming the first column; None if not."""
    if list(back.columns) != list(frame.columns) or len(back) != len(frame):
        return "the Parquet snapshot does not keep the table's columns and rows"
    for column in frame.columns:
        before, after = frame[column], back[column]
        if before.dtype != after.dtype:
            return (f"column {column!r} ({before.dtype}) would come back from the Parquet snapshot as "
                    f"{after.dtype}; give the column one plain type in the source")
        if not before.equals(after):
            return (f"column {column!r} ({before.dtype}) does not come back from the Parquet snapshot with the "
                    "same values; give the column one plain type in the source")
    return None
