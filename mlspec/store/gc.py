"""`mlspec gc`: list, and on request delete, what in the store nothing needs any more.

Kept, always (the roots):

* everything any ``mlspec.lock`` committed on any branch or tag references (``git log --all`` over the lock's
  path): its stages' output objects and the run records of their fingerprints, with those records' objects;
* what the workspace's mlspec.lock and its stage records reference;
* every ``sha256:`` digest named in a JSON file of the registry (``registry/`` itself is never touched);
* anything younger than an hour (:data:`MIN_AGE`): a push in progress uploads its objects before its record,
  and a pipeline's later jobs fetch what its earlier ones pushed without any commit naming it.

Candidates are only keys mlspec writes: run records (``runs/<kind>/<name>/<64 hex>.json``), objects
(``objects/sha256/<2>/<62>``) and mlspec's own temporary names under ``tmp/`` left by killed uploads. The run
history (``history/``, :mod:`mlspec.runs.mirror`) is never a candidate, nor is ``registry/``: they are what a
team keeps, not a cache (a history part names data digests, but does not keep their objects alive). Nothing is
deleted without ``delete=True``; records go before objects, so a record never names a deleted object.

The roots come from the git history of *this* clone, so it refuses a shallow clone (most CI checkouts), and it
cannot know the locks of another repository: a store serves one repository.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlspec import gitio, jsonio
from mlspec.errors import MlspecError
from mlspec.fsutil import is_own_temp
from mlspec.load import Loaded
from mlspec.runtime import lockfile
from mlspec.runtime.stages import build
from mlspec.runtime.workspace import Workspace
from mlspec.store import Store, digest_of_key, runcache
from mlspec.store.runcache import size_text

MIN_AGE = 3600.0
"""Seconds: what is younger is never deleted (see the module docstring)."""
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_SHOWN = 20


@dataclass(frozen=True)
class Item:
    key: str
    size: int
    age: float | None
    """Seconds since it was written; None when the filesystem does not say (then it is never deleted)."""


@dataclass
class Garbage:
    records: list[Item] = field(default_factory=list)
    objects: list[Item] = field(default_factory=list)
    temporaries: list[Item] = field(default_factory=list)
    kept: int = 0
    young: int = 0
    """Unreferenced keys spared because they are younger than :data:`MIN_AGE`."""
    locks: int = 0
    """Versions of mlspec.lock read from the git history."""
    deleted: bool = False

    @property
    def items(self) -> list[Item]:
        return [*self.records, *self.objects, *self.temporaries]


@dataclass
class _Roots:
    digests: set[str] = field(default_factory=set)
    fingerprints: set[str] = field(default_factory=set)

    def add_entry(self, entry: lockfile.Entry) -> None:
        self.fingerprints.add(entry.fingerprint)
        self.digests.update(entry.outputs.values())

    def add_text(self, text: str) -> None:
        """A lock this mlspec cannot read: every digest in it is kept, as an object and as a fingerprint."""
        found = set(_DIGEST.findall(text))
        self.digests |= found
        self.fingerprints |= found


def collect(loaded: Loaded, store: Store, *, delete: bool = False, min_age: float = MIN_AGE) -> Garbage:
    """What nothing references (see the module docstring); deleted too with ``delete``."""
    roots = _Roots()
    garbage = Garbage()
    garbage.locks = _committed(loaded, roots)
    _workspace(loaded, roots)
    _registry(store, roots)
    records = _listing(store, runcache.RUNS)
    for item in records:
        parsed = runcache.fingerprint_of_key(item.key)
        if parsed is None or parsed[1] in roots.fingerprints:
            garbage.kept += 1
            if parsed is not None:
                _record_objects(store, item.key, roots)
        elif _young(item, min_age):
            garbage.young += 1
            _record_objects(store, item.key, roots)  # a pipeline in progress fetches these
        else:
            garbage.records.append(item)
    for item in _listing(store, "objects/"):
        digest = digest_of_key(item.key)
        if digest is None or digest in roots.digests:
            garbage.kept += 1
        elif _young(item, min_age):
            garbage.young += 1
        else:
            garbage.objects.append(item)
    garbage.temporaries = [i for i in _listing(store, "tmp/", include_tmp=True)
                           if is_own_temp(i.key.rsplit("/", 1)[-1]) and not _young(i, min_age)]
    if delete:
        for item in garbage.items:  # records first: a record never names a deleted object
            store.delete(item.key)
        garbage.deleted = True
    return garbage


def render(garbage: Garbage, location: str, delete: bool) -> list[str]:
    lines = [f"read {garbage.locks} committed version{'' if garbage.locks == 1 else 's'} of mlspec.lock from the "
             "git history (every branch and tag)"]
    for what, items in (("run record", garbage.records), ("object", garbage.objects),
                        ("temporary upload", garbage.temporaries)):
        for item in items[:_SHOWN]:
            lines.append(f"{'deleted' if delete else 'would delete'} {item.key} ({size_text(item.size)})")
        if len(items) > _SHOWN:
            lines.append(f"... and {len(items) - _SHOWN} more {what}s")
    total = sum(i.size for i in garbage.items)
    counts = (f"{len(garbage.records)} run records, {len(garbage.objects)} objects and {len(garbage.temporaries)} "
              f"temporary uploads ({size_text(total)})")
    kept = f"kept {garbage.kept} referenced" + (f" and {garbage.young} younger than an hour" if garbage.young else "")
    if delete:
        return [*lines, f"mlspec gc: deleted {counts} from {location}; {kept}"]
    hint = "; `mlspec gc --delete` deletes them" if garbage.items else ""
    return [*lines, f"mlspec gc: would delete {counts} from {location}; {kept}{hint}"]


def _committed(loaded: Loaded, roots: _Roots) -> int:
    root = loaded.root
    name = lockfile.path_for(loaded.path).name
    try:
        prefix = gitio.prefix(root)
        if gitio.is_shallow(root):
            raise MlspecError("mlspec gc needs the whole git history to know what committed locks reference, and "
                              "this clone is shallow; run `git fetch --unshallow` (and fetch every branch) first")
        commits = gitio.commits_touching(root, name)
        texts = [gitio.show(root, c, prefix + name) for c in commits]
    except gitio.GitError as exc:
        raise MlspecError(f"mlspec gc needs the git history of {root} to know what committed locks reference "
                          f"({exc}); run it in a clone of the repository") from None
    for commit, raw in zip(commits, texts, strict=True):
        if raw is None:
            continue  # the commit deleted the lock
        text = raw.decode("utf-8", "replace")
        try:
            lock = lockfile.loads(text, f"{commit}:{prefix}{name}")
        except MlspecError:
            roots.add_text(text)
            continue
        for entry in lock.stages.values():
            roots.add_entry(entry)
    return len(commits)


def _workspace(loaded: Loaded, roots: _Roots) -> None:
    for entry in lockfile.read(lockfile.path_for(loaded.path)).stages.values():
        roots.add_entry(entry)
    workspace = Workspace.for_spec(loaded.path)
    for stage in build(loaded.spec):
        try:
            record = lockfile.read_record(workspace, stage.id)
        except MlspecError:
            continue  # a broken record protects nothing; the next run replaces it
        if record is not None:
            roots.add_entry(record)


def _registry(store: Store, roots: _Roots) -> None:
    for key in store.list("registry/"):
        if key.endswith(".json"):
            roots.digests.update(_DIGEST.findall((store.read(key) or b"").decode("utf-8", "replace")))


def _record_objects(store: Store, key: str, roots: _Roots) -> None:
    raw = store.read(key)
    if raw is None:
        return
    try:
        entry = lockfile.entry_from_json(raw, key)
    except (MlspecError, jsonio.JsonError):
        entry = None
    if entry is None:
        roots.add_text(raw.decode("utf-8", "replace"))
    else:
        roots.add_entry(entry)


def _young(item: Item, min_age: float) -> bool:
    return item.age is None or item.age < min_age


def _listing(store: Store, prefix: str, include_tmp: bool = False) -> list[Item]:
    """The keys below ``prefix`` with their sizes and ages (one listing request, with details)."""
    backend = store.backend
    base = backend.path(prefix.rstrip("/"))
    with backend.errors(f"list {prefix}"):
        try:
            found: dict[str, Any] = backend.fs.find(base, detail=True)
        except FileNotFoundError:
            return []
    root = backend.root + "/" if backend.root else ""
    now = time.time()
    items = []
    for path, info in sorted(found.items()):
        key = str(path)[len(root):] if str(path).startswith(root) else str(path)
        if key.startswith("tmp/") and not include_tmp:
            continue
        items.append(Item(key, int(info.get("size") or 0), _age(info, now)))
    return items


def _age(info: dict[str, Any], now: float) -> float | None:
    for name in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(name)
        stamp = _seconds(value)
        if stamp is not None:
            return now - stamp
    return None


def _seconds(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None

