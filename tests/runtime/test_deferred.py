"""A source only monitoring reads may be absent: `mlspec run` leaves its stage to `mlspec monitor` and says so."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from mlspec.load import load
from mlspec.runtime import runner
from mlspec.runtime.cilog import Log
from mlspec.runtime.deferred import monitoring_only
from mlspec.runtime.stages import build
from tests.runtime import fakestages

WHY = "current.csv does not exist; only monitoring reads it, so `mlspec monitor` runs this stage once it is there"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny project with a monitoring source, current.csv, not there (yet)."""
    spec = fakestages.write_project(tmp_path)
    text = spec.read_text().replace("    holdout: {path: holdout.csv}\n",
                                    "    holdout: {path: holdout.csv}\n    current: {path: current.csv}\n")
    spec.write_text(text + "monitoring: {current: current}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runner, "stage_module", fakestages.stage_module)
    return tmp_path


def go(*names: str) -> tuple[runner.Report, list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    report = runner.run(load(Path("mlspec.yaml")), names, log=Log(out, err, {}))
    lines = [re.sub(r" in \d+\.\d\d s", " in T", line) for line in out.getvalue().splitlines()
             if not line.startswith("history: run ")]  # the run's id, new every run (tests/runs checks it)
    return report, lines, err.getvalue()


def test_only_the_monitor_stage_needs_the_current_source(root: Path) -> None:
    assert monitoring_only(build(load(Path("mlspec.yaml")).spec)) == {"data:current"}


def test_a_plain_run_passes_and_says_what_it_left(root: Path) -> None:
    report, lines, err = go()
    assert report.ok and err == ""
    assert f"skip data:current: {WHY}" in lines
    assert lines[-3] == "mlspec run: 7 ran, 0 up to date, 1 left to monitoring (data:current)"
    assert "data:current" not in {o.stage_id for o in report.outcomes}


def test_the_plan_says_so_too(root: Path) -> None:
    lines = runner.render_plan(runner.plan(load(Path("mlspec.yaml"))))
    assert f"skip data:current: {WHY}" in lines
    assert lines[-1] == "mlspec plan: 7 to run, 0 up to date"


def test_named_it_runs_and_fails_with_its_located_error(root: Path) -> None:
    report, _, err = go("data:current")
    assert not report.ok
    assert err.startswith("mlspec.yaml:") and "current.csv" in err


def test_once_the_file_is_there_a_plain_run_runs_it(root: Path) -> None:
    fakestages.write_csv(root / "current.csv", 4)
    report, lines, _ = go()
    assert report.ok and report.left == ()
    assert "ok data:current in T: 4 rows, 2 columns" in lines
