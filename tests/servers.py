"""Real servers on loopback for the tests: started by a fixture, waited for, stopped by their process group.

Each server listens on 127.0.0.1 only, on a port the kernel picked, and is stopped by the id of the process it
started (SIGTERM, then SIGKILL): a test never ends a process it did not start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Running:
    pid: int
    port: int
    log: Path


@contextmanager
def serve(argv: Sequence[str], port: int, root: Path, *, env: Mapping[str, str] | None = None,
          ready: Callable[[], bool] | None = None, start_seconds: float = 120.0,
          stop_seconds: float = 30.0) -> Iterator[Running]:
    """Run ``argv`` (a server on 127.0.0.1:``port``) in its own process group until the block ends."""
    log_path = root / "server.log"
    log = open(log_path, "wb")  # noqa: SIM115  # closed below, after the server has stopped
    proc = subprocess.Popen(list(argv), cwd=root, env=dict(env) if env is not None else None, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    check = ready or (lambda: port_open(port))
    try:
        deadline = time.monotonic() + start_seconds
        while not check():
            assert proc.poll() is None, f"{argv[0]} exited:\n{log_path.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"{argv[0]} not up after {start_seconds:g} s"
            time.sleep(0.2)
        yield Running(proc.pid, port, log_path)
    finally:
        stop(proc, stop_seconds)
        log.close()


def stop(proc: subprocess.Popen[bytes], polite_seconds: float = 30.0) -> None:
    """Stop the process group ``proc`` leads (servers that fork workers), politely first."""
    for sig, wait in ((signal.SIGTERM, polite_seconds), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
