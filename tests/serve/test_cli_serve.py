"""`mlspec serve` as a process: starts, answers, stops on SIGTERM; refuses what it must not serve."""

from __future__ import annotations

import http.client
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlspec.registry import FileRegistry, RegistryError
from mlspec.serve import load_service
from tests.support import run_mlspec


def _first_line(proc: subprocess.Popen[str], seconds: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if sel.select(timeout=0.2):
                return proc.stdout.readline()
            if proc.poll() is not None:
                break
    err = proc.stderr.read() if proc.stderr else ""
    raise AssertionError(f"mlspec serve printed nothing (exit {proc.poll()}): {err}")


def test_serve_starts_answers_and_stops(models: FileRegistry, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlspec", "serve", "--registry", str(models.root), "--model", "diabetes", "--port", "0"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = _first_line(proc, 60)
        assert line.startswith("serving 'diabetes' version 1 (m, gate pass) on http://127.0.0.1:")
        port = int(line.split("http://127.0.0.1:")[1].split()[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/health")
        answer = conn.getresponse()
        assert answer.status == 200
        assert json.loads(answer.read())["alias"] == "production"
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--alias", "canary"], "'diabetes' has no alias 'canary' in the registry {root} (aliases: production -> 1)"),
        (["--version", "9"], "'diabetes' has no version 9 in the registry {root} (versions 1-1)"),
        (["--model", "nope"], "'nope' has no alias 'production' in the registry {root} (aliases: none)"),
    ],
)
def test_serve_refuses_what_is_not_there(models: FileRegistry, tmp_path: Path, args: list[str], message: str) -> None:
    model = [] if "--model" in args else ["--model", "diabetes"]
    done = run_mlspec("serve", "--registry", str(models.root), *model, *args, "--port", "0", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"error: {message.format(root=models.root)}\n"


def test_serve_needs_a_model_name_without_a_spec(models: FileRegistry, tmp_path: Path) -> None:
    done = run_mlspec("serve", "--registry", str(models.root), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (f"error: no spec at mlspec.yaml to take the model name from; pass --model NAME (the "
                           f"registry {models.root} holds: diabetes, shop)\n")


def test_a_tampered_version_is_never_served(models: FileRegistry, tmp_path: Path) -> None:
    copy = FileRegistry(tmp_path / "copy")
    shutil.copytree(models.root, copy.root)
    model_file = copy.root / "diabetes/versions/1/bundle/model.skops"
    os.chmod(model_file, 0o644)
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    with pytest.raises(RegistryError, match="does not match the digest the registry recorded"):
        load_service(copy, "diabetes", "production", tmp_path)
