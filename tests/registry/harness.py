"""A registry writer in its own process, for crash and concurrency tests.

    python tests/registry/harness.py ROOT register CONTENT
    python tests/registry/harness.py ROOT promote ALIAS VERSION
    python tests/registry/harness.py ROOT churn ALIAS VERSION... (promote to each in turn, 5 rounds)

With ``HARNESS_KILL=RULE`` the process SIGKILLs itself at one point of the write, as a crash would stop it:

    before-rename:SUFFIX   just before the os.rename whose destination ends with SUFFIX
    rename:SUFFIX          just after it
    replace:SUFFIX         just after the os.replace whose destination ends with SUFFIX
    torn-write             in the middle of writing a history line (half of it written)
    after-write            after writing a history line, before its fsync
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for `tests.registry`

from mlspec.registry import FileRegistry
from tests.registry.kit import CI, candidate

MODEL = "m"


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _install(rule: str) -> None:
    which, _, suffix = rule.partition(":")
    real_rename, real_replace, real_write, real_fsync = os.rename, os.replace, os.write, os.fsync
    pending = {"line": False}

    def rename(src: Any, dst: Any) -> None:
        if which == "before-rename" and os.fspath(dst).endswith(suffix):
            _die()
        real_rename(src, dst)
        if which == "rename" and os.fspath(dst).endswith(suffix):
            _die()

    def replace(src: Any, dst: Any) -> None:
        real_replace(src, dst)
        if which == "replace" and os.fspath(dst).endswith(suffix):
            _die()

    def write(fd: int, data: bytes) -> int:
        if data.startswith(b'{"seq"'):
            if which == "torn-write":
                real_write(fd, data[: len(data) // 2])
                _die()
            pending["line"] = which == "after-write"
        return real_write(fd, data)

    def fsync(fd: int) -> None:
        if pending["line"]:
            _die()
        real_fsync(fd)

    os.rename, os.replace, os.write, os.fsync = rename, replace, write, fsync  # type: ignore[assignment]


def main(root: Path, action: str, args: list[str]) -> None:
    registry = FileRegistry(root)
    if action == "register":
        with tempfile.TemporaryDirectory() as tmp:
            registry.register(MODEL, candidate(Path(tmp), args[0]), CI)
    elif action == "promote":
        registry.promote(MODEL, args[0], int(args[1]), CI)
    elif action == "churn":
        for _ in range(5):
            for number in args[1:]:
                registry.promote(MODEL, args[0], int(number), CI)
    else:
        raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    if os.environ.get("HARNESS_KILL"):
        _install(os.environ["HARNESS_KILL"])
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3:])
