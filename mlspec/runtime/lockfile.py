"""``mlspec.lock``: what each stage last ran on and produced, committed beside mlspec.yaml like dvc.lock.

Per stage: the fingerprint (the only thing that decides "changed", see :mod:`mlspec.runtime.hashing`), and the
parts it was computed from, kept so ``mlspec plan`` can say *why* a stage reruns: the digest of each spec
section the stage reads, the library versions, the input files' digests, the upstream stages' output digests.
Then the stage's outputs (file in its output directory → digest) and the metrics it reported.

The format is JSON with sorted keys and two-space indentation, not YAML, because:

* the bytes are fixed by the standard library (``json.dumps(sort_keys=True, indent=2)``), so equal locks are
  equal files on every machine and PyYAML's line-width and quoting rules never churn a diff;
* it is the same canonical form the fingerprints hash, with no YAML typing surprises (``1.10`` → 1.1);
* one key per line still gives readable, line-based git diffs and merge conflicts.

The file is always replaced atomically (:mod:`mlspec.fsutil`): a crash leaves the old lock or the new one.

Readers: :func:`read` (the lock beside a spec), :func:`read_record` (the entry kept beside a stage's outputs in
the workspace) and :func:`at_revision` (the lock, and the spec's text, committed at a git revision: the gate's
baseline and ``mlspec diff``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlspec import gitio, jsonio
from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_text
from mlspec.runtime.hashing import to_json
from mlspec.runtime.workspace import Workspace

SCHEMA = 1
NAME = "mlspec.lock"
_DIGEST_MAPS = ("spec", "versions", "inputs", "upstream", "outputs")
_DELETE_HINT = "delete it to rerun every stage"
_RECORD_HINT = "delete it to rerun the stage"


@dataclass(frozen=True)
class Entry:
    """The record of one stage that ran successfully."""

    fingerprint: str
    spec: Mapping[str, str]
    """Spec section (dotted path) → fingerprint of its value."""
    versions: Mapping[str, str]
    """Distribution name → version, of mlspec, Python and the libraries the stage uses."""
    inputs: Mapping[str, str]
    """File the stage reads, relative to the spec's directory → digest."""
    upstream: Mapping[str, str]
    """Needed stage id → fingerprint of that stage's outputs."""
    outputs: Mapping[str, str]
    """File in the stage's output directory (``/``-separated) → digest."""
    metrics: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            **{name: dict(getattr(self, name)) for name in _DIGEST_MAPS},
            "metrics": to_json(dict(self.metrics)),
        }


@dataclass(frozen=True)
class Lock:
    stages: Mapping[str, Entry] = field(default_factory=dict)

    def with_entry(self, stage_id: str, entry: Entry) -> Lock:
        return replace(self, stages={**self.stages, stage_id: entry})

    def without(self, stage_id: str) -> Lock:
        return replace(self, stages={k: v for k, v in self.stages.items() if k != stage_id})

    def only(self, stage_ids: Iterable[str]) -> Lock:
        """The entries of stages that still exist in the spec."""
        keep = set(stage_ids)
        return replace(self, stages={k: v for k, v in self.stages.items() if k in keep})


def path_for(spec_path: Path) -> Path:
    """The lock file belonging to a spec file: ``mlspec.lock`` in the same directory."""
    return spec_path.parent / NAME


def dumps(lock: Lock) -> str:
    data = {"schema": SCHEMA, "stages": {sid: e.as_json() for sid, e in lock.stages.items()}}
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write(path: Path, lock: Lock) -> None:
    try:
        atomic_write_text(path, dumps(lock))
    except OSError as exc:
        raise MlspecError(f"{path}: cannot write: {exc.strerror}") from None


def read(path: Path) -> Lock:
    """The lock at ``path``; an empty lock if there is none yet."""
    try:
        raw = jsonio.read_bytes(path)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        return Lock()
    except jsonio.JsonError as exc:
        raise MlspecError(f"{exc}; {_DELETE_HINT}") from None
    except UnicodeDecodeError as exc:
        raise MlspecError(f"{path}: not UTF-8 text (byte {exc.start}); {_DELETE_HINT}") from None
    return loads(text, str(path))


def loads(text: str, filename: str = NAME) -> Lock:
    for number, row in enumerate(text.splitlines(), 1):
        if row.startswith("<<<<<<<"):
            raise MlspecError(f"{filename}:{number}:1: unresolved merge conflict; keep one side's entries, "
                              f"or {_DELETE_HINT}")
    try:
        data = _parse(text, filename)
    except jsonio.JsonError as exc:
        raise MlspecError(f"{exc}; {_DELETE_HINT}") from None
    if not isinstance(data, dict) or not isinstance(data.get("schema"), int) or isinstance(data["schema"], bool):
        raise MlspecError(f"{filename}:1:1: not an mlspec lock file (no \"schema\" number); {_DELETE_HINT}")
    if data["schema"] != SCHEMA:
        raise MlspecError(f"{filename}: lock schema {data['schema']} is not the schema {SCHEMA} this mlspec "
                          f"reads; use the mlspec that wrote it, or {_DELETE_HINT}")
    stages = data.get("stages", {})
    if not isinstance(stages, dict):
        line = _line(text, '"stages"')
        raise MlspecError(f"{filename}:{line}:1: \"stages\" must be a mapping; {_DELETE_HINT}")
    entries: dict[str, Entry] = {}
    for stage_id, raw in stages.items():
        problem = _entry_problem(raw)
        if problem:
            line = _line(text, json.dumps(stage_id) + ":")
            raise MlspecError(f"{filename}:{line}:1: stage {stage_id}: {problem}; {_DELETE_HINT}")
        entries[stage_id] = Entry(
            fingerprint=raw["fingerprint"], metrics=raw.get("metrics", {}), **{k: raw[k] for k in _DIGEST_MAPS}
        )
    return Lock(entries)


def read_record(workspace: Workspace, stage_id: str) -> Entry | None:
    """The record kept beside ``stage_id``'s outputs in ``workspace``; None if there is none or it is not an
    entry (then the outputs are not adopted: the stage reruns, or the lock must describe them).

    A record that is not JSON at all (too deep, an integer no 64-bit number holds, truncated, not UTF-8) or
    cannot be read was not written by mlspec, which replaces records atomically: that is an error naming the
    file, like the lock.
    """
    path = workspace.record_file(stage_id)
    try:
        raw = jsonio.read_bytes(path)
    except FileNotFoundError:
        return None
    except jsonio.JsonError as exc:
        raise MlspecError(f"{exc}; {_RECORD_HINT}") from None
    return entry_from_json(raw, str(path))


def entry_from_json(text: str | bytes, filename: str = "stage record") -> Entry | None:
    """A single entry as written by :meth:`Entry.as_json` (a stage record); None if it is not one."""
    try:
        raw = _parse(text, filename)
    except jsonio.JsonError as exc:
        raise MlspecError(f"{exc}; {_RECORD_HINT}") from None
    if _entry_problem(raw):
        return None
    return Entry(fingerprint=raw["fingerprint"], metrics=raw.get("metrics", {}), **{k: raw[k] for k in _DIGEST_MAPS})


def _parse(text: str | bytes, filename: str) -> Any:
    # mlspec writes finite floats only (allow_nan=False) and integers that fit 64 bits: metrics, counts.
    return jsonio.loads(text, filename, allow_constants=False, max_int_digits=jsonio.INT64_DIGITS)


def entry_to_json(entry: Entry) -> str:
    return json.dumps(entry.as_json(), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _entry_problem(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return "entry must be a mapping"
    if not isinstance(raw.get("fingerprint"), str):
        return "\"fingerprint\" must be a string"
    for name in _DIGEST_MAPS:
        value = raw.get(name)
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            return f"\"{name}\" must be a mapping of strings"
    if not isinstance(raw.get("metrics", {}), dict):
        return "\"metrics\" must be a mapping"
    return None


def _line(text: str, needle: str) -> int:
    return text[: max(text.find(needle), 0)].count("\n") + 1


# --- the lock at a git revision ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Committed:
    """What a git revision holds beside the spec: its lock and, when asked for, the spec's text."""

    rev: str
    """The revision as it was named (``origin/main``, ``HEAD~1``)."""
    lock_path: str
    """The lock's path from the top of the work tree (``sub/mlspec.lock``)."""
    lock: Lock | None
    """None when the revision has no lock there."""
    spec_path: str
    spec_text: str | None
    """None when the revision has no spec there, or it was not asked for."""

    @property
    def source(self) -> str:
        """Where the lock's numbers come from, for messages: ``origin/main:mlspec.lock``."""
        return f"{self.rev}:{self.lock_path}"


def at_revision(spec_path: Path, rev: str, *, spec: bool = False) -> Committed | None:
    """The lock committed at git revision ``rev`` beside ``spec_path`` (and with ``spec``, the spec's text);
    None when ``rev`` names no commit.

    :class:`mlspec.gitio.GitError` when git cannot answer here (not a repository, no git); a located
    :class:`MlspecError` when the revision has a lock that cannot be read or is not one.
    """
    root = spec_path.parent
    prefix = gitio.prefix(root)
    commit = gitio.commit_of(root, rev)
    if commit is None:
        return None
    lock_path, spec_at = prefix + path_for(spec_path).name, prefix + spec_path.name
    lock_raw = _show(root, rev, commit, lock_path)
    lock = None if lock_raw is None else loads(lock_raw.decode("utf-8", "replace"), f"{rev}:{lock_path}")
    spec_raw = _show(root, rev, commit, spec_at) if spec else None
    return Committed(rev, lock_path, lock, spec_at, None if spec_raw is None else spec_raw.decode("utf-8", "replace"))


def _show(root: Path, rev: str, commit: str, path: str) -> bytes | None:
    try:
        return gitio.show(root, commit, path)
    except gitio.GitError as exc:  # git answered that it has the file, then failed to give it
        raise MlspecError(f"cannot read {rev}:{path}: {exc}") from None
