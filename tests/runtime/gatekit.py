"""A diabetes project run once through every stage up to the gate, copied fresh for each test that needs one
(import as ``from tests.runtime.gatekit import ...``; the fixture lives in ``tests/runtime/conftest.py``).

The copy keeps the workspace and mlspec.lock, so in a copy everything is up to date and a test that edits the
gates reruns only the gate (a fraction of a second) instead of training again.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

from mlspec.load import Loaded, load
from mlspec.runtime import runner
from mlspec.runtime.cilog import Log
from tests.gitkit import BASELINE_VARS
from tests.runtime.stagekit import copy_example

CLEAN = (*BASELINE_VARS, "MLSPEC_CACHE_DIR", "MLSPEC_REGISTRY", "GITHUB_ACTIONS", "GITLAB_CI")


def build_template(into: Path) -> Path:
    """Run the diabetes example's pipeline in ``into``; returns the project directory."""
    from threadpoolctl import threadpool_limits

    spec = copy_example("diabetes", into)
    saved = {k: os.environ.pop(k) for k in CLEAN if k in os.environ}
    cwd = Path.cwd()
    try:
        os.chdir(spec.parent)
        with threadpool_limits(1):
            report = runner.run(load(Path("mlspec.yaml")), log=Log(io.StringIO(), io.StringIO(), {}))
        assert report.ok
    finally:
        os.chdir(cwd)
        os.environ.update(saved)
    return spec.parent


def fresh_copy(template: Path, into: Path) -> Path:
    target = into / template.name
    shutil.copytree(template, target, symlinks=True)
    return target


def go(*names: str, environ: dict[str, str] | None = None) -> tuple[runner.Report, list[str], str]:
    """Run in the current directory; returns the report, stdout lines with timings masked, and stderr."""
    out, err = io.StringIO(), io.StringIO()
    report = runner.run(load(Path("mlspec.yaml")), names, log=Log(out, err, environ or {}))
    lines = [re.sub(r" (in|after) \d+\.\d\d s", r" \1 T", line) for line in out.getvalue().splitlines()]
    return report, lines, err.getvalue()


def edit(old: str, new: str) -> Loaded:
    """Replace ``old`` by ``new`` in ./mlspec.yaml; returns the spec loaded again."""
    spec = Path("mlspec.yaml")
    text = spec.read_text()
    assert old in text, old
    spec.write_text(text.replace(old, new, 1))
    return load(spec)
