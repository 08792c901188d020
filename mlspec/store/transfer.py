"""`mlspec push` and `mlspec pull`: move exactly what some stages need between the workspace and the store.

**push** sends each named stage's outputs (default: every stage whose outputs in the workspace are the ones its
record or mlspec.lock describes) as objects, then its run record, as a run does after a stage
(:func:`mlspec.store.runcache.push`).

**pull** brings back the outputs of the named stages *and everything upstream of them* (as ``mlspec run`` selects
them), and only those. For each stage, in graph order, the entry to restore is:

1. with ``recorded`` (``mlspec pull``'s default), the entry in mlspec.lock when it has one: what the checked-out
   commit recorded. This is how ``mlspec pull`` at an old commit brings back the bytes that commit used, even
   after a source object was overwritten and a later run of the same spec pushed a record of the new bytes;
2. the one the workspace already has, when its fingerprint is the stage's current one and its files are intact;
3. else the store's run record of the current fingerprint (the stage as this checkout would run it);
4. else the entry in mlspec.lock.

The files are assembled in a fresh directory under the workspace's ``tmp/`` (intact local files linked, the rest
downloaded and verified), which replaces the stage's outputs only when complete, with its record beside it: a
pull never leaves a partial file or a half-restored stage. mlspec.lock is not written (``mlspec run`` adopts
what the records describe). What the store lacks is named, with the fix.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_text
from mlspec.graph import Stage
from mlspec.load import Loaded
from mlspec.runtime import lockfile
from mlspec.runtime.context import RunOptions
from mlspec.runtime.hashing import StatCache, file_digest, manifest, outputs_fingerprint
from mlspec.runtime.stages import build
from mlspec.runtime.workspace import Workspace
from mlspec.store import Store, runcache
from mlspec.store.runcache import size_text


@dataclass
class Moved:
    """What one push or pull did: one line per stage, totals, and what could not be moved."""

    verb: str
    lines: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    stages: int = 0
    """Stages whose files moved."""
    current: int = 0
    """Stages that needed nothing."""
    missing: list[str] = field(default_factory=list)
    """One message per stage that could not be moved, naming what is missing and the fix."""

    @property
    def ok(self) -> bool:
        return not self.missing

    def summary_text(self, location: str) -> str:
        text = (f"mlspec {self.verb}: {self.stages} stage{'' if self.stages == 1 else 's'} "
                f"({self.files} file{'' if self.files == 1 else 's'}, {size_text(self.bytes)}) "
                f"{'to' if self.verb == 'push' else 'from'} {location}, {self.current} already there")
        return text + (f", {len(self.missing)} missing" if self.missing else "")


def require(store: Store | None) -> Store:
    if store is None:
        raise MlspecError("no store: set store.url in mlspec.yaml, or MLSPEC_STORE, to the store's URL "
                          "(s3://bucket/prefix, gs://, az://, sftp://, file:// or a directory)")
    return store


def push(loaded: Loaded, store: Store, names: Sequence[str] = (), environ: Mapping[str, str] = os.environ) -> Moved:
    """Push the outputs and run records of ``names`` (stage ids or kinds; default every recorded stage)."""
    stages = build(loaded.spec)
    explicit = bool(names)
    chosen = _named(stages, names) if explicit else [s for s in stages if _runnable(s)]
    workspace = Workspace.for_spec(loaded.path, environ)
    lock = lockfile.read(lockfile.path_for(loaded.path))
    moved = Moved("push")
    with workspace.run_lock():
        cache = StatCache(workspace.stat_cache_file)
        for stage in chosen:
            outputs = manifest(workspace.stage_dir(stage.id), cache.digest)
            entry = _describing(workspace, lock, stage.id, outputs)
            if entry is None:
                if explicit or outputs is not None:
                    moved.missing.append(f"{stage.id}: its outputs in the workspace are not the ones its record or "
                                         f"mlspec.lock describes; run `mlspec run {stage.id}` first")
                continue
            pushed = runcache.push(store, stage.id, workspace.stage_dir(stage.id), entry)
            if pushed.uploaded or pushed.record:
                moved.stages += 1
                moved.files += pushed.uploaded
                moved.bytes += pushed.bytes
                moved.lines.append(f"pushed {stage.id}: {pushed.describe()}")
            else:
                moved.current += 1
        cache.save()
    return moved


def pull(loaded: Loaded, store: Store, names: Sequence[str] = (), *, with_deps: bool = True,
         recorded: bool = False, options: RunOptions | None = None, environ: Mapping[str, str] = os.environ
         ) -> Moved:
    """Pull what ``names`` need (see the module docstring); ``with_deps=False``: only the named stages' files
    (their upstream is still resolved, since a stage's fingerprint depends on its upstream's outputs).

    ``recorded``: what mlspec.lock recorded wins over the run cache wherever the lock has an entry (``mlspec
    pull``'s default, like ``dvc pull``: the checked-out commit's outputs, even when a source object has since been
    replaced and a later run of the same spec pushed others); without it, the stages as this checkout would run
    them now (what ``deploy`` and ``report`` need in a CI job, where the committed lock is older than the run).
    """
    from mlspec.runtime.runner import select
    from mlspec.runtime.staleness import facts_of

    options = options if options is not None else RunOptions.from_environ(environ=environ)
    stages = build(loaded.spec)
    selected, named = select(stages, names)
    workspace = Workspace.for_spec(loaded.path, environ)
    lock = lockfile.read(lockfile.path_for(loaded.path))
    moved = Moved("pull")
    with workspace.run_lock():
        workspace.clear_tmp()
        cache = StatCache(workspace.stat_cache_file)
        chosen: dict[str, lockfile.Entry | None] = {}
        for stage in selected:
            upstream = {n: _fingerprint(chosen.get(n)) for n in stage.needs}
            try:
                current: str | None = facts_of(stage, loaded, cache, upstream, options).fingerprint
            except MlspecError:
                current = None  # e.g. the gate's baseline cannot be resolved here: the lock still says what ran
            outputs = manifest(workspace.stage_dir(stage.id), cache.digest)
            here = _describing(workspace, lock, stage.id, outputs)
            locked = lock.stages.get(stage.id)
            if recorded and locked is not None:
                entry: lockfile.Entry | None = locked
            else:
                entry = _choose(store, stage.id, current, here, locked, moved)
            chosen[stage.id] = entry
            if not with_deps and stage.id not in named:
                continue
            if entry is None:
                moved.missing.append(f"{stage.id}: the store has no run of it for this checkout and mlspec.lock has "
                                     f"no entry; run `mlspec run {stage.id}` (and `mlspec push` where it ran)")
            elif outputs is not None and dict(entry.outputs) == outputs:
                moved.current += 1  # the files are here; the record says what they were computed from
                if lockfile.read_record(workspace, stage.id) != entry:
                    atomic_write_text(workspace.record_file(stage.id), lockfile.entry_to_json(entry))
            else:
                _restore(store, workspace, stage, entry, cache, moved)
        cache.save()
    return moved


def _choose(store: Store, stage_id: str, current: str | None, here: lockfile.Entry | None,
            locked: lockfile.Entry | None, moved: Moved) -> lockfile.Entry | None:
    if here is not None and current in (None, here.fingerprint):
        return here  # current, or nothing here can say it is not (an unknown fingerprint): keep what is here
    if current is not None:
        found = runcache.lookup(store, stage_id, current)
        if found.warning:
            moved.lines.append(f"warning: {found.warning}")
        if found.entry is not None:
            return found.entry
    return locked


def _restore(store: Store, workspace: Workspace, stage: Stage, entry: lockfile.Entry, cache: StatCache,
             moved: Moved) -> None:
    tmp = workspace.new_tmp(stage.id)
    try:
        got = runcache.fill(store, entry.outputs, tmp, workspace.stage_dir(stage.id), cache.digest)
        if not got.complete:
            moved.missing.append(f"{stage.id}: {got.problem(store)}; push it from where it ran (`mlspec push "
                                 f"{stage.id}`), or run it here (`mlspec run {stage.id}`)")
            return
        record = workspace.record_file(stage.id)
        record.unlink(missing_ok=True)
        workspace.swap_in(tmp, stage.id)
        atomic_write_text(record, lockfile.entry_to_json(entry))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    moved.stages += 1
    moved.files += got.downloaded
    moved.bytes += got.bytes
    moved.lines.append(f"pulled {stage.id}: {got.describe()}")


def _describing(workspace: Workspace, lock: lockfile.Lock, stage_id: str,
                outputs: dict[str, str] | None) -> lockfile.Entry | None:
    """The entry (the workspace's record, else mlspec.lock's) that describes ``outputs`` exactly."""
    if outputs is None:
        return None
    candidates = (lockfile.read_record(workspace, stage_id), lock.stages.get(stage_id))
    return next((e for e in candidates if e is not None and dict(e.outputs) == outputs), None)


def _fingerprint(entry: lockfile.Entry | None) -> str | None:
    return outputs_fingerprint(entry.outputs) if entry is not None else None


def _runnable(stage: Stage) -> bool:
    from mlspec.runtime.stages import RUNNABLE

    return stage.kind in RUNNABLE


def _named(stages: list[Stage], names: Sequence[str]) -> list[Stage]:
    """The stages ``names`` name (ids or kinds), without their upstream, in graph order."""
    from mlspec.runtime.runner import select

    _, named = select(stages, names)
    return [s for s in stages if s.id in named]


def pull_for(loaded: Loaded, kinds: Sequence[str] = (), ids: Sequence[str] = (),
             environ: Mapping[str, str] = os.environ) -> tuple[list[str], list[str]]:
    """Before a command reads stage outputs (deploy, report, comment): pull the stages of ``kinds`` (but not
    scheduled ones) and ``ids``, not their upstream, when there is a store; (lines of what moved, warnings of
    what is missing). Without a store, nothing happens: the command reads the workspace as it is."""
    from mlspec.store import config, open_store

    if config(loaded, environ) is None:
        return [], []
    # Scheduled stages (monitoring) only when named: the pipeline's commands never read them.
    wanted = [s.id for s in build(loaded.spec) if (s.kind in kinds and not s.scheduled) or s.id in ids]
    # Outputs the job already holds with the record that describes them (CI artifacts of this pipeline) are
    # read as they are: a job given artifacts and no store credentials (the report job) never asks the store.
    workspace = Workspace.for_spec(loaded.path, environ)
    wanted = [sid for sid in wanted if not _held(workspace, sid)]
    if not wanted:
        return [], []
    store = open_store(loaded, environ)
    assert store is not None
    moved = pull(loaded, store, wanted, with_deps=False, environ=environ)
    lines = [*moved.lines, moved.summary_text(store.location)] if moved.stages else []
    return lines, [f"warning: cannot pull {problem}" for problem in moved.missing]


def _held(workspace: Workspace, stage_id: str) -> bool:
    """Whether the workspace has ``stage_id``'s outputs exactly as their record describes them."""
    record = lockfile.read_record(workspace, stage_id)
    if record is None:
        return False
    return manifest(workspace.stage_dir(stage_id), file_digest) == dict(record.outputs)
