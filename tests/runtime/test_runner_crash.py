"""A run SIGKILLed at any step leaves mlspec.lock and outputs intact or visibly stale; the next run recovers.

Each test: a complete run, then a change to train.csv so that train:m1 must rerun, then a run that is
killed at one precise moment (a blocked stand-in stage, or the harness killing itself around an
``os.replace``), then checks of what the kill left, then a recovery run and a no-op run.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from mlspec.runtime import lockfile
from tests.runtime import fakestages
from tests.runtime.procs import masked, mlspec, start, tree, wait_for

M1 = Path(".mlspec/stages/train/m1")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    fakestages.write_project(tmp_path)
    first = mlspec(tmp_path, "run", harness=True)
    assert first.returncode == 0, first.stderr
    fakestages.write_csv(tmp_path / "train.csv", 6)
    return tmp_path


def _killed(result_code: int | None) -> None:
    assert result_code == -signal.SIGKILL


def _recovers(root: Path, reran: list[str]) -> None:
    result = mlspec(root, "run", harness=True)
    assert result.returncode == 0, result.stderr
    ran = [line.split()[1] for line in masked(result.stdout) if line.startswith("ok ")]
    assert ran == reran
    assert json.loads((root / M1 / "model.json").read_text())["rows"] == 6
    assert not list((root / ".mlspec" / "tmp").glob("*"))
    again = mlspec(root, "run", harness=True)
    assert again.returncode == 0
    assert masked(again.stdout)[-3] == "mlspec run: 0 ran, 7 up to date"


def test_kill_mid_stage(root: Path) -> None:
    lock_before = lockfile.read(root / "mlspec.lock")
    m1_before = tree(root / M1)
    proc = start(root, "run", FAKE_BLOCK="train:m1")
    wait_for(root / "started-train-m1", proc)
    proc.kill()
    proc.communicate()
    _killed(proc.returncode)

    lock = lockfile.read(root / "mlspec.lock")
    # The stages that finished before the kill are recorded; the interrupted one and its dependents are not.
    assert lock.stages["data:train"] != lock_before.stages["data:train"]
    for sid in ("train:m1", "train:m2", "evaluate"):
        assert lock.stages[sid] == lock_before.stages[sid]
    assert tree(root / M1) == m1_before
    (partial,) = (root / ".mlspec" / "tmp").glob("train-m1.*")
    assert (partial / "partial.txt").read_text() == "half-written\n"

    plan = mlspec(root, "plan")
    assert "run train:m1: upstream changed: data:train, validate:train_check" in (
        plan.stdout.splitlines())
    _recovers(root, ["train:m1", "train:m2", "evaluate", "gate"])


def test_kill_after_outputs_swapped_before_lock_written(root: Path) -> None:
    lock_before = lockfile.read(root / "mlspec.lock")
    result = mlspec(root, "run", harness=True, HARNESS_KILL=f"dst:{M1}")
    _killed(result.returncode)
    assert lockfile.read(root / "mlspec.lock").stages["train:m1"] == lock_before.stages["train:m1"]
    assert json.loads((root / M1 / "model.json").read_text())["rows"] == 6  # the new outputs are in place

    plan = mlspec(root, "plan").stdout.splitlines()
    assert ("run train:m1: upstream changed: data:train, validate:train_check; "
            "output changed: model.json") in plan
    _recovers(root, ["train:m1", "train:m2", "evaluate", "gate"])


def test_kill_between_moving_old_outputs_aside_and_new_ones_in(root: Path) -> None:
    result = mlspec(root, "run", harness=True, HARNESS_KILL=f"src:{M1}")
    _killed(result.returncode)
    assert not (root / M1).exists()
    assert "run train:m1: upstream changed: data:train, validate:train_check; " \
           "outputs missing" in mlspec(root, "plan").stdout.splitlines()
    _recovers(root, ["train:m1", "train:m2", "evaluate", "gate"])


def test_kill_while_writing_the_lock(root: Path) -> None:
    text_before = (root / "mlspec.lock").read_text()
    result = mlspec(root, "run", harness=True, HARNESS_KILL="before-dst:mlspec.lock")
    _killed(result.returncode)
    assert (root / "mlspec.lock").read_text() == text_before  # the first lock write never landed
    assert len(list(root.glob(".mlspec.lock.*.tmp"))) == 1
    # data:train's new outputs are in place and its record beside them was written before the lock: the
    # next run adopts them instead of recomputing.
    assert "skip data:train: up to date" in mlspec(root, "plan").stdout.splitlines()
    _recovers(root, ["validate:train_check", "train:m1", "train:m2", "evaluate", "gate"])
    assert list(root.glob(".mlspec.lock.*.tmp")) == []
