"""A registry writer in its own process, for crash and concurrency tests.

    python tests/registry/harness.py ROOT register CONTENT
    python tests/registry/harness.py ROOT promote ALIAS VERSION
    python tests/registry/harness.py ROOT churn ALIAS VERSION... (promote to each in turn, 5 rounds)
    python tests/registry/harness.py ROOT deploy ALIAS CONTENT... (register each bundle and promote ALIAS to
                                                                   it, as `mlspec deploy` does; prints what it did)

ROOT is a file registry's directory, or a store's URL (the store registry; credentials from the environment).
With ``HARNESS_KILL=RULE`` the process SIGKILLs itself at one point of the write, as a crash would stop it:

    before-rename:SUFFIX   just before the os.rename whose destination ends with SUFFIX
    rename:SUFFIX          just after it
    replace:SUFFIX         just after the os.replace whose destination ends with SUFFIX
    torn-write             in the middle of writing a history line (half of it written)
    after-write            after writing a history line, before its fsync
    store:METHOD:PART      (store registry) just before the store's METHOD (create, replace, put_file) is
                           called with a key (or file) containing PART
    store:METHOD:PART:after                                   just after it returns
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for `tests.registry`

from mlspec.registry import FileRegistry, Registry
from tests.registry.kit import CI, candidate, store_of

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


def _install_store(rule: str) -> None:
    from mlspec.store import Store

    method, part, *when = rule.split(":")[1:]
    real = getattr(Store, method)

    def wrapped(self: Store, first: Any, *args: Any, **kwargs: Any) -> Any:
        hit = part in str(first)
        if hit and not when:
            _die()
        out = real(self, first, *args, **kwargs)
        if hit:
            _die()
        return out

    setattr(Store, method, wrapped)


def opened(root: str) -> Registry:
    if "://" not in root:
        return FileRegistry(Path(root))
    from mlspec.registry.storestore import StoreRegistry

    return StoreRegistry(store_of(root))


def main(root: str, action: str, args: list[str]) -> None:
    registry = opened(root)
    if action == "deploy":
        with tempfile.TemporaryDirectory() as tmp:
            for content in args[1:]:
                version, new = registry.register(MODEL, candidate(Path(tmp), content), CI)
                event = registry.promote(MODEL, args[0], version.number, CI)
                print(json.dumps({"content": content, "version": version.number, "new": new,
                                  "seq": event.seq if event else None}), flush=True)
        return
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
    rule = os.environ.get("HARNESS_KILL", "")
    if rule.startswith("store:"):
        _install_store(rule)
    elif rule:
        _install(rule)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
