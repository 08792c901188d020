"""Real git repositories for tests (import as ``from tests.gitkit import ...``).

Git runs with the user's and the system's configuration switched off, so signing hooks, templates or another
default branch name on the test machine cannot change what a test sees.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from mlspec.runtime import lockfile

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL":
    "test@example.com", "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
}
# Variables that choose a baseline; tests set the ones they need.
BASELINE_VARS = ("MLSPEC_BASELINE", "GITHUB_BASE_REF", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "CI_COMMIT_BRANCH",
                 "GITHUB_REF_NAME", "GITHUB_REF_TYPE")


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, env={**os.environ, **GIT_ENV}, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def init_repo(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text(".mlspec/\n")


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def evaluate_entry(metrics: dict[str, Any], outputs: dict[str, str] | None = None) -> lockfile.Entry:
    """A lock entry of an evaluate stage that reported ``metrics`` (the rest does not matter to a baseline)."""
    return lockfile.Entry("sha256:0", {}, {}, {}, {}, outputs or {"metrics.json": "sha256:1"}, metrics)


def write_lock(spec_dir: Path, metrics: dict[str, Any] | None, outputs: dict[str, str] | None = None) -> Path:
    """mlspec.lock in ``spec_dir`` with an evaluate entry (none when ``metrics`` is None)."""
    stages = {} if metrics is None else {"evaluate": evaluate_entry(metrics, outputs)}
    path = spec_dir / lockfile.NAME
    lockfile.write(path, lockfile.Lock(stages))
    return path


def baseline_from_lock(spec: Path) -> None:
    """Make ``spec`` compare with the base branch's committed mlspec.lock (``evaluation.baseline: {from: lock}``),
    whatever its registry: the tests of the lock baseline say so in the spec."""
    baseline_from(spec, "lock")


def baseline_from_registry(spec: Path) -> None:
    """Make ``spec`` compare with the registry version its deploy targets' alias names, although its file
    registry has no store (where the default is the lock, as a CI job's registry would be thrown away)."""
    baseline_from(spec, "registry")


def baseline_from(spec: Path, origin: str) -> None:
    """Write ``evaluation.baseline: {from: origin}`` after the gates, so that no line above moves."""
    lines = spec.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line == "  gates:\n") + 1
    while at < len(lines) and lines[at].startswith("    "):
        at += 1
    lines.insert(at, f"  baseline: {{from: {origin}}}\n")
    spec.write_text("".join(lines))
