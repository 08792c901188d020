"""Stage records: outputs that arrive from another job (a CI artifact) or a cache are adopted, not recomputed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mlspec.project import init_project
from tests.support import run_mlspec


def _project(path: Path) -> Path:
    init_project(path, "breast-cancer")
    return path / "mlspec.yaml"


def _carry(src: Path, dst: Path, stage: str) -> None:
    """What a CI artifact of `stage` holds: its output directory and its record."""
    kind, name = stage.split(":")
    for rel in (Path("stages") / kind / name, Path("records") / kind / f"{name}.json"):
        target = dst / ".mlspec" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if (src / ".mlspec" / rel).is_dir():
            shutil.copytree(src / ".mlspec" / rel, target)
        else:
            shutil.copy2(src / ".mlspec" / rel, target)


def test_outputs_with_their_record_are_adopted(tmp_path: Path) -> None:
    first = _project(tmp_path / "job1")
    assert run_mlspec("run", "-f", str(first), "data:train").returncode == 0
    record = json.loads((tmp_path / "job1/.mlspec/records/data/train.json").read_text())
    assert record == json.loads((tmp_path / "job1/mlspec.lock").read_text())["stages"]["data:train"]

    second = _project(tmp_path / "job2")  # a fresh checkout: no lock, no outputs
    _carry(tmp_path / "job1", tmp_path / "job2", "data:train")
    assert "skip data:train: up to date" in run_mlspec("plan", "-f", str(second), "data:train").stdout
    result = run_mlspec("run", "-f", str(second), "data:train")
    assert result.returncode == 0, result.stderr
    assert "skip data:train: up to date" in result.stdout
    lock = json.loads((tmp_path / "job2/mlspec.lock").read_text())
    assert lock["stages"]["data:train"] == record


def test_a_record_that_does_not_match_its_outputs_is_ignored(tmp_path: Path) -> None:
    first = _project(tmp_path / "job1")
    assert run_mlspec("run", "-f", str(first), "data:train").returncode == 0
    second = _project(tmp_path / "job2")
    _carry(tmp_path / "job1", tmp_path / "job2", "data:train")
    (tmp_path / "job2/.mlspec/stages/data/train/profile.json").write_text("{}\n")
    result = run_mlspec("run", "-f", str(second), "data:train")
    assert result.returncode == 0, result.stderr
    assert "run data:train: no lock entry" in result.stdout


def test_a_record_for_other_data_is_ignored(tmp_path: Path) -> None:
    first = _project(tmp_path / "job1")
    assert run_mlspec("run", "-f", str(first), "data:train").returncode == 0
    second = _project(tmp_path / "job2")
    _carry(tmp_path / "job1", tmp_path / "job2", "data:train")
    with (tmp_path / "job2/data/train.csv").open("a") as fh:
        fh.write((tmp_path / "job2/data/train.csv").read_text().splitlines()[1] + "\n")
    result = run_mlspec("run", "-f", str(second), "data:train")
    assert "run data:train: no lock entry" in result.stdout
    assert json.loads((tmp_path / "job2/.mlspec/stages/data/train/profile.json").read_text())["rows"] == 399
