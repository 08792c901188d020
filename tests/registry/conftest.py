"""Fixtures of the registry tests: a real MLflow tracking server, and each backend behind one fixture."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlspec.registry import FileRegistry, Registry
from mlspec.registry.storestore import StoreRegistry
from tests.registry.kit import store_of
from tests.servers import free_port, stop
from tests.store.conftest import StoreServer, azurite, new_bucket, s3_server
from tests.support import tool

__all__ = ["azurite", "s3_server"]  # the store tests' servers, as fixtures of these tests too

# MLflow reports usage to its makers unless told not to; tests talk to nothing but loopback.
QUIET_MLFLOW = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
                "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
START_SECONDS = 240.0  # the server creates its SQLite schema first: tens of seconds on a busy 2-core machine




@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mlflow server`` on 127.0.0.1 with a SQLite store and local artifacts; its URI. Stopped at the end."""
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | QUIET_MLFLOW
    log = open(root / "server.log", "wb")  # noqa: SIM115  # closed below, after the server has stopped
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




@pytest.fixture
def quiet_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in QUIET_MLFLOW.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(params=["file", "mlflow", "store-file", "store-s3", "store-az"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    """Each backend in turn, empty (MLflow: shared server, so every test uses its own model names; the store
    registry on a directory, on moto's S3 server and on Azurite, each in a fresh bucket)."""
    if request.param == "file":
        return FileRegistry(tmp_path / "registry")
    if request.param.startswith("store-"):
        return StoreRegistry(store_of(request.getfixturevalue("store_url")))
    request.getfixturevalue("quiet_mlflow")
    from mlspec.registry.mlflowstore import MlflowRegistry

    return MlflowRegistry(request.getfixturevalue("mlflow_server"))


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh store of the kind the test's parameter names (``file``, ``s3``, ``az``; or the ``registry``
    fixture's ``store-s3``...), its credentials and endpoint in the environment (as a CI job's variables
    would be); its URL."""
    kind = str(getattr(request, "param", None) or request.node.callspec.params["registry"]).removeprefix("store-")
    for var in ("MLSPEC_STORE", "MLSPEC_STORE_ENDPOINT_URL", "AZURE_STORAGE_CONNECTION_STRING"):
        monkeypatch.delenv(var, raising=False)
    if kind == "file":
        return f"file://{tmp_path / 'store'}"
    server: StoreServer = request.getfixturevalue("s3_server" if kind == "s3" else "azurite")
    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    return new_bucket(server)
