"""The workspace: where it is, how outputs are swapped in, and the run lock between processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlspec.errors import MlspecError
from mlspec.runtime.workspace import Workspace, WorkspaceBusy

HOLDER = textwrap.dedent("""\
    import sys
    from pathlib import Path
    from mlspec.runtime.workspace import Workspace
    with Workspace(Path(sys.argv[1])).run_lock():
        print("locked", flush=True)
        sys.stdin.read()  # hold the lock until the test closes our stdin
""")


@pytest.fixture
def holder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the run lock of ``tmp_path/.mlspec``; the test runs in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / ".mlspec")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
    yield proc
    if proc.stdin is not None:
        proc.stdin.close()
    proc.wait(timeout=10)


def test_default_is_beside_the_spec_and_env_overrides(tmp_path: Path) -> None:
    spec = tmp_path / "proj" / "mlspec.yaml"
    assert Workspace.for_spec(spec, {}).root == tmp_path / "proj" / ".mlspec"
    assert Workspace.for_spec(spec, {"MLSPEC_CACHE_DIR": ""}).root == tmp_path / "proj" / ".mlspec"
    assert Workspace.for_spec(spec, {"MLSPEC_CACHE_DIR": "ci-cache"}).root == Path("ci-cache")


def test_stage_dirs() -> None:
    ws = Workspace(Path("ws"))
    assert ws.stage_dir("train:forest") == Path("ws/stages/train/forest")
    assert ws.stage_dir("evaluate") == Path("ws/stages/evaluate")


def test_swap_in_replaces_outputs_whole(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    first = ws.new_tmp("train:m")
    (first / "old-only.txt").write_text("old")
    ws.swap_in(first, "train:m")
    second = ws.new_tmp("train:m")
    (second / "model.txt").write_text("new")
    final = ws.swap_in(second, "train:m")
    assert sorted(p.name for p in final.iterdir()) == ["model.txt"]
    assert list(ws.tmp_dir.iterdir()) == []  # the old outputs were removed after the swap


def test_clear_tmp_removes_leftovers(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    (ws.new_tmp("data:x") / "partial").write_text("x")
    ws.clear_tmp()
    assert not ws.tmp_dir.exists()


def test_busy_workspace_names_the_holder(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(WorkspaceBusy) as caught, Workspace(tmp_path / ".mlspec").run_lock():
        pass
    assert str(caught.value) == (
        f"workspace .mlspec is in use by another mlspec run (pid {holder.pid}); wait for it to finish, "
        "or pass --wait SECONDS to wait for it"
    )


def test_waiting_gives_up_after_the_timeout(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    started = time.monotonic()
    with pytest.raises(WorkspaceBusy) as caught, Workspace(tmp_path / ".mlspec").run_lock(wait=0.3):
        pass
    assert time.monotonic() - started >= 0.3
    assert str(caught.value) == (
        f"workspace .mlspec is still in use by another mlspec run (pid {holder.pid}) after waiting 0.3 s; "
        "wait for it to finish"
    )


def test_waiting_gets_the_lock_when_the_holder_finishes(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    release = threading.Timer(0.3, holder.stdin.close)
    release.start()
    ws = Workspace(tmp_path / ".mlspec")
    with ws.run_lock(wait=30):
        assert ws.lock_file.read_text() == f"{os.getpid()}\n"
    release.join()


def test_lock_is_released_when_the_holder_is_killed(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    holder.kill()
    holder.wait(timeout=10)
    with Workspace(tmp_path / ".mlspec").run_lock():
        pass


def test_a_directory_of_the_users_is_refused_and_left_intact(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    (tmp_path / "tmp" / "notes.txt").write_text("mine")
    (tmp_path / "data.csv").write_text("a\n")
    with pytest.raises(MlspecError) as caught, Workspace(tmp_path, "MLSPEC_CACHE_DIR").run_lock():
        pass
    assert "it holds files that are not mlspec's (data.csv, tmp/notes.txt)" in str(caught.value)
    assert "MLSPEC_CACHE_DIR" in str(caught.value)
    assert (tmp_path / "tmp" / "notes.txt").read_text() == "mine" and not (tmp_path / "run.lock").exists()


def test_an_old_style_workspace_is_adopted(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / ".mlspec")
    (ws.root / "stages" / "evaluate").mkdir(parents=True)
    (ws.root / "tmp" / "train-m.abcd_123").mkdir(parents=True)
    with ws.run_lock():
        ws.clear_tmp()
    assert (ws.root / ".mlspec-owned").is_file() and not ws.tmp_dir.exists()


def test_stage_outputs_and_the_run_lock_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)  # a group-shared checkout: the group must read (and replace) the outputs
    try:
        ws = Workspace(tmp_path / ".mlspec")
        with ws.run_lock():
            new = ws.new_tmp("train:m")
            (new / "model.skops").write_bytes(b"x")
            final = ws.swap_in(new, "train:m")
        assert (os.stat(final).st_mode & 0o777, os.stat(ws.lock_file).st_mode & 0o777) == (0o775, 0o664)
    finally:
        os.umask(old)
