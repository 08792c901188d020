"""A throwaway git repository shaped like a merge request: a bundled example on ``main``, with its generated CI
files and the mlspec.lock of a pipeline run there committed, and a feature branch that changes the spec."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from mlspec.load import load
from mlspec.spec import Spec
from tests.e2e.jobpython import executor_env
from tests.gitkit import baseline_from_lock

DEFAULT_BRANCH = "main"
FEATURE_BRANCH = "feature"


@dataclass(frozen=True)
class Project:
    root: Path
    """The repository: where the executors run and the generated CI files are."""
    spec_path: str
    """mlspec.yaml relative to ``root``, as the generated jobs name it."""
    base_sha: str
    """The tip of the default branch, which the merge request targets."""
    head_sha: str
    """The commit under test, on the feature branch that is checked out."""

    @property
    def spec(self) -> Spec:
        return load(self.root / self.spec_path).spec

    def copy_to(self, root: Path) -> Project:
        shutil.copytree(self.root, root, symlinks=True)
        return replace(self, root=root)

    @property
    def workspace(self) -> Path:
        """Where `mlspec run` puts stage outputs in a checkout (``.mlspec`` beside the spec)."""
        return (self.root / self.spec_path).parent / ".mlspec"


def git_env(home: Path) -> dict[str, str]:
    """Git without the user's or the machine's configuration, with fixed dates (same commits every time)."""
    return {**os.environ, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def git(root: Path, home: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, env=git_env(home), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"git {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout.strip()


def make_project(root: Path, home: Path, mlspec: Path, example: str, change: tuple[str, str], subdir: str = ""
                 ) -> Project:
    """The repository in ``root``, with the example in ``subdir``, made with the ``mlspec`` command given;
    ``change`` is the feature branch's edit of mlspec.yaml (old text, new text)."""
    env = executor_env(home)

    def _mlspec(*args: str) -> None:
        result = subprocess.run([str(mlspec), *args], env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"mlspec {args[0]} failed:\n{result.stdout}{result.stderr}"

    spec = root / subdir / "mlspec.yaml"
    _mlspec("init", str(spec.parent), "--example", example)
    baseline_from_lock(spec)  # these pipelines judge against main's committed lock, not a registry version
    _mlspec("compile", "-f", str(spec), "--out", str(root))
    git(root, home, "init", "--quiet", "--initial-branch", DEFAULT_BRANCH)
    git(root, home, "config", "user.name", "mlspec e2e")
    git(root, home, "config", "user.email", "e2e@mlspec.invalid")
    git(root, home, "config", "commit.gpgsign", "false")
    git(root, home, "add", "--all")
    git(root, home, "commit", "--quiet", "--message", f"{example} example with its generated CI files")

    # The run on main whose committed lock is the baseline of the merge request's gate.
    _mlspec("run", "-f", str(spec))
    git(root, home, "add", str(spec.parent / "mlspec.lock"))
    git(root, home, "commit", "--quiet", "--message", "Record the pipeline run on main")
    git(root, home, "clean", "--quiet", "-d", "--force", "-x")  # a clone has no stage outputs
    base = git(root, home, "rev-parse", "HEAD")

    git(root, home, "switch", "--quiet", "--create", FEATURE_BRANCH)
    old, new = change
    text = spec.read_text("utf-8")
    assert old in text, f"the change expects {old!r} in {spec}"
    spec.write_text(text.replace(old, new, 1), "utf-8")
    git(root, home, "commit", "--quiet", "--all", "--message", f"Try {new}")
    _mlspec("compile", "--check", "-f", str(spec), "--out", str(root))  # the CI files stay those of main
    return Project(root, spec.relative_to(root).as_posix(), base, git(root, home, "rev-parse", "HEAD"))
