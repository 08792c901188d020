"""`mlspec status`: what the workspace holds, what mlspec.lock records, and the last recorded metrics.

Unlike `mlspec plan` this does not fingerprint anything; it compares the outputs on disk with the lock.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mlspec.load import Loaded
from mlspec.numbers import fmt
from mlspec.runtime import lockfile
from mlspec.runtime.hashing import StatCache, manifest
from mlspec.runtime.stages import RUNNABLE, build
from mlspec.runtime.workspace import Workspace, display_path
from mlspec.store import config as store_config


def status(loaded: Loaded) -> list[str]:
    """Lines describing the workspace of ``loaded``'s spec; reads only."""
    workspace = Workspace.for_spec(loaded.path)
    lock_path = lockfile.path_for(loaded.path)
    lock = lockfile.read(lock_path)
    cache = StatCache(workspace.stat_cache_file)
    stages = [s for s in build(loaded.spec) if s.kind in RUNNABLE]
    recorded = f"{len(lock.stages)} stage{'' if len(lock.stages) == 1 else 's'} recorded"
    lines = [
        f"workspace: {display_path(workspace.root)}" + ("" if workspace.root.is_dir() else " (no runs yet)"),
        f"lock: {display_path(lock_path)} " + (f"({recorded})" if lock_path.exists() else "(not written yet)"),
    ]
    for stage in stages:
        entry = lock.stages.get(stage.id)
        outputs = manifest(workspace.stage_dir(stage.id), cache.digest)
        lines.append(f"{stage.id}: {_state(entry, outputs)}")
        if entry is not None:
            lines += [f"  {key} = {fmt(value, 6, missing='None')}" for key, value in _flatten(entry.metrics)]
    gone = sorted(set(lock.stages) - {s.id for s in build(loaded.spec)})
    if gone:
        lines.append(f"no longer in the spec (dropped from the lock by the next run): {', '.join(gone)}")
    settings = store_config(loaded)
    if settings is not None:
        # Status describes this workspace and asks no server: what the store holds is `mlspec pull`'s to fetch.
        lines.append(f"store: {settings.url.text} (`mlspec pull` fetches the outputs the workspace lacks)")
    lines.append("run `mlspec plan` to see what would run and why")
    return lines


def _state(entry: lockfile.Entry | None, outputs: Mapping[str, str] | None) -> str:
    if entry is None:
        if outputs is None:
            return "never run"
        return "not recorded; outputs present from a failed or interrupted run"
    if outputs is None:
        return "recorded; outputs missing"
    if outputs != entry.outputs:
        differ = sorted(p for p in entry.outputs.keys() | outputs.keys() if entry.outputs.get(p) != outputs.get(p))
        return f"recorded; outputs differ from the lock: {', '.join(differ)}"
    return f"recorded; outputs match the lock ({len(outputs)} file{'' if len(outputs) == 1 else 's'})"


def _flatten(metrics: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key in sorted(metrics):
        value = metrics[key]
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
