"""`push` and `pull` against each kind of store: exactly what the stages need, verified, never partial, and at an
old commit the bytes that commit recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlspec.runtime import lockfile
from mlspec.store import object_key
from mlspec.store.runcache import record_key
from mlspec.store.transfer import pull, push
from tests.gitkit import commit_all, git, init_repo
from tests.store.synckit import loaded, outputs, project, run, store_of, tree


def test_pull_fetches_what_the_stage_needs_and_no_more(store_env: str, tmp_path: Path,
                                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    first = project(tmp_path_factory, tmp_path / "laptop")
    store = store_of(first)
    assert push(loaded(first), store).ok
    second = project(tmp_path_factory, tmp_path / "runner", workspace=False)
    moved = pull(loaded(second), store, ["train:ridge"])
    assert moved.ok
    assert [line.rsplit(":", 1)[0] for line in moved.lines] == [
        "pulled data:train", "pulled validate:train_ranges", "pulled train:ridge"]
    stages = sorted({"/".join(k.split("/")[:2]) for k in outputs(second)})
    assert stages == ["data/train", "train/ridge", "validate/train_ranges"]
    mine = outputs(first)
    assert outputs(second) == {k: v for k, v in mine.items() if k.split("/")[0] + "/" + k.split("/")[1] in stages}
    assert moved.files == 7 and moved.bytes == sum((second / ".mlspec/stages" / k).stat().st_size
                                                   for k in outputs(second))
    again = pull(loaded(second), store, ["train:ridge"])  # intact: nothing moves
    assert again.ok and again.stages == 0 and again.current == 3 and again.files == 0
    everything = pull(loaded(second), store)
    assert everything.ok and everything.stages == 5 and everything.current == 3
    assert outputs(second) == mine
    report, lines = run(second)  # the records pulled beside the outputs make them up to date
    assert "mlspec run: 0 ran, 8 up to date" in lines and report.ok


def test_pull_names_what_the_store_lacks_and_leaves_no_partial_stage(store_env: str, tmp_path: Path,
                                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    first = project(tmp_path_factory, tmp_path / "laptop")
    store = store_of(first)
    assert push(loaded(first), store, ["data:train", "data:holdout"]).ok
    snapshot = lockfile.read(first / "mlspec.lock").stages["data:holdout"].outputs["snapshot.parquet"]
    store.delete(object_key(snapshot))
    second = project(tmp_path_factory, tmp_path / "runner", workspace=False)
    moved = pull(loaded(second), store, ["data:train", "data:holdout"])
    assert not moved.ok and moved.stages == 1
    assert moved.missing == [f"data:holdout: the store {store.location} lacks snapshot.parquet; push it from where it "
                             "ran (`mlspec push data:holdout`), or run it here (`mlspec run data:holdout`)"]
    assert not (second / ".mlspec/stages/data/holdout").exists()  # not half a stage
    assert not (second / ".mlspec/records/data/holdout.json").exists()
    assert not list((second / ".mlspec").glob("tmp/*"))
    # A stage with neither a run in the store nor an entry in mlspec.lock:
    moved = pull(loaded(second), store, ["data:current"])
    assert moved.missing == ["data:current: the store has no run of it for this checkout and mlspec.lock has no "
                             "entry; run `mlspec run data:current` (and `mlspec push` where it ran)"]


def test_pull_at_an_old_commit_brings_back_its_data(store_env: str, tmp_path: Path,
                                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    root = project(tmp_path_factory, tmp_path / "repo")
    init_repo(root)
    store = store_of(root)
    assert push(loaded(root), store).ok
    one = commit_all(root, "data v1")
    v1 = outputs(root)
    current = root / "data" / "current.csv"
    rows = current.read_text().splitlines()
    current.write_text("\n".join([rows[0], *rows[2:]]) + "\n")  # data v2: one row fewer
    report, _ = run(root)
    ran = [o.stage_id for o in report.outcomes if o.status == "ran"]
    assert "data:current" in ran and not [s for s in ran if s.startswith("train")]  # and what ran was pushed
    commit_all(root, "data v2")
    v2 = outputs(root)
    assert v2["data/current/snapshot.parquet"] != v1["data/current/snapshot.parquet"]

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(root), str(clone))
    git(clone, "checkout", "-q", one)
    moved = pull(loaded(clone), store)
    assert moved.ok and moved.stages == 8
    assert outputs(clone) == v1

    # Without the run records (the run cache was collected), mlspec.lock at that commit still says what to pull.
    for stage_id, entry in lockfile.read(clone / "mlspec.lock").stages.items():
        store.delete(record_key(stage_id, entry.fingerprint))
    shutil.rmtree(clone / ".mlspec")
    moved = pull(loaded(clone), store, ["data:current"])
    assert moved.ok and moved.stages == 1
    assert outputs(clone) == {k: v for k, v in v1.items() if k.startswith("data/current/")}


def test_push_refuses_outputs_nothing_describes(store_env: str, tmp_path: Path,
                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    root = project(tmp_path_factory, tmp_path)
    (root / ".mlspec/stages/gate/verdict.json").write_text('{"verdict": "pass"}\n')  # edited by hand
    store = store_of(root)
    before = tree(root / ".mlspec" / "stages")
    moved = push(loaded(root), store, ["gate", "evaluate"])
    assert moved.missing == ["gate: its outputs in the workspace are not the ones its record or mlspec.lock "
                             "describes; run `mlspec run gate` first"]
    assert moved.stages == 1  # evaluate went
    gate = lockfile.read(root / "mlspec.lock").stages["gate"]
    assert store.read(record_key("gate", gate.fingerprint)) is None
    assert tree(root / ".mlspec" / "stages") == before
