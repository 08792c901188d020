"""A real ``mlflow server`` on 127.0.0.1 for the tests that talk to MLflow (the registry and tracking backends).

The session fixture ``mlflow_server`` (tests/conftest.py) shares one server; :func:`running` starts another
where a test needs one it can stop (a tracking server that goes down and comes back).
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers import free_port, stop
from tests.support import tool

# MLflow reports usage to its makers unless told not to; tests talk to nothing but loopback.
QUIET_MLFLOW = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
                "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
START_SECONDS = 240.0  # the server creates its SQLite schema first: tens of seconds on a busy 2-core machine


@contextmanager
def running(root: Path, port: int | None = None) -> Iterator[str]:
    """``mlflow server`` with a SQLite store and local artifacts under ``root``, until the block ends; its URI.

    Started again on the same ``root`` and ``port``, it serves what the earlier one stored."""
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | QUIET_MLFLOW
    log = open(root / "server.log", "ab")  # noqa: SIM115  # closed below, after the server has stopped
    proc = subprocess.Popen(
        [tool("mlflow"), "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert proc.poll() is None, f"mlflow server exited:\n{(root / 'server.log').read_text()}"
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"mlflow server not up after {START_SECONDS:g} s"
            time.sleep(0.5)
        yield uri
    finally:
        stop(proc)
        log.close()
