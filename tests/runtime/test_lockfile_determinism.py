"""The same spec and data give byte-identical lock entries, wherever and whenever they run."""

from __future__ import annotations

from pathlib import Path

from mlspec.project import init_project
from tests.support import run_mlspec


def test_two_projects_give_the_same_lock(tmp_path: Path) -> None:
    locks = []
    for name in ("one", "two"):
        init_project(tmp_path / name, "breast-cancer")
        result = run_mlspec("run", "-f", str(tmp_path / name / "mlspec.yaml"), env={"PYTHONHASHSEED": str(len(name))})
        assert result.returncode == 0, result.stdout + result.stderr
        locks.append((tmp_path / name / "mlspec.lock").read_bytes())
    assert locks[0] == locks[1]


def test_forced_rerun_keeps_the_lock_byte_identical(tmp_path: Path) -> None:
    init_project(tmp_path, "wine")
    spec = str(tmp_path / "mlspec.yaml")
    assert run_mlspec("run", "-f", spec).returncode == 0
    before = (tmp_path / "mlspec.lock").read_bytes()
    assert run_mlspec("run", "--force", "-f", spec).returncode == 0
    assert (tmp_path / "mlspec.lock").read_bytes() == before
