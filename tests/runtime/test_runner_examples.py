"""End to end on every bundled example with the real stages: full run, no-op run, one changed data file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlspec.load import load
from mlspec.runtime import lockfile
from mlspec.runtime.stages import RUNNABLE, build
from tests.runtime.procs import environ, masked, mlspec
from tests.support import EXAMPLE_NAMES

HEAVY = {"pandas", "numpy", "sklearn", "scipy", "great_expectations", "matplotlib", "pyarrow", "skops"}


def _ran(stdout: str) -> list[str]:
    return [line.split()[1] for line in masked(stdout) if line.startswith("ok ")]


def _skipped(stdout: str) -> list[str]:
    return [line.split()[1].rstrip(":") for line in masked(stdout) if line.startswith("skip ")]


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_run_skip_and_rerun_what_changed(tmp_path: Path, name: str) -> None:
    root = tmp_path / name
    assert mlspec(tmp_path, "init", str(root), "--example", name).returncode == 0
    spec = load(root / "mlspec.yaml").spec
    runnable = [s for s in build(spec) if s.kind in RUNNABLE and not s.scheduled]

    full = mlspec(root, "run")
    assert full.returncode == 0, full.stdout + full.stderr
    assert _ran(full.stdout) == [s.id for s in runnable]
    assert sorted(lockfile.read(root / "mlspec.lock").stages) == sorted(s.id for s in runnable)

    # A no-op run decides from stat data and the lock alone: no data or ML library is even imported.
    noop = subprocess.run([sys.executable, "-X", "importtime", "-m", "mlspec", "run"], cwd=root, env=environ(),
                          capture_output=True, text=True, timeout=120)
    assert noop.returncode == 0, noop.stderr
    assert _skipped(noop.stdout) == [s.id for s in runnable]
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in noop.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}
    assert "mlspec" in imported
    assert imported & HEAVY == set()

    holdout = root / spec.data.sources[spec.evaluation.data].path
    lines = holdout.read_text().splitlines(keepends=True)
    if spec.prepare:
        _prepared_tables_follow_their_step(root, holdout, lines)
        return
    holdout.write_text("".join(lines) + lines[-1])  # one more (duplicate) row: still valid data
    changed = mlspec(root, "run")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    suites = [f"validate:{n}" for n, s in spec.validation.items() if s.data == spec.evaluation.data]
    assert _ran(changed.stdout) == [f"data:{spec.evaluation.data}", *suites, "evaluate", "gate"]
    assert all(sid in _skipped(changed.stdout) for sid in (s.id for s in runnable if s.kind == "train"))

    again = mlspec(root, "run")
    assert _ran(again.stdout) == []
    assert masked(again.stdout)[-3] == f"mlspec run: 0 ran, {len(runnable)} up to date"


def _prepared_tables_follow_their_step(root: Path, holdout: Path, lines: list[str]) -> None:
    """A table a prepare step writes is that step's output: a hand edit is put back, and a step whose inputs
    changed but whose tables did not (its script only tidied) leaves every later stage up to date."""
    holdout.write_text("".join(lines) + lines[-1])
    edited = mlspec(root, "run")
    assert edited.returncode == 0, edited.stdout + edited.stderr
    assert _ran(edited.stdout) == []
    assert any(line.startswith("  restored ") for line in masked(edited.stdout)), edited.stdout
    assert holdout.read_text().splitlines(keepends=True) == lines
    script = root / "prepare.py"
    script.write_text(script.read_text() + "\n# tidied\n")
    tidied = mlspec(root, "run")
    assert tidied.returncode == 0, tidied.stdout + tidied.stderr
    assert _ran(tidied.stdout) == ["prepare:table"]
