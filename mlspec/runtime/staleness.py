"""Whether a stage is up to date, and why not: shared by `mlspec run` and `mlspec plan`.

A stage is up to date when its fingerprint equals the one in mlspec.lock *and* its output directory holds
exactly the recorded files with the recorded digests. The fingerprint covers the stage's id and kind, the
spec sections it reads, the files it reads, the library versions (each kind's declaration, see
:mod:`mlspec.runtime.stages`) and the digests of its upstream stages' outputs. Everything else in this module
only explains a difference.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlspec.graph import Stage
from mlspec.load import Loaded
from mlspec.runtime import stages
from mlspec.runtime.context import NO_OPTIONS, RunOptions
from mlspec.runtime.hashing import StatCache, fingerprint
from mlspec.runtime.lockfile import Entry

MISSING = "missing"
"""The digest recorded for an input file that does not exist."""


@dataclass(frozen=True)
class Facts:
    """Everything a stage's fingerprint is computed from."""

    stage_id: str
    kind: str
    spec: Mapping[str, str]
    versions: Mapping[str, str]
    inputs: Mapping[str, str]
    upstream: Mapping[str, str | None]
    """Needed stage id → fingerprint of its outputs; None when that stage has yet to (re)run."""

    @property
    def fingerprint(self) -> str:
        return fingerprint({
            "stage": self.stage_id, "kind": self.kind, "spec": self.spec, "versions": self.versions,
            "inputs": self.inputs, "upstream": self.upstream,
        })


def facts_of(stage: Stage, loaded: Loaded, cache: StatCache, upstream: Mapping[str, str | None],
             options: RunOptions = NO_OPTIONS) -> Facts:
    spec = loaded.spec
    sections = {path: fingerprint(value) for path, value in stages.spec_sections(spec, stage).items()}
    inputs = {rel: cache.digest(loaded.root / rel) or MISSING
              for rel in expand(loaded.root, stages.input_files(spec, stage))}
    inputs.update(stages.external_inputs(loaded, stage, options))
    return Facts(stage.id, stage.kind, sections, stages.stage_versions(spec, stage), inputs, dict(upstream))


SKIPPED_DIRS = frozenset({"__pycache__", ".git"})
"""Directories an input directory's files are not taken from: what Python and git keep there is not content."""


def expand(root: Path, files: list[str]) -> list[str]:
    """``files`` (relative to ``root``) with each directory replaced by the files under it, in sorted order (a
    prepare step's inputs may be directories: a new, changed or removed file in one reruns the step)."""
    out: list[str] = []
    for rel in files:
        path = root / rel
        if not path.is_dir() or path.is_symlink():
            out.append(rel)
            continue
        for found in sorted(path.rglob("*")):
            parts = found.relative_to(path).parts
            if found.is_file() and not SKIPPED_DIRS.intersection(parts[:-1]) and not found.name.endswith(".pyc"):
                out.append(posixpath.join(rel, *parts))
    return list(dict.fromkeys(out))


def settle(
    facts: Facts, entry: Entry | None, record: Entry | None, outputs: Mapping[str, str] | None, forced: bool
) -> tuple[Entry | None, list[str]]:
    """The entry that describes the stage's outputs now, and why the stage must run (empty: up to date).

    ``record`` is the entry stored beside the outputs in the workspace. Outputs that arrived with their record
    (a CI artifact from another job, a restored cache) are adopted when that record matches the stage as it is
    now, even though mlspec.lock does not know them yet.
    """
    reasons = why(facts, entry, outputs, forced)
    if reasons and not forced and record is not None and record != entry and not why(facts, record, outputs, False):
        return record, []
    return entry, reasons


def why(facts: Facts, entry: Entry | None, outputs: Mapping[str, str] | None, forced: bool) -> list[str]:
    """The reasons the stage must run; empty when it is up to date."""
    reasons = ["--force"] if forced else []
    if entry is None:
        return [*reasons, "no lock entry"]
    if facts.fingerprint != entry.fingerprint:
        reasons += _changes(facts, entry) or ["fingerprint changed"]
    if outputs is None:
        reasons.append("outputs missing")
    elif outputs != entry.outputs:
        reasons += _output_changes(outputs, entry.outputs)
    return reasons


def _changes(facts: Facts, entry: Entry) -> list[str]:
    out: list[str] = []
    sections = sorted(k for k in facts.spec.keys() | entry.spec.keys() if facts.spec.get(k) != entry.spec.get(k))
    if sections:
        out.append("spec changed: " + ", ".join(sections))
    for path in sorted(facts.inputs.keys() | entry.inputs.keys()):
        now, was = facts.inputs.get(path), entry.inputs.get(path)
        if now == was:
            continue
        if now is None:
            out.append(f"input no longer read: {path}")
        elif now == MISSING:
            out.append(f"input missing: {path}")
        elif was is None:
            out.append(f"new input: {path}")
        else:
            out.append(f"input changed: {path}")
    needs = sorted(facts.upstream.keys() | entry.upstream.keys())
    pending = [sid for sid in needs if sid in facts.upstream and facts.upstream[sid] is None]
    if pending:
        out.append(f"needs {', '.join(pending)}, which {'runs' if len(pending) == 1 else 'run'} first")
    changed = [sid for sid in needs if sid not in pending and facts.upstream.get(sid) != entry.upstream.get(sid)]
    if changed:
        out.append("upstream changed: " + ", ".join(changed))
    bumps = [
        f"{dist} {entry.versions.get(dist, 'absent')} -> {facts.versions.get(dist, 'absent')}"
        for dist in sorted(facts.versions.keys() | entry.versions.keys())
        if facts.versions.get(dist) != entry.versions.get(dist)
    ]
    if bumps:
        out.append("versions changed: " + ", ".join(bumps))
    return out


def _output_changes(now: Mapping[str, str], was: Mapping[str, str]) -> list[str]:
    out = [f"output missing: {p}" for p in sorted(was.keys() - now.keys())]
    out += [f"output changed: {p}" for p in sorted(was.keys() & now.keys()) if was[p] != now[p]]
    out += [f"output not recorded: {p}" for p in sorted(now.keys() - was.keys())]
    return out
