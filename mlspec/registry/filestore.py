"""The file registry: a directory that needs no server, safe for concurrent writers and for crashes.

Layout (``registry.path``, or the directory ``MLSPEC_REGISTRY`` names)::

    registry.json                 {"format": 1}: marks the directory as a registry
    .lock                         flock'ed by the one writer at a time; holds its pid
    tmp/                          versions being assembled (``<model>-<n>.mlspec-<pid>-<random>``; the next
                                  writer removes those, and nothing else)
    .mlspec-owned                 marks the directory as mlspec's (:mod:`mlspec.ownership`): a writer refuses
                                  a directory holding files that are not a registry's
    <model>/versions/<n>/         version n, immutable (files read-only), renamed into place whole:
        bundle/model.skops, bundle/metadata.json
        verdict.json, metrics.json, provenance.json, MODEL_CARD.md
        version.json              number, digest, verdict, who/when, the digest of every file above, and
                                  with MLSPEC_SIGNING_KEY set, the HMAC of it all (mlspec.registry.integrity)
    <model>/history.jsonl         append-only, one event per line (register, promote, rollback), fsync'ed;
                                  a register event records the digest of the version's manifest
    <model>/aliases.json          the aliases now, replaced atomically after every move

The history is the single source of truth for aliases: mlspec replays it, and ``aliases.json`` is a snapshot
for tools that only want to read a file. Writers hold an ``flock`` on ``.lock`` (the kernel drops it when its
holder dies, even by SIGKILL), so promotions are serialised, and each write goes in an order that a crash at
any point leaves recoverable:

* a version is assembled in ``tmp/`` and renamed into ``versions/`` (all or nothing), then its ``register``
  line is appended. A crash in between leaves a version without a line: the next writer appends it, marked
  ``recovered``.
* an alias move is one appended line, written with a single ``write`` and fsync'ed; a crash mid-write leaves
  a torn last line without its newline, which readers ignore and the next writer truncates. Only then is
  ``aliases.json`` replaced; if that is lost the next writer rewrites it from the history.

Every use of a version (promote, rollback, its files for serving) first checks its files against that
recorded manifest, and its signature when a key is set; a version that changed is refused, naming the file.

Readers take no lock: versions appear by rename and history lines count only once complete. (``flock`` is
local to a machine, and to NFS clients on Linux, which maps it onto NFS locks.)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlspec import jsonio, ownership
from mlspec.fsutil import FILE_MODE, atomic_write_text, clear_temps, lock_fd, make_temp_dir
from mlspec.registry import card, integrity
from mlspec.registry.base import (
    Actor,
    Candidate,
    Event,
    EventKind,
    RegistryError,
    Version,
    anchored_manifest,
    check_promotable,
    current_aliases,
    rollback_target,
)
from mlspec.runtime.hashing import file_digest, manifest, outputs_fingerprint

FORMAT = 1
MARKER, LOCK, TMP = "registry.json", ".lock", "tmp"
HISTORY, ALIASES, VERSIONS, VERSION_FILE = "history.jsonl", "aliases.json", "versions", "version.json"
BUNDLE = "bundle"
WAIT_SECONDS = 120.0
_MODEL_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
NAMED_BY = "registry.path in the spec, or MLSPEC_REGISTRY"


def _model_part(entry: Path) -> bool:
    """A model's directory as the previous version left it (for adopting an unmarked registry)."""
    return (bool(_MODEL_NAME.match(entry.name)) and entry.is_dir() and not entry.is_symlink()
            and all(e.name in (VERSIONS, HISTORY, ALIASES) or (e.name.startswith(f".{ALIASES}.")
                                                                and e.name.endswith(".tmp")) for e in entry.iterdir()))


LAYOUT = ownership.Layout("registry", "file registry", frozenset({MARKER, LOCK, TMP}), TMP, _model_part)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


class FileRegistry:
    def __init__(self, root: Path, wait: float = WAIT_SECONDS, key: bytes | None = None) -> None:
        self.root = root
        self.wait = wait
        self.key = key
        """The signing key (``MLSPEC_SIGNING_KEY``): versions are signed with it, and must be to be used."""

    @property
    def location(self) -> str:
        return str(self.root)

    # --- reading (no lock) ------------------------------------------------------------------------------------

    def models(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _MODEL_NAME.match(p.name)
                      and ((p / VERSIONS).is_dir() or (p / HISTORY).is_file()))

    def versions(self, model: str) -> list[Version]:
        return [self._read_version(model, n) for n in self._numbers(model)]

    def get(self, model: str, number: int) -> Version:
        if number not in self._numbers(model):
            known = self._numbers(model)
            have = f"versions 1-{max(known)}" if known else "no versions yet"
            raise RegistryError(f"{model!r} has no version {number} in the registry {self.location} ({have})")
        return self._read_version(model, number)

    def aliases(self, model: str) -> dict[str, int]:
        return current_aliases(self.history(model))

    def history(self, model: str) -> list[Event]:
        data = self._history_bytes(model)
        end = data.rfind(b"\n") + 1  # a last line without its newline is a write cut short: not committed
        events: list[Event] = []
        for number, line in enumerate(data[:end].splitlines(), start=1):
            where = f"{self._model_dir(model) / HISTORY}:{number}"
            try:
                events.append(Event.from_json(jsonio.loads(line, where)))
            except jsonio.JsonError as exc:  # a line is one JSON line: its column is the column in the file
                raise RegistryError(f"{str(exc).replace(f'{where}:1:', f'{where}:', 1)}; the history is damaged"
                                    ) from None
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise RegistryError(f"{self._model_dir(model) / HISTORY}:{number}: not a registry event "
                                    f"({type(exc).__name__}: {exc}); the history is damaged") from None
        return events

    def files(self, model: str, number: int, scratch: Path) -> Path:
        self.get(model, number)
        self.check_intact(model, number)
        return self._version_dir(model, number)

    def check_intact(self, model: str, number: int, events: list[Event] | None = None) -> None:
        """Refuse version ``number`` unless its files are the ones registered (and signed, with a key)."""
        folder = self._version_dir(model, number)
        record = self._record(model, number)
        files = manifest(folder, file_digest) or {}
        files.pop(VERSION_FILE, None)
        anchored = anchored_manifest(self.history(model) if events is None else events, number)
        integrity.check(f"version {number} of {model!r} ({folder})", VERSION_FILE, record, files, anchored,
                        self.key)

    def verify(self, model: str) -> list[str]:
        """Every inconsistency of ``model``'s part of the registry (empty when all is well)."""
        problems: list[str] = []
        try:
            events = self.history(model)
        except RegistryError as exc:
            return [str(exc)]
        seqs = [e.seq for e in events]
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"history sequence numbers are not 1..{len(seqs)}: {seqs}")
        numbers = self._numbers(model)
        registered = [e.version for e in events if e.kind == "register"]
        if sorted(registered) != numbers:
            problems.append(f"versions on disk {numbers} differ from registered versions {sorted(registered)}")
        for number in numbers:
            try:
                self.check_intact(model, number, events)
            except RegistryError as exc:
                problems.append(str(exc))
        for event in events:
            if event.kind != "register" and event.version not in numbers:
                problems.append(f"event {event.seq} moves {event.alias!r} to missing version {event.version}")
        snapshot = self._read_snapshot(model)
        if snapshot is not None and snapshot != (len(events), current_aliases(events)):
            problems.append(f"{ALIASES} disagrees with the history")
        if (self._model_dir(model) / HISTORY).is_file() and not self._history_bytes(model).endswith(b"\n"):
            problems.append("the history ends with a torn line")
        return problems

    # --- writing (one writer at a time) -----------------------------------------------------------------------

    def register(self, model: str, candidate: Candidate, actor: Actor) -> tuple[Version, bool]:
        _check_name(model)
        with self._locked():
            self._recover(model)
            for version in self.versions(model):
                if version.digest == candidate.digest:
                    return version, False
            events = self.history(model)
            number = max([*self._numbers(model), *(e.version for e in events), 0]) + 1
            staged = self._stage(model, number, candidate, actor)
            final = self._version_dir(model, number)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staged, final)
            _fsync_dir(final.parent)
            version = self._read_version(model, number)
            event = Event(len(events) + 1, "register", model, number, version.created_at, actor,
                          manifest=integrity.manifest_digest(self._record(model, number)))
            self._append(model, event)
            self._write_snapshot(model, [*events, event])  # the snapshot names the history line it reflects
            return version, True

    def promote(self, model: str, alias: str, number: int, actor: Actor, note: str | None = None) -> Event | None:
        _check_name(model)
        with self._locked():
            self._recover(model)
            version = self.get(model, number)
            events = self.history(model)
            self.check_intact(model, number, events)  # before its verdict is believed
            check_promotable(version, alias)
            previous = current_aliases(events).get(alias)
            if previous == number:
                return None
            return self._move(model, "promote", alias, number, previous, actor, note, events)

    def rollback(self, model: str, alias: str, actor: Actor, to: int | None = None,
                 note: str | None = None) -> Event:
        _check_name(model)
        with self._locked():
            self._recover(model)
            events = self.history(model)
            current, target = rollback_target(events, model, alias, to)
            version = self.get(model, target)
            self.check_intact(model, target, events)
            check_promotable(version, alias)
            return self._move(model, "rollback", alias, target, current, actor, note, events)

    def repair(self, model: str) -> None:
        """Finish what a crashed writer left (see the module docstring); every write does this first."""
        _check_name(model)
        with self._locked():
            self._recover(model)

    def _move(self, model: str, kind: EventKind, alias: str, number: int, previous: int | None, actor: Actor,
              note: str | None, events: list[Event]) -> Event:
        event = Event(len(events) + 1, kind, model, number, now(), actor, alias, previous, note)
        self._append(model, event)
        self._write_snapshot(model, [*events, event])
        return event

    # --- internals --------------------------------------------------------------------------------------------

    def _model_dir(self, model: str) -> Path:
        return self.root / model

    def _version_dir(self, model: str, number: int) -> Path:
        return self._model_dir(model) / VERSIONS / str(number)

    def _numbers(self, model: str) -> list[int]:
        folder = self._model_dir(model) / VERSIONS
        if not folder.is_dir():
            return []
        return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit() and p.is_dir())

    def _history_bytes(self, model: str) -> bytes:
        try:
            return (self._model_dir(model) / HISTORY).read_bytes()
        except FileNotFoundError:
            return b""

    def _record(self, model: str, number: int) -> dict[str, Any]:
        try:
            return jsonio.read_object(self._version_dir(model, number) / VERSION_FILE)
        except (OSError, jsonio.JsonError) as exc:
            raise RegistryError(f"unreadable version record: {exc}") from None

    def _read_version(self, model: str, number: int) -> Version:
        path = self._version_dir(model, number) / VERSION_FILE
        data = self._record(model, number)
        try:
            return Version(model, int(data["version"]), str(data["digest"]), str(data["verdict"]),
                           str(data["trained_model"]), str(data["created_at"]), Actor.from_json(data["created_by"]),
                           dict(data.get("metrics") or {}), str(path.parent))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RegistryError(f"{path}: unreadable version record ({type(exc).__name__}: {exc})") from None

    def _stage(self, model: str, number: int, candidate: Candidate, actor: Actor) -> Path:
        staged = make_temp_dir(self.root / TMP, f"{model}-{number}")
        try:
            write_version_files(staged, candidate, number)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        record = {
            "format": FORMAT, "model": model, "version": number, "digest": candidate.digest,
            "verdict": candidate.verdict_word, "trained_model": candidate.trained_model, "created_at": now(),
            "created_by": actor.as_json(), "metrics": dict(candidate.metrics),
            "files": manifest(staged, file_digest) or {},
        }
        record |= {"signature": integrity.sign(self.key, integrity.manifest_digest(record))} if self.key else {}
        _write_file(staged / VERSION_FILE, _json(record).encode("utf-8"))
        for path in staged.rglob("*"):
            if path.is_file():
                # Immutable by convention and by permission; readable by whom the umask let read it.
                path.chmod(path.stat().st_mode & 0o444)
        return staged

    def _append(self, model: str, event: Event) -> None:
        path = self._model_dir(model) / HISTORY
        path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(event.as_json(), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        try:
            written = 0
            while written < len(line):  # a short write is continued, so the line is never left half done
                written += os.write(fd, line[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(path.parent)

    def _read_snapshot(self, model: str) -> tuple[int, dict[str, int]] | None:
        try:
            data = jsonio.read_object(self._model_dir(model) / ALIASES)
            return int(data["seq"]), {str(k): int(v) for k, v in data["aliases"].items()}
        except (OSError, jsonio.JsonError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def _write_snapshot(self, model: str, events: list[Event]) -> None:
        data = {"format": FORMAT, "seq": len(events), "aliases": current_aliases(events)}
        atomic_write_text(self._model_dir(model) / ALIASES, _json(data))

    def _recover(self, model: str) -> None:
        """Under the lock: drop a torn history line, record unrecorded versions, refresh the snapshot."""
        clear_temps(self.root / TMP)  # only mlspec's temporary names: the registry is marked as its own
        path = self._model_dir(model) / HISTORY
        data = self._history_bytes(model)
        if data and not data.endswith(b"\n"):
            with open(path, "r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)
                fh.flush()
                os.fsync(fh.fileno())
        events = self.history(model)
        recorded = {e.version for e in events if e.kind == "register"}
        for number in self._numbers(model):
            if number not in recorded:
                version = self._read_version(model, number)
                event = Event(len(events) + 1, "register", model, number, version.created_at, version.created_by,
                              recovered=True, manifest=integrity.manifest_digest(self._record(model, number)))
                self._append(model, event)
                events.append(event)
        if events and self._read_snapshot(model) != (len(events), current_aliases(events)):
            self._write_snapshot(model, events)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            ownership.claim(self.root, LAYOUT, NAMED_BY, "point registry.path or MLSPEC_REGISTRY at a new or empty "
                            "directory")
            fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as exc:
            raise RegistryError(f"cannot write to the registry {self.location}: {exc.strerror}; make it a writable "
                                "directory, or set MLSPEC_REGISTRY to one") from None
        try:
            lock_fd(fd, self.wait, lambda pid: RegistryError(
                f"the registry {self.location} is still locked by another writer"
                f"{f' (pid {pid})' if pid else ''} after {self.wait:g} s"))
            if not (self.root / MARKER).exists():
                atomic_write_text(self.root / MARKER, _json({"format": FORMAT}))
            yield
        finally:
            os.close(fd)


def write_version_files(folder: Path, candidate: Candidate, number: int | None) -> None:
    """A version's files (but ``version.json``) in ``folder``, each fsync'ed; the bundle checked by digest."""
    bundle_files = manifest(candidate.bundle_dir, file_digest) or {}
    if not bundle_files:
        raise RegistryError(f"no model bundle in {candidate.bundle_dir}")
    for rel in bundle_files:
        _write_file(folder / BUNDLE / rel, (candidate.bundle_dir / rel).read_bytes())
    copied = outputs_fingerprint(manifest(folder / BUNDLE, file_digest) or {})
    if copied != candidate.digest:
        raise RegistryError(f"the bundle in {candidate.bundle_dir} is not the one the gate judged (digest {copied}, "
                            f"expected {candidate.digest}); run `mlspec gate` again")
    texts = {"verdict.json": _json(candidate.verdict), "metrics.json": _json(candidate.metrics),
             "provenance.json": _json(candidate.provenance), card.FILE: card.render(candidate.provenance, number)}
    for name, text in texts.items():
        _write_file(folder / name, text.encode("utf-8"))


def _check_name(model: str) -> None:
    # The name becomes a directory: nothing that could climb out of the registry or collide by case.
    if not _MODEL_NAME.match(model):
        raise RegistryError(f"invalid model name {model!r}: use 1-40 lowercase letters, digits, '_' or '-', "
                            "starting with a letter")


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (POSIX: the directory entry is data of the directory)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
