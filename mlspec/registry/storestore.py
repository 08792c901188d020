"""The store registry: the file registry's semantics in a bucket, safe for concurrent writers without a lock.

A bucket has no ``flock``, and a lease would need clocks and a service to renew it. Instead, every change is
one new object written with the store's one conditional write, create-if-absent (:meth:`Store.create`), and
the history's sequence number is the thing writers race for. Layout under the store's URL::

    registry/<model>/history/<seq, 8 digits>.json   one event each (register, promote, rollback), created once
    registry/<model>/versions/<64 hex>.json         a version's record (the file registry's version.json): its
                                                    number, bundle digest, gate verdict, who/when, the digest
                                                    of every file, and with MLSPEC_SIGNING_KEY its HMAC;
                                                    named by its manifest digest, created once
    registry/<model>/segments/100/<k>.json          events 100k-99 .. 100k again, in one object, so a long
                                                    history is read in few requests (:mod:`.storelog`)
    registry/<model>/aliases.json                   the aliases now, replaced after each event (a snapshot)
    objects/sha256/<2 hex>/<62 hex>                 the version's files (bundle, verdict, metrics, provenance,
                                                    model card), content-addressed like every other blob

**Writing.** A writer reads the history (events 1..n, read one by one until the next is absent), decides its
event from that state (a register takes the next version number, a promote records the alias's previous
version) and creates ``history/<n+1>``. Exactly one of several racing writers can create it; the others
re-read the history, re-decide (the bundle may now be registered, the alias may already name the version, a
rollback is refused if its alias moved meanwhile, since its target was chosen from a state that is gone) and
try ``n+2``. So no move is lost, the history has no gap and no fork, and each event's ``previous`` is the
alias as the whole history before it left it. A writer that sees its create refused but the object holding
exactly its own bytes (a retried request whose first attempt succeeded) counts it as its own.

A registration first uploads the version's files to ``objects/`` and creates its record under a name no
other writer can take (the digest of its content, which includes a timestamp to the microsecond), and only
then creates the ``register`` event that names that record's digest: the event is the commit point. A
writer that loses the race for a number uploads the card and record again under the next number.

**Crashes.** Every step is one object that is there whole or not at all, so a SIGKILL at any point leaves
a registry that is consistent: files or a record without an event are orphans, invisible to readers
(``mlspec gc`` may delete them once old enough: a registration in progress has uploaded them but not yet
committed); an event without its snapshot update is repaired by the next writer (``aliases.json`` is derived,
mlspec itself always replays the history). Nothing is ever rewritten or deleted in place.

**Integrity** is the file registry's (:mod:`mlspec.registry.integrity`): every use of a version (promote,
rollback, :meth:`StoreRegistry.files` for serving, monitoring, baselines) checks its record against the
manifest digest in its register event, its signature when a key is set, and every file it downloads against
the record (an object changed in the bucket is refused, naming the file). ``files()`` downloads into the
caller's scratch directory. Objects are shared by content: a changed object is refused in every version
that holds it.

**What each backend guarantees** (see :mod:`mlspec.store.backend`), and so what this buys:

* S3: ``PutObject`` with ``If-None-Match: *`` (conditional writes, AWS since 2024; also MinIO, Ceph RGW
  recent releases, moto): atomic and strongly consistent, a second create gets ``412 Precondition Failed``.
  AWS may answer ``409 ConditionalRequestConflict`` to one of two simultaneous creates; that surfaces as a
  store error, and the deploy can be retried (nothing was written). S3-compatible services that ignore the
  header would let two writers overwrite one event: use one that supports it.
* Azure Blob: ``Put Blob`` with ``If-None-Match: *`` (``409 BlobAlreadyExists``): atomic, strongly consistent.
* GCS: ``ifGenerationMatch=0``: atomic, strongly consistent (``412``).
* A directory: ``link(2)`` of a complete, fsync'ed temporary file onto the name fails if the name exists,
  atomically, on local filesystems and on NFS (where a retransmitted request may report the name as taken by
  the writer's own link: the read-back of its own bytes above counts it as written).
* SFTP: the protocol's plain rename (``SSH_FXP_RENAME``), which refuses an existing target; OpenSSH's server
  does it with ``link(2)``, so it is as atomic as the server's filesystem.

With all of them, a reader never sees half an object, and reads after a successful create see it (S3, GCS
and Azure are strongly consistent for reads after writes; listings are only used to notice damage).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from mlspec import jsonio
from mlspec.fsutil import make_temp_dir
from mlspec.registry import integrity
from mlspec.registry.base import (
    Actor,
    Candidate,
    Event,
    RegistryError,
    Version,
    alias_stack,
    check_promotable,
    current_aliases,
    rollback_target,
)
from mlspec.registry.filestore import FORMAT, VERSION_FILE, _check_name, now, write_version_files
from mlspec.registry.storelog import PREFIX, SEGMENT, EventLog
from mlspec.runtime.hashing import file_digest, manifest
from mlspec.store import Store, StoreError, object_key

ATTEMPTS = 64
"""Races lost in a row before a writer gives up (each loss means another writer's event was recorded)."""


class StoreRegistry:
    def __init__(self, store: Store, key: bytes | None = None, attempts: int = ATTEMPTS,
                 segment: int = SEGMENT) -> None:
        self.store = store
        self.key = key
        """The signing key (``MLSPEC_SIGNING_KEY``): versions are signed with it, and must be to be used."""
        self.attempts = attempts
        self.log = EventLog(store, segment)
        self._records: dict[str, dict[str, Any]] = {}  # by manifest digest
        self._verified: set[str] = set()  # object digests this process uploaded or downloaded and checked
        self._marked = False

    @property
    def location(self) -> str:
        return f"{self.store.location.rstrip('/')}/{PREFIX}"

    # --- reading ----------------------------------------------------------------------------------------------

    def models(self) -> list[str]:
        names = {parts[1] for parts in (k.split("/") for k in self.store.list(f"{PREFIX}/"))
                 if len(parts) == 4 and parts[2] == "history"}
        return sorted(n for n in names if _valid(n))

    def history(self, model: str) -> list[Event]:
        return self.log.read(model)

    def versions(self, model: str) -> list[Version]:
        return [self._version(model, e) for e in self.history(model) if e.kind == "register"]

    def get(self, model: str, number: int, events: list[Event] | None = None) -> Version:
        events = self.history(model) if events is None else events
        event = self._register_event(events, number)
        if event is None:
            known = sorted(e.version for e in events if e.kind == "register")
            have = f"versions 1-{max(known)}" if known else "no versions yet"
            raise RegistryError(f"{model!r} has no version {number} in the registry {self.location} ({have})")
        return self._version(model, event)

    def aliases(self, model: str) -> dict[str, int]:
        return current_aliases(self.history(model))

    def files(self, model: str, number: int, scratch: Path) -> Path:
        """The version's files, downloaded into a new directory in ``scratch`` and checked."""
        events = self.history(model)
        self.get(model, number, events)
        # Not mkdtemp's 0700: a deploy may hand this folder to a service that runs as another user.
        folder = make_temp_dir(scratch, f"{model}-{number}")
        self.check_intact(model, number, events, folder=folder)
        return folder

    def check_intact(self, model: str, number: int, events: list[Event] | None = None,
                     folder: Path | None = None) -> None:
        """Refuse version ``number`` unless its record and files are the ones registered (and signed, with a
        key). With ``folder``, the files are left there (with ``version.json``)."""
        events = self.history(model) if events is None else events
        event = self._register_event(events, number)
        if event is None or event.manifest is None:
            raise RegistryError(f"{self._what(model, number)}: its history event names no record; refusing to "
                                "use it")
        record = self._record(model, event)
        what, record_name = self._what(model, number), self._record_key(model, event.manifest)
        files = _file_list(record, what)
        # The record first: its paths are used only once its digest is the one the history anchored.
        integrity.check(what, record_name, record, files, event.manifest, self.key)
        if folder is not None:
            self._download(what, files, folder)
            (folder / VERSION_FILE).write_bytes(_json(record))
            return
        missing = {rel: d for rel, d in files.items() if d not in self._verified}
        if missing:
            with tempfile.TemporaryDirectory(prefix="mlspec-verify.") as tmp:
                self._download(what, missing, Path(tmp))

    def verify(self, model: str) -> list[str]:
        """Every inconsistency of ``model``'s part of the registry (empty when all is well)."""
        try:
            events = self.history(model)
        except RegistryError as exc:
            return [str(exc)]
        problems = self.log.check(model, events)
        registered = [e.version for e in events if e.kind == "register"]
        if registered != list(range(1, len(registered) + 1)):
            problems.append(f"registered versions {registered} are not 1..{len(registered)} in order")
        for number in registered:
            try:
                self.check_intact(model, number, events)
            except RegistryError as exc:
                problems.append(str(exc))
        for event in events:
            if event.kind != "register" and event.version not in registered:
                problems.append(f"event {event.seq} moves {event.alias!r} to missing version {event.version}")
        if self._read_snapshot(model) != _snapshot(events):
            problems.append("aliases.json disagrees with the history")
        return problems

    # --- writing ----------------------------------------------------------------------------------------------

    def register(self, model: str, candidate: Candidate, actor: Actor) -> tuple[Version, bool]:
        _check_name(model)
        found: list[Version] = []
        staged: dict[int, tuple[str, str]] = {}  # number → (manifest digest, created_at) already uploaded
        with tempfile.TemporaryDirectory(prefix="mlspec-register.") as tmp:
            def decide(events: list[Event]) -> Event | None:
                for version in (self._version(model, e) for e in events if e.kind == "register"):
                    if version.digest == candidate.digest:
                        found.append(version)
                        return None
                number = max([0, *(e.version for e in events if e.kind == "register")]) + 1
                if number not in staged:
                    staged[number] = self._stage(model, number, candidate, actor, Path(tmp) / str(number))
                digest, created_at = staged[number]
                return Event(len(events) + 1, "register", model, number, created_at, actor, manifest=digest)

            event = self._append(model, decide, self.history(model))
        if event is None:
            return found[-1], False
        return self.get(model, event.version), True

    def promote(self, model: str, alias: str, number: int, actor: Actor, note: str | None = None) -> Event | None:
        events = self.history(model)
        version = self.get(model, number, events)
        self.check_intact(model, number, events)  # before its verdict is believed
        check_promotable(version, alias)

        def decide(events: list[Event]) -> Event | None:
            previous = current_aliases(events).get(alias)
            if previous == number:  # a retried deploy job, or another writer did the same move
                return None
            return Event(len(events) + 1, "promote", model, number, now(), actor, alias, previous, note)

        return self._append(model, decide, events)

    def rollback(self, model: str, alias: str, actor: Actor, to: int | None = None,
                 note: str | None = None) -> Event:
        events = self.history(model)
        current, target = rollback_target(events, model, alias, to)
        version = self.get(model, target, events)
        self.check_intact(model, target, events)
        check_promotable(version, alias)

        def decide(events: list[Event]) -> Event:
            # The target was chosen from what the alias named; if another writer moved it since, that choice
            # is stale: refuse rather than roll back from a version the user never saw.
            stack = alias_stack(events, alias)
            try:
                still = rollback_target(events, model, alias, to) == (current, target)
            except RegistryError:
                still = False
            if not still:
                now_names = f"version {stack[-1]}" if stack else "nothing"
                raise RegistryError(f"alias {alias!r} of {model!r} was moved by another writer while this rollback "
                                    f"was being recorded (it now names {now_names}); nothing was rolled back: "
                                    "see `mlspec registry history`, and roll back again if it should still go "
                                    "back")
            return Event(len(events) + 1, "rollback", model, target, now(), actor, alias, current, note)

        event = self._append(model, decide, events)
        assert event is not None  # decide never declines
        return event

    def repair(self, model: str) -> None:
        """Finish what a crashed writer left: the snapshot of the aliases (every write does this after)."""
        events = self.history(model)
        self.log.repair(model, events)
        if self._read_snapshot(model) != _snapshot(events):
            self._write_snapshot(model, events)

    # --- internals --------------------------------------------------------------------------------------------

    def _append(self, model: str, decide: Callable[[list[Event]], Event | None],
                events: list[Event]) -> Event | None:
        """Create the event ``decide`` makes from ``events`` (the history as just read); on a lost race, read
        the events that won, re-decide and retry."""
        self._mark()
        for attempt in range(self.attempts):
            if attempt:
                events = self.history(model)
            event = decide(events)
            if event is None:
                return None
            if self.log.create(model, event, events):
                self._write_snapshot(model, [*events, event])
                return event
            # Another writer took this number: its event is in the history we read next. A little random wait
            # keeps writers that collided from colliding again in lockstep.
            time.sleep(random.uniform(0, min(0.02 * 2 ** attempt, 0.5)))
        raise RegistryError(f"could not record a change of {model!r} in the registry {self.location}: other writers "
                            f"took the next history number {self.attempts} times in a row; run it again")

    def _stage(self, model: str, number: int, candidate: Candidate, actor: Actor, folder: Path) -> tuple[str, str]:
        """Upload version ``number``'s files and create its record; its manifest digest and creation time."""
        write_version_files(folder, candidate, number)
        files = manifest(folder, file_digest) or {}
        for rel, digest in files.items():
            if self.store.put_file(folder / rel, digest):
                self._verified.add(digest)  # our own bytes, just written
        record: dict[str, Any] = {
            "format": FORMAT, "model": model, "version": number, "digest": candidate.digest,
            "verdict": candidate.verdict_word, "trained_model": candidate.trained_model, "created_at": now(),
            "created_by": actor.as_json(), "metrics": dict(candidate.metrics), "files": files,
        }
        digest = integrity.manifest_digest(record)
        record |= {"signature": integrity.sign(self.key, digest)} if self.key else {}
        self.store.create(self._record_key(model, digest), _json(record))  # False: already there, same content
        self._records[digest] = record
        shutil.rmtree(folder, ignore_errors=True)
        return digest, str(record["created_at"])

    def _download(self, what: str, files: dict[str, str], folder: Path) -> None:
        """Download ``files`` (``{path: digest}``) into ``folder``, each checked against its digest."""
        items = [(digest, folder / rel) for rel, digest in files.items()]
        try:
            self.store.get_many(items)
        except StoreError:
            # Which file? Read each one and say, as the file registry does; else it was the service.
            actual: dict[str, str] = {}
            for rel, digest in files.items():
                data = self.store.read(object_key(digest))
                if data is None:
                    raise RegistryError(f"{what}: {rel} is missing from the store (object {object_key(digest)}); "
                                        "refusing to use it. Register the model again (`mlspec deploy`)") from None
                actual[rel] = "sha256:" + hashlib.sha256(data).hexdigest()
            if actual == files:
                raise
            integrity.check(what, "", {"files": files}, actual, None, None)
            raise
        self._verified.update(files.values())

    def _write_snapshot(self, model: str, events: list[Event]) -> None:
        """Replace ``aliases.json`` with the aliases ``events`` (the whole history, as just read) leave."""
        # Concurrent writers may replace it out of order; so after writing, a writer checks that no event came
        # after the one it wrote for, and writes again if one did. The last writer's snapshot is then current.
        for _ in range(self.attempts):
            seq, aliases = _snapshot(events)
            self.store.replace(f"{self._model_prefix(model)}/aliases.json",
                               _json({"format": FORMAT, "seq": seq, "aliases": aliases}))
            if not self.log.next_is_there(model, events):
                return
            events = self.history(model)

    def _read_snapshot(self, model: str) -> tuple[int, dict[str, int]] | None:
        data = self.store.read(f"{self._model_prefix(model)}/aliases.json")
        try:
            parsed = json.loads(data or b"")
            return int(parsed["seq"]), {str(k): int(v) for k, v in parsed["aliases"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def _record(self, model: str, event: Event) -> dict[str, Any]:
        assert event.manifest is not None
        if event.manifest in self._records:
            return self._records[event.manifest]
        key = self._record_key(model, event.manifest)
        data = self.store.read(key)
        if data is None:
            raise RegistryError(f"{self._what(model, event.version)}: its record {key} is missing from the store; "
                                "the registry is damaged")
        try:
            record = jsonio.loads(data.decode("utf-8"), f"{self.store.location}/{key}")
        except (jsonio.JsonError, UnicodeDecodeError) as exc:
            raise RegistryError(f"unreadable version record: {exc}") from None
        if not isinstance(record, dict):
            raise RegistryError(f"{self.store.location}/{key}: unreadable version record (not an object)")
        if integrity.manifest_digest(record) == event.manifest:  # only an intact record is worth keeping
            self._records[event.manifest] = record
        return record

    def _version(self, model: str, event: Event) -> Version:
        if event.manifest is None:
            raise RegistryError(f"{self._what(model, event.version)}: its history event names no record")
        data = self._record(model, event)
        try:
            return Version(model, event.version, str(data["digest"]), str(data["verdict"]),
                           str(data["trained_model"]), str(data["created_at"]), Actor.from_json(data["created_by"]),
                           dict(data.get("metrics") or {}),
                           f"{self.store.location.rstrip('/')}/{self._record_key(model, event.manifest)}")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RegistryError(f"{self._what(model, event.version)}: unreadable version record "
                                f"({type(exc).__name__}: {exc})") from None

    @staticmethod
    def _register_event(events: list[Event], number: int) -> Event | None:
        return next((e for e in events if e.kind == "register" and e.version == number), None)

    def _what(self, model: str, number: int) -> str:
        return f"version {number} of {model!r} ({self.location})"

    def _model_prefix(self, model: str) -> str:
        return f"{PREFIX}/{model}"

    def _record_key(self, model: str, digest: str) -> str:
        return f"{self._model_prefix(model)}/versions/{digest.removeprefix('sha256:')}.json"

    def _mark(self) -> None:
        if not self._marked:
            self.store.ensure_marker()
            self._marked = True


def _file_list(record: dict[str, Any], what: str) -> dict[str, str]:
    """The record's ``{path: digest}``, refused unless every path stays inside the version's directory."""
    files = record.get("files")
    if not isinstance(files, dict):
        raise RegistryError(f"{what}: its record lists no file digests; refusing to use it")
    for rel, digest in files.items():
        parts = PurePosixPath(str(rel)).parts
        if (not parts or str(rel).startswith("/") or ".." in parts or "\\" in str(rel) or rel == VERSION_FILE
                or not isinstance(digest, str)):
            raise RegistryError(f"{what}: its record lists the file {rel!r}, which no version holds; refusing to "
                                "use it")
    return {str(k): str(v) for k, v in files.items()}


def _snapshot(events: list[Event]) -> tuple[int, dict[str, int]]:
    return len(events), current_aliases(events)


def _valid(name: str) -> bool:
    try:
        _check_name(name)
    except RegistryError:
        return False
    return True


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def referenced_objects(store: Store) -> set[str]:
    """The digest of every file of every registered version, of every model in ``store``'s registry: what
    ``mlspec gc`` must keep. (Orphans of interrupted registrations are not included: gc should also keep
    objects younger than a grace period, since a registration uploads its files before committing them.)"""
    registry = StoreRegistry(store)
    out: set[str] = set()
    for model in registry.models():
        for event in registry.history(model):
            if event.kind == "register" and event.manifest is not None:
                out.update(_file_list(registry._record(model, event), registry._what(model, event.version)).values())
    return out
