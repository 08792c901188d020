"""`mlspec gc` against each kind of store: it lists before it deletes, and keeps what any committed lock, the
workspace or the registry references, and what is younger than an hour."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlspec.errors import MlspecError
from mlspec.runtime import lockfile
from mlspec.store import Store, object_key
from mlspec.store.gc import collect, render
from mlspec.store.runcache import record_key
from mlspec.store.transfer import push
from tests.gitkit import commit_all, git, init_repo
from tests.store.synckit import loaded, project, run, store_of

LEFTOVER = "tmp/object.mlspec-4242-0123456789abcdef"


def keys(store: Store) -> set[str]:
    return set(store.list("")) | set(store.list("tmp/"))


def test_gc_keeps_what_committed_locks_and_the_registry_reference(store_env: str, tmp_path: Path,
                                                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    root = project(tmp_path_factory, tmp_path / "repo")
    init_repo(root)
    store = store_of(root)
    assert push(loaded(root), store).ok
    commit_all(root, "v1")
    one = lockfile.read(root / "mlspec.lock")
    # A run that was pushed but never committed (and a workspace that no longer has it): garbage.
    current = root / "data" / "current.csv"
    rows = current.read_text().splitlines()
    current.write_text("\n".join([rows[0], *rows[2:]]) + "\n")
    report, _ = run(root)
    assert report.ok
    two = lockfile.read(root / "mlspec.lock")
    git(root, "checkout", "--", "data/current.csv", "mlspec.lock")
    shutil.rmtree(root / ".mlspec")
    # A registry version naming an object no lock names; a killed upload's leftover; a file mlspec did not write.
    bundle = tmp_path / "bundle.bin"
    bundle.write_bytes(b"a registered bundle")
    from mlspec.runtime.hashing import file_digest

    registered = file_digest(bundle)
    store.put_file(bundle, registered)
    store.replace("registry/diabetes/versions/1.json", json.dumps({"digest": registered}).encode())
    store.replace(LEFTOVER, b"half an upload")
    store.replace("tmp/notes.txt", b"not mlspec's")

    fingerprints = {e.fingerprint for e in one.stages.values()}
    old = {d for e in one.stages.values() for d in e.outputs.values()}
    records = {record_key(s, e.fingerprint) for s, e in two.stages.items() if e.fingerprint not in fingerprints}
    objects = {object_key(d) for e in two.stages.values() for d in e.outputs.values() if d not in old}
    assert records and objects

    before = keys(store)
    history = {k for k in before if k.startswith("history/")}
    assert len(history) == 2  # the template's run and this one, mirrored by the run
    assert collect(loaded(root), store).items == []  # everything is younger than an hour
    listed = collect(loaded(root), store, min_age=0)
    assert {i.key for i in listed.records} == records
    assert {i.key for i in listed.objects} == objects
    assert [i.key for i in listed.temporaries] == [LEFTOVER]
    assert listed.locks == 1
    assert keys(store) == before  # a dry run deletes nothing
    text = render(listed, store.location, delete=False)
    assert text[-1].startswith(f"mlspec gc: would delete {len(records)} run records, {len(objects)} objects and 1 "
                               f"temporary uploads (")
    assert text[-1].endswith("`mlspec gc --delete` deletes them")

    done = collect(loaded(root), store, delete=True, min_age=0)
    assert done.deleted
    assert keys(store) == before - records - objects - {LEFTOVER}
    assert history <= keys(store)  # the run history is never a candidate
    for stage_id, entry in one.stages.items():
        assert store.read(record_key(stage_id, entry.fingerprint)) is not None
        assert all(store.has(d) for d in entry.outputs.values())
    assert store.has(registered) and store.read("registry/diabetes/versions/1.json") is not None
    assert collect(loaded(root), store, min_age=0).items == []


def test_gc_refuses_without_the_whole_history(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSPEC_STORE", str(tmp_path / "store"))
    root = project(tmp_path_factory, tmp_path / "repo")
    with pytest.raises(MlspecError, match=r"needs the git history of .* \(not a git repository\); run it in a clone"):
        collect(loaded(root), store_of(root))
    init_repo(root)
    commit_all(root, "one")
    (root / "x").write_text("x")
    commit_all(root, "two")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{root}", str(shallow))
    with pytest.raises(MlspecError, match=r"this clone is shallow; run `git fetch --unshallow`"):
        collect(loaded(shallow), store_of(shallow))
