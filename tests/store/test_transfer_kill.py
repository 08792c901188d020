"""SIGKILL during `mlspec push` of a large output, against each kind of store: no partial object is ever visible,
no record names a missing object, and the next push completes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlspec.runtime import lockfile
from mlspec.runtime.hashing import file_digest
from mlspec.store import Store, digest_of_key
from mlspec.store.runcache import record_key
from tests.store.synckit import outputs, project, store_of
from tests.support import run_mlspec

BIG = 160 << 20


def _every_object_verifies(store: Store, tmp_path: Path) -> list[str]:
    found = [d for d in (digest_of_key(k) for k in store.list("objects/")) if d is not None]
    for digest in found:
        store.get_file(digest, tmp_path / "verify" / "blob")  # raises on bytes that are not their name
    return found


def test_a_push_killed_half_way_leaves_the_store_consistent(store_env: str, tmp_path: Path,
                                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    root = project(tmp_path_factory, tmp_path / "laptop")
    stage = root / ".mlspec" / "stages" / "data" / "current"
    big = stage / "big.bin"
    with big.open("wb") as fh:
        for _ in range(BIG >> 20):
            fh.write(os.urandom(1 << 20))
    # A stage with a large output: its record and lock entry say so (as if the data stage had written it).
    entry = lockfile.read(root / "mlspec.lock").stages["data:current"]
    entry = lockfile.Entry(entry.fingerprint, entry.spec, entry.versions, entry.inputs, entry.upstream,
                           {**entry.outputs, "big.bin": file_digest(big)}, entry.metrics)
    lockfile.write(root / "mlspec.lock", lockfile.read(root / "mlspec.lock").with_entry("data:current", entry))
    (root / ".mlspec" / "records" / "data" / "current.json").write_text(lockfile.entry_to_json(entry))
    store = store_of(root)
    local = store.settings.url.prefix if store.settings.url.kind == "file" else None

    child = subprocess.Popen([sys.executable, "-m", "mlspec", "push", "data:current"], cwd=root,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while child.poll() is None and time.monotonic() < deadline:
        if _uploading(child.pid, local):
            os.killpg(child.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the push ended before it could be killed half way"

    assert store.read(record_key("data:current", entry.fingerprint)) is None  # the record goes last
    assert file_digest(big) not in _every_object_verifies(store, tmp_path)  # no partial object visible

    done = run_mlspec("push", "data:current", cwd=root)
    assert done.returncode == 0, done.stderr
    assert store.read(record_key("data:current", entry.fingerprint)) is not None
    assert file_digest(big) in _every_object_verifies(store, tmp_path)
    fresh = project(tmp_path_factory, tmp_path / "runner", workspace=False)
    shutil.copy(root / "mlspec.lock", fresh / "mlspec.lock")
    done = run_mlspec("pull", "data:current", cwd=fresh)
    assert done.returncode == 0, done.stderr
    assert outputs(fresh) == {k: v for k, v in outputs(root).items() if k.startswith("data/current/")}


def _uploading(pid: int, local: str | None) -> bool:
    """Whether the push is sending the large file: it has read it once (to verify it) and goes on reading, or
    (a directory store) its temporary copy has appeared."""
    if local is not None and any(Path(local, "tmp").glob("object.mlspec-*")):
        return True
    try:
        io = Path(f"/proc/{pid}/io").read_text()
    except OSError:
        return False
    read = int(next(line.split()[1] for line in io.splitlines() if line.startswith("rchar:")))
    return read > BIG * 1.3  # the imports read some megabytes too
