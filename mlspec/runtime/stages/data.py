"""The ``data:<source>`` stage: read one data source and describe it in ``profile.json``.

The profile is what later stages and reports know about the table without reading it again: ``source``,
``path``, ``format``, ``digest`` (``sha256:`` of the file's bytes), ``rows``, ``columns`` (names, in table
order) and ``schema`` (column → pandas dtype). Reading the table here also makes an unreadable file fail in
its own stage, pointing at ``data.sources.<name>.path``, before any suite or model touches it.
"""

from __future__ import annotations

import json

from mlspec.fsutil import atomic_write_text
from mlspec.graph import Stage, stage_id
from mlspec.runtime.context import StageContext, StageResult
from mlspec.runtime.hashing import file_digest
from mlspec.runtime.io import read_source, source_path
from mlspec.runtime.stages.kind import Kind, Read, source_file, source_read
from mlspec.spec import Spec

PROFILE = "profile.json"


def _stages(spec: Spec) -> list[Stage]:
    return [Stage(stage_id("data", source), "data", source, ()) for source in spec.data.sources]


def _reads(spec: Spec, stage: Stage) -> list[Read]:
    return [source_read(str(stage.name))]


def _files(spec: Spec, stage: Stage) -> list[str]:
    return [source_file(spec, str(stage.name))]


KIND = Kind(
    "data", _stages, _reads, _files,
    # pyarrow: pandas 3 stores strings in pyarrow arrays when it is installed.
    libraries=("pandas", "pyarrow"),
    spec_key=lambda stage: ("data", "sources", str(stage.name)),
)


def run(ctx: StageContext) -> StageResult:
    name = str(ctx.stage.name)
    source = ctx.spec.data.sources[name]
    frame = read_source(ctx.root, name, source)
    path = source_path(ctx.root, source)  # checked again by read_source; the digest is of that same file
    columns = [str(c) for c in frame.columns]
    profile = {
        "source": name,
        "path": source.path,
        "format": source.inferred_format(),
        "digest": file_digest(path),
        "rows": len(frame),
        "columns": columns,
        "schema": {c: str(dtype) for c, dtype in zip(columns, frame.dtypes, strict=True)},
    }
    # Keys in the documented order and columns in table order: the file is read by people too.
    atomic_write_text(ctx.out_dir / PROFILE, json.dumps(profile, indent=2, ensure_ascii=False) + "\n")
    ctx.log(f"read {source.path}: {len(frame)} rows, {len(columns)} columns")
    return StageResult(
        metrics={"rows": len(frame), "columns": len(columns)},
        summary=f"{len(frame)} rows, {len(columns)} columns",
    )
