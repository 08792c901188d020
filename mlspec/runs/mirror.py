"""The run history in the shared store: each part at ``history/<run_id>/<part>.json``, so CI runs reach a laptop.

A part is written once (:meth:`mlspec.store.Store.create`) and never replaced. Two parts that would share a
key (a retried GitLab job, GitHub matrix legs, which share their job's name) take the next free one,
``<part>~2.json`` and so on; a key that already holds exactly this part is this part, mirrored before. Keys
are made of the run id and the part's name with every character but ``[A-Za-z0-9_.-]`` spelled ``_``.

Reading (:func:`import_parts`) lists ``history/`` once and reads only the keys the local history does not
know. `mlspec gc` never deletes under ``history/``: a record is small, and the history is what it is for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlspec.jsonio import JsonError, loads
from mlspec.runs.history import History, canonical
from mlspec.runs.record import RunRecord
from mlspec.store import Store, StoreError

PREFIX = "history/"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_MOST_TRIES = 100


def key_of(record: RunRecord, n: int = 1) -> str:
    name = _UNSAFE.sub("_", record.part) or "_"
    return f"{PREFIX}{_UNSAFE.sub('_', record.run_id)}/{name}{'' if n == 1 else f'~{n}'}.json"


def put(store: Store, record: RunRecord) -> str:
    """Write ``record`` to the store under a key of its own; the key."""
    data = canonical(record) + b"\n"
    for n in range(1, _MOST_TRIES + 1):
        key = key_of(record, n)
        if store.create(key, data) or store.read(key) == data:
            return key
    raise StoreError(f"store {store.location}: {_MOST_TRIES} parts named {record.part!r} in run {record.run_id}")


@dataclass(frozen=True)
class Mirrored:
    sent: int
    problem: str | None = None
    """Why the rest was not sent (the store did not answer); they stay pending."""


def send_pending(history: History, store: Store) -> Mirrored:
    """Mirror every part the local history has not mirrored yet (this run's, and any a failed mirror left)."""
    sent = 0
    for stored in history.pending():
        try:
            key = put(store, stored.record)
        except StoreError as exc:
            return Mirrored(sent, str(exc))
        history.mirrored(stored.id, key)
        sent += 1
    return Mirrored(sent)


@dataclass(frozen=True)
class Imported:
    added: int
    skipped: tuple[str, ...] = ()
    """Keys that do not hold a record this mlspec reads, with why."""


def import_parts(history: History, store: Store) -> Imported:
    """Bring the store's parts the local history lacks into it (one listing, then one read per new key)."""
    known = history.store_keys()
    new: list[tuple[RunRecord, str]] = []
    skipped: list[str] = []
    for key in store.list(PREFIX):
        if key in known or not key.endswith(".json"):
            continue
        raw = store.read(key)
        if raw is None:
            continue
        try:
            data = loads(raw, what=f"{store.location}/{key}")
            if not isinstance(data, dict):
                raise JsonError("not a JSON object")
            record = RunRecord.from_json(data)
        except (JsonError, TypeError, ValueError) as exc:
            skipped.append(f"{key}: {exc}")
            continue
        new.append((record, key))
    return Imported(history.add_many(new), tuple(skipped))
