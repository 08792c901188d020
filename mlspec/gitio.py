"""The few git questions mlspec asks, answered by the ``git`` command itself (no git library).

Every call runs ``git -C <dir>`` with prompts disabled and messages in English, so a failure can be told
apart and explained. A missing ``git``, a directory outside any repository and git's own refusals (e.g.
"dubious ownership" in CI containers) all raise :class:`GitError` with git's first line of explanation.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

TIMEOUT = 60.0


class GitError(Exception):
    """git cannot answer here; ``str(err)`` says why in one line."""


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, env=env, timeout=TIMEOUT,
                              check=False)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} did not answer within {TIMEOUT:g} s") from None


def _first_line(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    line = text.splitlines()[0] if text else "git failed"
    return line.removeprefix("fatal: ").removeprefix("error: ")


def prefix(directory: Path) -> str:
    """``directory`` relative to the top of its work tree, ``/``-terminated (``""`` at the top)."""
    done = _git(directory, "rev-parse", "--show-prefix")
    if done.returncode != 0:
        message = _first_line(done.stderr)
        if "not a git repository" in message:
            message = "not a git repository"
        raise GitError(message)
    return done.stdout.decode("utf-8").strip()


def commit_of(directory: Path, rev: str) -> str | None:
    """The commit ``rev`` names, or None if it names none. A leading ``-`` is never read as an option."""
    if not rev or rev.startswith("-"):
        return None
    done = _git(directory, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if done.returncode != 0:
        return None
    return done.stdout.decode("ascii").strip()


def show(directory: Path, commit: str, path: str) -> bytes | None:
    """The bytes of ``path`` (from the top of the work tree) at ``commit``; None if it is not a file there."""
    done = _git(directory, "cat-file", "-t", f"{commit}:{path}")
    if done.returncode != 0 or done.stdout.strip() != b"blob":
        return None
    done = _git(directory, "show", f"{commit}:{path}")
    if done.returncode != 0:
        raise GitError(_first_line(done.stderr))
    return done.stdout


def current_branch(directory: Path) -> str | None:
    """The branch HEAD is on; None when HEAD is detached (as in most CI checkouts)."""
    done = _git(directory, "symbolic-ref", "--quiet", "--short", "HEAD")
    return done.stdout.decode("utf-8").strip() or None if done.returncode == 0 else None


def commits_touching(directory: Path, path: str) -> list[str]:
    """Every commit on any branch or tag (``git log --all``) that changed ``path`` (relative to ``directory``),
    newest first: together they hold every version of the file the history has."""
    done = _git(directory, "log", "--all", "--format=%H", "--end-of-options", "--", path)
    if done.returncode != 0:
        raise GitError(_first_line(done.stderr))
    return done.stdout.decode("ascii").split()


def is_shallow(directory: Path) -> bool:
    """Whether the clone lacks part of its history (``git clone --depth``, as most CI checkouts)."""
    done = _git(directory, "rev-parse", "--is-shallow-repository")
    if done.returncode != 0:
        raise GitError(_first_line(done.stderr))
    return done.stdout.strip() == b"true"


def worktree(directory: Path) -> tuple[str | None, str | None, bool] | None:
    """HEAD's commit (None before the first commit), the branch checked out (None when detached) and whether
    tracked files differ from HEAD, from one ``git status``; None outside a work tree (or without git)."""
    try:
        done = _git(directory, "status", "--porcelain=v2", "--branch", "--untracked-files=no")
    except GitError:
        return None
    if done.returncode != 0:
        return None
    commit = branch = None
    dirty = False
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("# branch.oid "):
            oid = line.removeprefix("# branch.oid ")
            commit = oid if oid != "(initial)" else None
        elif line.startswith("# branch.head "):
            head = line.removeprefix("# branch.head ")
            branch = head if head != "(detached)" else None
        elif line and not line.startswith("#"):
            dirty = True
    return commit, branch, dirty


def user(directory: Path) -> str | None:
    """``user.email`` from git's configuration, else ``user.name``, in one call; None when neither is set."""
    try:
        done = _git(directory, "config", "--get-regexp", r"^user\.(email|name)$")
    except GitError:
        return None
    found = dict(line.partition(" ")[::2] for line in done.stdout.decode("utf-8", "replace").splitlines())
    return found.get("user.email") or found.get("user.name") or None
