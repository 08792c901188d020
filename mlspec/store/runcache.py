"""The run cache: a stage's outputs kept in the store by its fingerprint, so no runner computes them twice.

A stage that ran successfully is pushed as two things: each output file as an object named by its digest
(``objects/sha256/..``, :meth:`Store.put_many`), then its lock entry (:func:`mlspec.runtime.lockfile.entry_to_json`)
as the *run record* ``runs/<kind>/<name or _>/<fingerprint hex>.json``, created once and never replaced
(:meth:`Store.create`). The record goes last, so a record never names objects that are not there (``mlspec gc``
keeps that true: it spares what is younger than an hour, as a push in progress is).

A later run anywhere whose stage has the same fingerprint (same spec sections, input files, library versions
and upstream outputs: :mod:`mlspec.runtime.staleness`) reads the record and fetches the files instead of running
the stage. Every file is verified against its digest on arrival (:meth:`Store.get_many`) into a fresh
directory, which becomes the stage's outputs only when complete.

What a fetch does not get (an object gone, or one whose bytes do not match its name) makes it a miss, never a
wrong output: the caller runs the stage instead and says why. A push after such a miss *repairs* a corrupt
object by uploading the verified bytes over it, the one write that replaces an object, and only with bytes
whose digest is its name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mlspec.errors import MlspecError
from mlspec.fsutil import own_name
from mlspec.runtime import lockfile
from mlspec.runtime.hashing import file_digest
from mlspec.store import DIGEST_PREFIX, Store, StoreError, object_key

RUNS = "runs/"


def record_key(stage_id: str, fingerprint: str) -> str:
    """``runs/<kind>/<name or _>/<hex>.json``: where the run of ``stage_id`` with ``fingerprint`` is recorded."""
    kind, _, name = stage_id.partition(":")
    return f"{RUNS}{kind}/{name or '_'}/{fingerprint.removeprefix(DIGEST_PREFIX)}.json"


def fingerprint_of_key(key: str) -> tuple[str, str] | None:
    """The stage id and fingerprint a run record's key stands for; None if ``key`` is not one mlspec writes."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != RUNS.rstrip("/") or not parts[3].endswith(".json"):
        return None
    hexpart = parts[3].removesuffix(".json")
    if len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        return None
    stage_id = parts[1] if parts[2] == "_" else f"{parts[1]}:{parts[2]}"
    return stage_id, DIGEST_PREFIX + hexpart


@dataclass(frozen=True)
class Lookup:
    entry: lockfile.Entry | None
    warning: str | None = None
    """Why a record that is there cannot be used (not mlspec's, or for another fingerprint)."""


def lookup(store: Store, stage_id: str, fingerprint: str) -> Lookup:
    """The run record of ``stage_id`` with ``fingerprint``, if the store has a usable one."""
    key = record_key(stage_id, fingerprint)
    raw = store.read(key)
    if raw is None:
        return Lookup(None)
    where = f"{store.location}: {key}"
    try:
        entry = lockfile.entry_from_json(raw, where)
    except MlspecError:
        entry = None
    if entry is None or entry.fingerprint != fingerprint:
        # Records are created whole and never rewritten: this one was written by something else. Not trusted.
        return Lookup(None, f"ignoring {where}: not the run record mlspec writes for {stage_id}; delete it there")
    return Lookup(entry)


@dataclass
class Fetched:
    """What filling a stage directory from the store did."""

    downloaded: int = 0
    bytes: int = 0
    kept: int = 0
    """Files that were intact in the workspace already (linked, not downloaded)."""
    missing: list[str] = field(default_factory=list)
    """Output files whose object the store does not have."""
    corrupt: dict[str, str] = field(default_factory=dict)
    """Output file → digest, of objects whose bytes do not match their name."""

    @property
    def complete(self) -> bool:
        return not self.missing and not self.corrupt

    def describe(self) -> str:
        text = f"{self.downloaded} file{'' if self.downloaded == 1 else 's'}, {size_text(self.bytes)}"
        return text + (f"; {self.kept} already in the workspace" if self.kept else "")

    def problem(self, store: Store) -> str:
        """Why the directory is not complete, naming the files and the fix."""
        parts = []
        if self.missing:
            parts.append(f"the store {store.location} lacks {_listed(self.missing)}")
        if self.corrupt:
            keys = ", ".join(object_key(d) for d in sorted(set(self.corrupt.values())))
            parts.append(f"{_listed(list(self.corrupt))} changed in the store after they were written ({keys})")
        return "; ".join(parts)


def fill(store: Store, outputs: Mapping[str, str], dest: Path, local: Path | None = None,
         digest: Callable[[Path], str | None] = file_digest) -> Fetched:
    """Fill the empty directory ``dest`` with exactly ``outputs`` (file → digest): files intact in ``local`` (the
    stage's outputs now) are hard-linked, the rest downloaded and verified. Never leaves a file in ``dest`` whose
    bytes are not its digest's; on an incomplete result the caller discards ``dest``."""
    result = Fetched()
    wanted: dict[str, list[Path]] = {}
    for rel, want in sorted(outputs.items()):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        source = local / rel if local is not None else None
        if source is not None and source.is_file() and not source.is_symlink() and digest(source) == want:
            _link(source, target)
            result.kept += 1
        else:
            wanted.setdefault(want, []).append(target)
    items = [(want, paths[0]) for want, paths in wanted.items()]
    try:
        store.get_many(items)
    except StoreError:
        _diagnose(store, items, outputs, dest, result)
    for paths in wanted.values():
        if paths[0].is_file():
            result.downloaded += 1
            result.bytes += paths[0].stat().st_size
            for other in paths[1:]:  # the same bytes under two names: one download
                _link(paths[0], other)
    return result


def _diagnose(store: Store, items: list[tuple[str, Path]], outputs: Mapping[str, str], dest: Path,
              result: Fetched) -> None:
    """After a failed batch: fetch what is left one by one and tell a missing or corrupt object (a miss) from a
    store that does not answer (:class:`StoreError`, raised)."""
    names = {d: rel for rel, d in outputs.items()}
    for want, path in items:
        if path.is_file():
            continue  # verified and renamed into place before the batch failed
        if not store.has(want):
            result.missing.append(names[want])
            continue
        probe = path.parent / own_name("probe")
        try:
            store.backend.download_many([(object_key(want), probe, names[want])], show=False)
            if file_digest(probe) != want:
                result.corrupt[names[want]] = want
            else:
                os.replace(probe, path)
        finally:
            probe.unlink(missing_ok=True)


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or links not allowed: a copy is as good
        shutil.copyfile(source, target)


@dataclass
class Pushed:
    uploaded: int = 0
    bytes: int = 0
    present: int = 0
    """Objects the store had already."""
    record: bool = False
    """Whether this push created the run record (False: it was there)."""

    def describe(self) -> str:
        text = f"{self.uploaded} file{'' if self.uploaded == 1 else 's'}, {size_text(self.bytes)}"
        return text + (f"; {self.present} already there" if self.present else "")


def push(store: Store, stage_id: str, stage_dir: Path, entry: lockfile.Entry,
         repair: Iterable[str] = ()) -> Pushed:
    """Upload the outputs ``entry`` records (files of ``stage_dir``) the store lacks, then the run record.

    ``repair``: digests known to be corrupt in the store; their verified bytes are uploaded over them.
    """
    result = Pushed()
    store.ensure_marker()
    by_digest: dict[str, Path] = {}
    for rel, want in sorted(entry.outputs.items()):
        by_digest.setdefault(want, stage_dir / rel)
    fix = set(repair) & by_digest.keys()
    for want in sorted(fix):
        _verify(by_digest[want], want)
        store.backend.upload_many([(by_digest[want], object_key(want))], show=False)
    needed = [(path, want) for want, path in sorted(by_digest.items()) if want not in fix and not store.has(want)]
    for path, want in needed:
        _verify(path, want)
    result.uploaded = store.put_many(needed) + len(fix)
    result.present = len(by_digest) - result.uploaded
    result.bytes = sum(path.stat().st_size for path, _ in needed) + sum(by_digest[d].stat().st_size for d in fix)
    result.record = store.create(record_key(stage_id, entry.fingerprint), lockfile.entry_to_json(entry).encode())
    return result


def _verify(path: Path, want: str) -> None:
    """A file about to be pushed must still be what the record says: a record never names other bytes."""
    with contextlib.suppress(FileNotFoundError):
        if file_digest(path) == want:
            return
    raise MlspecError(f"{path}: changed after the stage recorded it (not {want}); run the stage again "
                      "(`mlspec run --force STAGE`) before pushing it")


def size_text(n: int) -> str:
    """``1.5 MiB``: a byte count for people."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _listed(paths: list[str], most: int = 5) -> str:
    shown = ", ".join(sorted(paths)[:most])
    more = len(paths) - most
    return shown + (f" and {more} more" if more > 0 else "")
