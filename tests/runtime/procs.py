"""Running `mlspec` (or the stand-in harness) as real subprocesses in a project directory."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HARNESS = Path(__file__).resolve().parent / "harness.py"
# Variables that change what a run prints or where it writes; tests set them explicitly when they need them.
_SCRUB = ("MLSPEC_CACHE_DIR", "GITHUB_ACTIONS", "GITLAB_CI", "FAKE_BLOCK", "FAKE_FAIL", "FAKE_ERROR",
          "FAKE_CRASH", "HARNESS_KILL")


def environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    return {**env, **extra}


def _command(harness: bool) -> list[str]:
    return [sys.executable, str(HARNESS)] if harness else [sys.executable, "-m", "mlspec"]


def mlspec(root: Path, *args: str, harness: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``mlspec ARGS`` in ``root``: the real command, or with the stand-in stages (``harness=True``)."""
    return subprocess.run([*_command(harness), *args], cwd=root, env=environ(**env), capture_output=True,
                          text=True, timeout=600)


def start(root: Path, *args: str, harness: bool = True, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*_command(harness), *args], cwd=root, env=environ(**env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    """Wait until ``path`` exists (a stand-in stage started); fail early if ``proc`` died first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"process exited {proc.returncode} before {path.name}:\n{out}\n{err}")
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


def masked(text: str) -> list[str]:
    """Output lines with the stage timings replaced by T, without the run's id in the history (new every run;
    tests/runs checks it)."""
    return [re.sub(r" (in|after) \d+\.\d\d s", r" \1 T", line) for line in text.splitlines()
            if not line.startswith("history: run ")]


def tree(directory: Path) -> dict[str, str]:
    """Every file below ``directory`` with the sha256 of its bytes."""
    return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}
