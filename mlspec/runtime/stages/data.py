"""The ``data:<source>`` stage: read one data source, keep it as ``snapshot.parquet``, describe it in ``profile.json``.

This is the only stage that reads a source (through its kind's adapter, :mod:`mlspec.sources`). Every later
stage reads the snapshot (:mod:`mlspec.runtime.snapshot`), so one run sees one version of the data.

The profile is what later stages and reports know about the table without reading it: ``source``, ``path``
(where the data is, as the adapter shows it), ``format``, ``digest`` (the source's identity: ``sha256:`` of a
file's bytes), ``rows``, ``columns`` (names, in table order) and ``schema`` (column → pandas dtype). Reading
the table here also makes an unreadable source fail in its own stage, pointing at ``data.sources.<name>.path``,
before any suite or model touches it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from mlspec import sources
from mlspec.fsutil import atomic_write_text
from mlspec.graph import Stage, stage_id
from mlspec.runtime.stages.kind import Kind, Read, source_files, source_read
from mlspec.spec import Spec

if TYPE_CHECKING:
    from mlspec.runtime.context import StageContext, StageResult

PROFILE = "profile.json"


def _stages(spec: Spec) -> list[Stage]:
    return [Stage(stage_id("data", source), "data", source, ()) for source in spec.data.sources]


def _reads(spec: Spec, stage: Stage) -> list[Read]:
    return [source_read(str(stage.name))]


def _files(spec: Spec, stage: Stage) -> list[str]:
    return source_files(spec, str(stage.name))


KIND = Kind(
    "data", _stages, _reads, _files,
    # pyarrow: pandas 3 stores strings in pyarrow arrays when it is installed.
    libraries=("pandas", "pyarrow"),
    outputs_version=2,  # 2: snapshot.parquet beside profile.json
    spec_key=lambda stage: ("data", "sources", str(stage.name)),
)


def run(ctx: StageContext) -> StageResult:
    from mlspec.runtime import snapshot
    from mlspec.runtime.context import StageError, StageResult

    name = str(ctx.stage.name)
    source = ctx.spec.data.sources[name]
    adapter = sources.adapter(source)
    try:
        read = adapter.read(ctx.root, name, source)
    except sources.SourceError as exc:
        raise StageError(str(exc), exc.spec_path) from None
    frame = read.frame
    snapshot.write(frame, ctx.out_dir, name)
    columns = [str(c) for c in frame.columns]
    profile = {
        "source": name,
        "path": adapter.location(source),
        "format": adapter.table_format(source),
        "digest": read.identity,
        "rows": len(frame),
        "columns": columns,
        "schema": {c: str(dtype) for c, dtype in zip(columns, frame.dtypes, strict=True)},
    }
    # Keys in the documented order and columns in table order: the file is read by people too.
    atomic_write_text(ctx.out_dir / PROFILE, json.dumps(profile, indent=2, ensure_ascii=False) + "\n")
    ctx.log(f"read {adapter.location(source)}: {len(frame)} rows, {len(columns)} columns")
    return StageResult(
        metrics={"rows": len(frame), "columns": len(columns)},
        summary=f"{len(frame)} rows, {len(columns)} columns",
    )
