"""Fault tests of transfers: a writer SIGKILLed in the middle of a large upload leaves no partial object at its
key (readers see nothing, then the whole object once someone pushes it), and only mlspec's temporary names in
tmp/, which the next writer or ``clear_tmp`` removes; against a directory, moto's S3, Azurite and sshd."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlspec.fsutil import is_own_temp
from mlspec.runtime.hashing import file_digest
from mlspec.store import Store, object_key
from mlspec.store.base import StoreConfig
from mlspec.store.url import parse
from tests.support import REPO

# The child uploads with progress on; once 30% is reported it stalls inside the transfer (the callback runs in
# the filesystem's own event loop or copy loop), so the SIGKILL lands mid-upload on every kind of store.
CHILD = """
import os, sys, time
from pathlib import Path
from mlspec.store import Store, progress
from mlspec.store.base import StoreConfig
from mlspec.store.url import parse

shown = progress.Tenths.call
def stall(self, *args, **kwargs):
    shown(self, *args, **kwargs)
    if self.size and self.value >= 0.3 * self.size:
        print("STALLED", flush=True)
        time.sleep(300)
progress.Tenths.call = stall
store = Store(StoreConfig(parse(os.environ["MLSPEC_STORE"]), os.environ.get("MLSPEC_STORE_ENDPOINT_URL")))
store.put_file(Path(sys.argv[1]), sys.argv[2])
print("DONE", flush=True)
"""
SIZE_MIB = 120  # above the progress threshold, and three S3 multipart parts


def store_of(url: str) -> Store:
    return Store(StoreConfig(parse(url), os.environ.get("MLSPEC_STORE_ENDPOINT_URL")))


def kill_mid_upload(path: Path, digest: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), digest], cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == "STALLED\n", child.stderr.read() if child.stderr else line
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert child.returncode == -signal.SIGKILL


def big_file(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "model.bin"
    block = os.urandom(2**20)
    with open(path, "wb") as out:
        for n in range(SIZE_MIB):
            out.write(block[n:] + block[:n])
    return path, file_digest(path)


def test_a_killed_upload_leaves_nothing_visible(store_env: str, tmp_path: Path) -> None:
    path, digest = big_file(tmp_path)
    kill_mid_upload(path, digest)
    store = store_of(store_env)
    key = object_key(digest)
    assert not store.has(digest)
    assert store.read(key) is None
    assert store.list("objects/") == []
    backend = store.backend
    if backend.renames:  # what the killed writer left: one file under mlspec's temporary name, in tmp/ only
        left = backend.fs.ls(backend.path("tmp"), detail=False)
        assert len(left) == 1 and is_own_temp(str(left[0]).rsplit("/", 1)[-1])
    assert store.put_file(path, digest, progress=False) is True  # the next push completes it
    store.get_file(digest, tmp_path / "back.bin", progress=False)
    assert file_digest(tmp_path / "back.bin") == digest
    if backend.kind == "s3":  # the killed multipart upload is invisible but billed until aborted
        assert store.clear_tmp(0) == 1
        assert store.clear_tmp(0) == 0


@pytest.mark.parametrize("store_env", ["file", "sftp"], indirect=True)  # the stores with a tmp/
def test_leftovers_go_with_the_next_writer_and_only_ours(store_env: str, tmp_path: Path) -> None:
    store = store_of(store_env)
    local = Path(store.backend.path("tmp"))  # both stores live on this machine's disk
    local.mkdir(parents=True)
    stale, fresh, foreign = local / "object.mlspec-42-0123456789abcdef", local / "object.mlspec-43-0123456789abcdef", \
        local / "notes.txt"
    for path in (stale, fresh, foreign):
        path.write_bytes(b"partial")
    two_days_ago = time.time() - 2 * 86400
    os.utime(stale, (two_days_ago, two_days_ago))
    os.utime(foreign, (two_days_ago, two_days_ago))
    src = tmp_path / "f.txt"
    src.write_text("x")
    store.put_file(src, file_digest(src))
    assert sorted(p.name for p in local.iterdir()) == sorted([fresh.name, foreign.name])  # a live writer's stays
    assert store.clear_tmp(0) == 1  # what gc may ask for: every leftover of ours, never anyone else's file
    assert [p.name for p in local.iterdir()] == ["notes.txt"]


def test_clear_tmp_on_an_empty_store_is_nothing(store_env: str) -> None:
    assert store_of(store_env).clear_tmp(0) == 0
