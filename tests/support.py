"""Helpers shared by the tests (import as `from tests.support import ...`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def tool(name: str) -> str:
    """A command-line tool installed by `make test`: beside this Python (the venv) or on PATH. Never skipped:
    a missing real tool is a broken set-up, not a reason to pass."""
    found = Path(sys.executable).parent / name
    if found.exists():
        return str(found)
    path = shutil.which(name)
    assert path, f"{name} is not installed; run `make test`, which installs it"
    return path


REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "mlspec.yaml").is_file())


def run_mlspec(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command line (``python -m mlspec``) in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "mlspec", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )
