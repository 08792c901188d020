"""The real `mlspec` command line with the stand-in stages of ``fakestages`` and optional fault injection.

Run as ``python tests/runtime/harness.py ARGS...`` from a test. With ``HARNESS_KILL=src:SUFFIX`` (or
``dst:SUFFIX``) the process SIGKILLs itself right after the ``os.replace`` whose source (destination) path
ends with SUFFIX, and with ``before-dst:SUFFIX`` right before it: the moment between two steps of the
runner that a crash test needs.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for `tests.runtime`

from mlspec import cli
from mlspec.runtime import runner
from tests.runtime import fakestages


def _install_kill(rule: str) -> None:
    which, suffix = rule.split(":", 1)
    real_replace = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if which == "before-dst" and os.fspath(dst).endswith(suffix):
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst)
        if os.fspath(src if which == "src" else dst).endswith(suffix):
            os.kill(os.getpid(), signal.SIGKILL)

    os.replace = replace  # type: ignore[assignment]


if __name__ == "__main__":
    runner.stage_module = fakestages.stage_module
    if os.environ.get("HARNESS_KILL"):
        _install_kill(os.environ["HARNESS_KILL"])
    sys.exit(cli.main(sys.argv[1:]))
