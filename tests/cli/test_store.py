"""`mlspec push`, `pull` and `gc` as a user runs them: exit codes and messages (a push killed half way:
``tests/store/test_transfer_kill.py``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlspec.store import StoreError
from tests.store.synckit import project
from tests.support import run_mlspec


@pytest.fixture(autouse=True)
def _no_store(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MLSPEC_STORE", "MLSPEC_STORE_ENDPOINT_URL", "MLSPEC_CACHE_DIR"):
        monkeypatch.delenv(var, raising=False)


def test_without_a_store_push_and_pull_say_what_to_set(tmp_path: Path,
                                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    root = project(tmp_path_factory, tmp_path)
    for command in ("push", "pull", "gc"):
        done = run_mlspec(command, cwd=root)
        assert done.returncode == 1
        assert done.stderr.startswith("error: no store: set store.url in mlspec.yaml, or MLSPEC_STORE, to the "
                                      "store's URL"), done.stderr


def test_push_pull_gc_round_trip(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    env = {"MLSPEC_STORE": str(tmp_path / "store")}
    first = project(tmp_path_factory, tmp_path / "laptop")
    done = run_mlspec("push", cwd=first, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("mlspec push: 8 stages (20 files, ")
    assert run_mlspec("push", cwd=first, env=env).stdout.splitlines()[-1] == (
        f"mlspec push: 0 stages (0 files, 0 B) to {tmp_path / 'store'}, 8 already there")

    second = project(tmp_path_factory, tmp_path / "runner", workspace=False)
    done = run_mlspec("pull", "evaluate", cwd=second, env=env)
    assert done.returncode == 0, done.stderr
    assert "pulled train:forest: 3 files" in done.stdout and "gate" not in done.stdout
    assert "mlspec pull: 6 stages" in done.stdout.splitlines()[-1]
    shutil.rmtree(tmp_path / "store" / "objects")
    done = run_mlspec("pull", cwd=second, env=env)
    assert done.returncode == 1
    assert "error: gate: the store" in done.stderr and "lacks summary.txt, verdict.json" in done.stderr
    assert "Traceback" not in done.stderr

    done = run_mlspec("gc", cwd=first, env=env)
    assert done.returncode == 1 and "needs the git history" in done.stderr


def test_a_store_error_is_one_line(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.servers import free_port

    root = project(tmp_path_factory, tmp_path)
    env = {"MLSPEC_STORE": "s3://bucket/prefix", "MLSPEC_STORE_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_DEFAULT_REGION": "us-east-1"}
    done = run_mlspec("push", cwd=root, env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: store s3://bucket/prefix (from MLSPEC_STORE): cannot ")
    assert StoreError.__name__ not in done.stderr
