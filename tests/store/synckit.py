"""A diabetes project run once without a store, copied fresh for each push/pull/run-cache test (import as
``from tests.store.synckit import ...``).

The template is built once per test process (a full run costs seconds); copies keep or drop its workspace
and lock as a test needs.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

from mlspec.load import Loaded, load
from mlspec.runtime import runner
from mlspec.runtime.cilog import Log
from mlspec.runtime.hashing import file_digest
from mlspec.store import Store, open_store
from tests.runtime.gatekit import CLEAN
from tests.runtime.stagekit import copy_example

_TEMPLATE: list[Path] = []
STAGES = ("data:train", "data:holdout", "data:current", "validate:train_ranges", "train:ridge", "train:forest",
          "evaluate", "gate")


def template(factory: pytest.TempPathFactory) -> Path:
    """The diabetes example after one full `mlspec run` without a store (shared: never modify it)."""
    if not _TEMPLATE:
        from threadpoolctl import threadpool_limits

        spec = copy_example("diabetes", factory.mktemp("synced"))
        saved = {k: os.environ.pop(k) for k in (*CLEAN, "MLSPEC_STORE") if k in os.environ}
        try:
            with threadpool_limits(1):
                report = runner.run(load(spec), log=quiet(), store=None)
            assert report.ok
        finally:
            os.environ.update(saved)
        _TEMPLATE.append(spec.parent)
    return _TEMPLATE[0]


def project(factory: pytest.TempPathFactory, into: Path, *, workspace: bool = True) -> Path:
    """A copy of the template in ``into``; without ``workspace``: no outputs and no mlspec.lock, as a fresh
    clone whose lock was never committed."""
    target = into / "diabetes"
    shutil.copytree(template(factory), target, symlinks=True)
    if not workspace:
        shutil.rmtree(target / ".mlspec")
        (target / "mlspec.lock").unlink()
    return target


def quiet() -> Log:
    return Log(io.StringIO(), io.StringIO(), {})


def run(root: Path, *names: str, force: bool = False) -> tuple[runner.Report, list[str]]:
    """`mlspec run` in ``root`` with the environment's store; the report and its output lines."""
    out = io.StringIO()
    report = runner.run(loaded(root), names, force=force, log=Log(out, io.StringIO(), {}))
    return report, out.getvalue().splitlines()


def loaded(root: Path) -> Loaded:
    return load(root / "mlspec.yaml")


def store_of(root: Path) -> Store:
    store = open_store(loaded(root))
    assert store is not None
    return store


def outputs(root: Path) -> dict[str, str]:
    """Every output file of the workspace (``stages/...``, ``_run`` left out) → its digest."""
    stages = root / ".mlspec" / "stages"
    return {p.relative_to(stages).as_posix(): file_digest(p) for p in sorted(stages.rglob("*"))
            if p.is_file() and "_run" not in p.relative_to(stages).parts}


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes: to show that nothing changed."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
