"""The local run history: an SQLite file in the workspace (``runs.db``) holding every part ever recorded.

Tables (schema version in ``PRAGMA user_version``; a newer file than this mlspec knows is refused by name)::

    parts    one row per part: the record's JSON as written, plus the columns filters read (run_id, part,
             started, finished, branch, champion, verdict), its digest (a part is kept once, whoever
             brings it: this machine's run or the store), and the store key it is mirrored at (NULL: not yet)
    models   part → each model it trained or evaluated        (index: model)
    metrics  part → model, metric, value                      (index: metric, value)

Journal: the default rollback journal (``journal_mode=DELETE``) with ``synchronous=FULL``, deliberately not
WAL. A workspace is a directory that CI caches and artifacts copy file by file and that may live on a network
filesystem: with WAL, committed transactions live in ``runs.db-wal`` until a checkpoint, so a copy of
``runs.db`` alone can lose them, and WAL's shared memory does not work over NFS. A rollback journal keeps
the database in one file at rest. Each part is written in one transaction; a process killed in the middle
leaves a hot ``runs.db-journal`` that the next opener rolls back, so a reader sees the part whole or not at
all. Writes are rare (one per run), so WAL's concurrency buys nothing here; ``busy_timeout`` lets a reader
and a writer wait for each other.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlspec.errors import MlspecError
from mlspec.runs.record import RunRecord, merge
from mlspec.runtime.workspace import Workspace, display_path

FILE = "runs.db"
SCHEMA = 1
BUSY_MS = 10_000

_TABLES = """
CREATE TABLE parts (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    part TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    branch TEXT,
    champion TEXT,
    verdict TEXT,
    digest TEXT NOT NULL UNIQUE,
    store_key TEXT UNIQUE,
    record TEXT NOT NULL
);
CREATE INDEX parts_run ON parts (run_id);
CREATE INDEX parts_finished ON parts (finished);
CREATE INDEX parts_branch ON parts (branch);
CREATE TABLE models (part_id INTEGER NOT NULL REFERENCES parts (id), model TEXT NOT NULL);
CREATE INDEX models_model ON models (model, part_id);
CREATE TABLE metrics (
    part_id INTEGER NOT NULL REFERENCES parts (id), model TEXT NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL
);
CREATE INDEX metrics_metric ON metrics (metric, value, model);
"""


class HistoryError(MlspecError):
    """The history file cannot be read or written; the message names it and what to do."""


def digest(record: RunRecord) -> str:
    """The part's identity: the same record written twice (here, then imported back) is kept once."""
    return "sha256:" + hashlib.sha256(canonical(record)).hexdigest()


def canonical(record: RunRecord) -> bytes:
    return json.dumps(record.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Stored:
    """A part as the history holds it."""

    id: int
    record: RunRecord
    store_key: str | None


class History:
    """The history file of one workspace; every method opens, works and closes (a run touches it once)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def of(cls, workspace: Workspace) -> History:
        return cls(workspace.root / FILE)

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    @contextmanager
    def _connect(self, write: bool) -> Iterator[sqlite3.Connection]:
        if not write and not self.exists:
            raise _Empty
        try:
            if write:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None)) as db:
                db.execute("PRAGMA journal_mode=DELETE")
                db.execute("PRAGMA synchronous=FULL")
                self._check_schema(db, write)
                yield db
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"run history {display_path(self.path)}: {exc}; if the file is damaged, move it "
                               "aside and run again (a new history starts; the store keeps mirrored parts, "
                               "which `mlspec runs sync` brings back)") from None

    def _check_schema(self, db: sqlite3.Connection, write: bool) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and write:
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("PRAGMA user_version").fetchone()[0] == 0:
                    for statement in _TABLES.split(";"):  # not executescript: it would commit first
                        if statement.strip():
                            db.execute(statement)
                    db.execute(f"PRAGMA user_version={SCHEMA}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        elif version == 0:
            raise _Empty
        elif version > SCHEMA:
            raise HistoryError(f"run history {display_path(self.path)} was written by a newer mlspec (schema "
                               f"{version}, this one reads {SCHEMA}); upgrade mlspec")

    # --- writing --------------------------------------------------------------------------------------------

    def add(self, record: RunRecord, store_key: str | None = None) -> int | None:
        """Keep ``record``, in one transaction; its row id, or None when the history has it already."""
        with self._connect(write=True) as db, _transaction(db):
            return self._insert(db, record, store_key)

    def add_many(self, records: Sequence[tuple[RunRecord, str]]) -> int:
        """Keep parts imported from the store (with their keys), all in one transaction; how many were new."""
        if not records:
            return 0
        with self._connect(write=True) as db, _transaction(db):
            return sum(self._insert(db, r, key) is not None for r, key in records)

    def _insert(self, db: sqlite3.Connection, record: RunRecord, store_key: str | None) -> int | None:
        found = db.execute("SELECT id, store_key FROM parts WHERE digest = ?", (digest(record),)).fetchone()
        if found is not None:
            if store_key and found[1] is None:
                db.execute("UPDATE parts SET store_key = ? WHERE id = ?", (store_key, found[0]))
            return None
        cursor = db.execute(
            "INSERT INTO parts (run_id, part, started, finished, branch, champion, verdict, digest, store_key,"
            " record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.run_id, record.part, record.started, record.finished, record.branch, record.champion,
             record.verdict, digest(record), store_key, canonical(record).decode()))
        row = cursor.lastrowid
        assert row is not None
        models = sorted(set(record.params) | set(record.metrics))
        db.executemany("INSERT INTO models VALUES (?, ?)", [(row, m) for m in models])
        db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?)",
                       [(row, model, metric, value) for model, values in sorted(record.metrics.items())
                        for metric, value in sorted(values.items())])
        _checkpoint("inserted")
        return row

    def mirrored(self, row: int, store_key: str) -> None:
        with self._connect(write=True) as db:
            db.execute("UPDATE parts SET store_key = ? WHERE id = ?", (store_key, row))

    # --- reading --------------------------------------------------------------------------------------------

    def pending(self) -> list[Stored]:
        """Parts not mirrored to the store yet, oldest first."""
        return self._stored("WHERE store_key IS NULL ORDER BY finished, id")

    def store_keys(self) -> set[str]:
        try:
            with self._connect(write=False) as db:
                return {k for (k,) in db.execute("SELECT store_key FROM parts WHERE store_key IS NOT NULL")}
        except _Empty:
            return set()

    def _stored(self, where: str, args: Sequence[object] = ()) -> list[Stored]:
        try:
            with self._connect(write=False) as db:
                rows = db.execute(f"SELECT id, record, store_key FROM parts {where}", args).fetchall()
        except _Empty:
            return []
        return [Stored(i, RunRecord.from_json(json.loads(text)), key) for i, text, key in rows]

    def run_ids(self, where: str = "", args: Sequence[object] = ()) -> list[str]:
        """Run ids, newest first (by the last part's finish); ``where`` filters parts (SQL over ``p``).

        Finish times have whole seconds: runs that finished in the same second are in the order their parts
        were kept (the row id), not by their ids' random suffixes."""
        sql = (f"SELECT p.run_id FROM parts p {('WHERE ' + where) if where else ''} GROUP BY p.run_id "
               "ORDER BY MAX(p.finished) DESC, MAX(p.id) DESC")
        try:
            with self._connect(write=False) as db:
                return [r for (r,) in db.execute(sql, args)]
        except _Empty:
            return []

    def runs(self, run_ids: Sequence[str]) -> list[RunRecord]:
        """The runs ``run_ids`` names, each merged from its parts, in the order given."""
        if not run_ids:
            return []
        marks = ",".join("?" * len(run_ids))
        parts: dict[str, list[RunRecord]] = {}
        for stored in self._stored(f"WHERE run_id IN ({marks})", run_ids):
            parts.setdefault(stored.record.run_id, []).append(stored.record)
        return [merge(parts[r]) for r in run_ids if r in parts]

    def parts(self, run_id: str) -> list[RunRecord]:
        return [s.record for s in self._stored("WHERE run_id = ? ORDER BY finished, id", (run_id,))]


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE: take the write lock first, so two writers queue (busy_timeout) instead of deadlocking.
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class _Empty(Exception):
    """No history yet: reading finds no runs."""


def _checkpoint(name: str) -> None:
    """A point inside a write transaction; tests replace it to kill the process there."""
