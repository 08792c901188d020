"""The SQLite history: one transaction per part, a killed write leaves it readable, schema and damage named."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from mlspec.runs.history import History, HistoryError
from tests.runs.records import record
from tests.support import REPO

KILL = """
import os, signal, sys
sys.path.insert(0, {repo!r})
from mlspec.runs import history
from tests.runs.records import record
history._checkpoint = lambda name: os.kill(os.getpid(), signal.SIGKILL)
history.History(history.Path({db!r})).add(record("20261202T100000Z-bbbbbb"))
"""


def test_a_part_is_kept_once_and_merged_into_its_run(tmp_path: Path) -> None:
    h = History(tmp_path / "runs.db")
    one = record("gitlab-1", part="train", finished="2026-12-01T10:00:05+00:00")
    two = replace(record("gitlab-1", part="evaluate", finished="2026-12-01T10:01:05+00:00", auc=0.95),
                  stages=())
    assert h.add(one) is not None and h.add(two) is not None
    assert h.add(one) is None  # the same part again (imported back from the store): kept once
    (run,) = h.runs(["gitlab-1"])
    assert run.part == "evaluate+train" and run.metrics["forest"]["roc_auc"] == 0.95
    assert [s.id for s in run.stages] == ["train:forest"]
    assert [p.part for p in h.parts("gitlab-1")] == ["train", "evaluate"]


def test_reading_a_missing_history_finds_no_runs(tmp_path: Path) -> None:
    h = History(tmp_path / "none" / "runs.db")
    assert h.run_ids() == [] and h.pending() == [] and h.runs(["x"]) == []
    assert not (tmp_path / "none").exists()  # reading creates nothing


def test_a_run_killed_inside_its_write_leaves_the_history_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    History(db).add(record())
    done = subprocess.run([sys.executable, "-c", KILL.format(repo=str(REPO), db=str(db))], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == -9, done.stderr
    assert (tmp_path / "runs.db-journal").exists()  # a hot journal: the write was under way
    h = History(db)
    assert h.run_ids() == ["20261201T100000Z-aaaaaa"]  # rolled back: the part is whole or absent
    assert h.add(record("20261203T100000Z-cccccc", finished="2026-12-03T10:00:05+00:00")) is not None
    assert h.run_ids() == ["20261203T100000Z-cccccc", "20261201T100000Z-aaaaaa"]
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("SELECT COUNT(*) FROM metrics").fetchone() == (4,)  # no torn rows of the killed part


def test_a_newer_schema_is_refused_by_name(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    History(db).add(record())
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA user_version=99")
    with pytest.raises(HistoryError, match=r"runs\.db was written by a newer mlspec \(schema 99, this one reads 1\)"):
        History(db).run_ids()


def test_a_damaged_file_is_named_with_the_fix(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    db.write_bytes(b"this is not a database, just bytes" * 100)
    with pytest.raises(HistoryError, match=r"runs\.db: file is not a database; if the file is damaged, move it aside"):
        History(db).add(record())
