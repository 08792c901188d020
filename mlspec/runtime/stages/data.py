"""The ``data:<source>`` stage: read one data source, keep it as ``snapshot.parquet``, describe it in ``profile.json``.

This is the only stage that reads a source (through its kind's adapter, :mod:`mlspec.sources`). Every later
stage reads the snapshot (:mod:`mlspec.runtime.snapshot`), so one run sees one version of the data.

The profile is what later stages and reports know about the table without reading it: ``source``, ``path``
(where the data is, as the adapter shows it), ``format``, ``digest`` (the source's identity: ``sha256:`` of a
file's bytes), ``rows``, ``columns`` (names, in table order) and ``schema`` (column → pandas dtype). Reading
the table here also makes an unreadable source fail in its own stage, pointing at ``data.sources.<name>.path``,
before any suite or model touches it.

A source outside the project (a ``url`` source, :mod:`mlspec.sources.remote`) adds three things: its identity
from a cheap look-up is the stage's input (so a replaced object reruns it, an unchanged one does not); the
bytes it read are kept as ``source/<name>.<suffix>``, an output like the others (its digest in mlspec.lock,
the store keeps it), so those bytes outlive the object; and the profile's ``origin`` (and the lock's metric
``source``) records what the service said of them: ``url``, ``size``, ``etag``, ``version_id``,
``last_modified``, where it gave them, with ``sha256`` (the digest) and ``raw`` (the kept file).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlspec import sources
from mlspec.fsutil import atomic_write_text
from mlspec.graph import Stage, producers, stage_id
from mlspec.runtime.stages.kind import Kind, Read, source_files, source_read
from mlspec.sources.remote import RAW_DIR
from mlspec.spec import Source, Spec, UrlSource

if TYPE_CHECKING:
    from mlspec.load import Loaded
    from mlspec.runtime.context import RunOptions, StageContext, StageResult

PROFILE = "profile.json"


def _stages(spec: Spec) -> list[Stage]:
    # A source whose file a prepare step writes needs that step (mlspec.graph.producers).
    return [Stage(stage_id("data", source), "data", source, producers(spec, source_files(spec, source)))
            for source in spec.data.sources]


def _reads(spec: Spec, stage: Stage) -> list[Read]:
    # The label check of a binary task's training source (_check_labels) decides whether the stage may pass,
    # not what it writes; the train stage reads these fingerprinted and checks again.
    reads = [source_read(str(stage.name)), Read("task", fingerprinted=False)]
    if spec.task == "binary":
        reads.append(Read("training.models", fingerprinted=False))  # is this a training source?
        if any(model.data == stage.name for model in spec.training.models.values()):
            reads += [Read(p, fingerprinted=False) for p in ("data.target", "data.positive_class")]
    if _on_s3(spec.data.sources[str(stage.name)]):
        # An s3:// source is fetched from the store's endpoint unless it names its own. Where the bytes came
        # from is the stage's input already (the object's identity, see _object_input), as are the bytes.
        reads.append(Read("store", fingerprinted=False))
    return reads


def _on_s3(source: Source) -> bool:
    return isinstance(source, UrlSource) and source.endpoint_url is None and source.url.lower().startswith("s3:")


def _files(spec: Spec, stage: Stage) -> list[str]:
    return source_files(spec, str(stage.name))


def _object_input(loaded: Loaded, stage: Stage, options: RunOptions) -> dict[str, str]:
    """A source outside the project (a ``url`` source): its identity from one look-up, by its URL, so that
    an unchanged object leaves the stage up to date and a replaced one reruns it (:mod:`mlspec.sources.remote`)."""
    name = str(stage.name)
    source = loaded.spec.data.sources[name]
    return sources.adapter(source).probe(name, source, _reading(loaded, source))


KIND = Kind(
    "data", _stages, _reads, _files,
    # pyarrow: pandas 3 stores strings in pyarrow arrays when it is installed.
    libraries=("pandas", "pyarrow"),
    outputs_version=2,  # 2: snapshot.parquet beside profile.json
    spec_key=lambda stage: ("data", "sources", str(stage.name)),
    external=_object_input,
)


def _reading(loaded: Loaded, source: Source, into: Path | None = None,
             log: Callable[[str], None] | None = None) -> sources.Reading:
    """What a read of ``source`` needs besides its entry: the store's filesystems and, for an s3:// source
    without an endpoint of its own, the store's endpoint."""
    if not isinstance(source, UrlSource):
        return sources.Reading(into=into, log=log)
    from mlspec import store
    from mlspec.sources.storefs import STORE_FILESYSTEMS

    endpoint = None
    if _on_s3(source):
        settings = store.config(loaded)
        endpoint = settings.endpoint_url if settings is not None and settings.url.kind == "s3" else None
    return sources.Reading(into=into, store_endpoint=endpoint, log=log, filesystems=STORE_FILESYSTEMS)


def run(ctx: StageContext) -> StageResult:
    from mlspec.runtime import snapshot
    from mlspec.runtime.context import StageError, StageResult

    name = str(ctx.stage.name)
    source = ctx.spec.data.sources[name]
    adapter = sources.adapter(source)
    try:
        read = adapter.read(ctx.root, name, source, _reading(ctx.loaded, source, ctx.out_dir / RAW_DIR, ctx.log))
    except sources.SourceError as exc:
        raise StageError(str(exc), exc.spec_path) from None
    frame = read.frame
    _check_labels(ctx.spec, name, frame)
    snapshot.write(frame, ctx.out_dir, name)
    columns = [str(c) for c in frame.columns]
    profile: dict[str, Any] = {
        "source": name,
        "path": adapter.location(source),
        "format": adapter.table_format(source),
        "digest": read.identity,
        "rows": len(frame),
        "columns": columns,
        "schema": {c: str(dtype) for c, dtype in zip(columns, frame.dtypes, strict=True)},
    }
    metrics: dict[str, Any] = {"rows": len(frame), "columns": len(columns)}
    if read.origin is not None:
        # What the service said of the object read, beside the digest of its bytes: in the profile (an output)
        # and in the lock's metrics (what `mlspec status` and `mlspec diff` show).
        profile["origin"] = origin = {**read.origin.as_json(), "sha256": read.identity}
        if read.raw is not None:
            profile["raw"] = origin["raw"] = read.raw.relative_to(ctx.out_dir).as_posix()
        metrics["source"] = origin
    # Keys in the documented order and columns in table order: the file is read by people too.
    atomic_write_text(ctx.out_dir / PROFILE, json.dumps(profile, indent=2, ensure_ascii=False) + "\n")
    ctx.log(f"read {adapter.location(source)}: {len(frame)} rows, {len(columns)} columns")
    return StageResult(metrics=metrics, summary=f"{len(frame)} rows, {len(columns)} columns")


def _check_labels(spec: Spec, name: str, frame: Any) -> None:
    """A binary task's training source must say which label is positive (:mod:`mlspec.labels`): stopped here,
    at the data, rather than after training, with the labels it has."""
    from mlspec.labels import positive_problem
    from mlspec.runtime.context import StageError
    from mlspec.runtime.stages.train import label_counts

    if spec.task != "binary":
        return
    if all(model.data != name for model in spec.training.models.values()) or spec.data.target not in frame.columns:
        return
    declared = spec.data.positive_class
    problem = positive_problem(label_counts(frame[spec.data.target]), declared)
    if problem is not None:
        where = ("data", "positive_class") if declared is not None else ("data", "target")
        raise StageError(f"target column {spec.data.target!r} of data source {name!r}: {problem}", where)
