"""Fixtures of the serving tests: a registry with real models, and services on 127.0.0.1 over real HTTP."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlspec.registry import FileRegistry
from mlspec.serve import Limits, Service, bind, create_app, load_service
from tests.serve.models import registry_with_models

LIMITS = Limits(max_body_bytes=32 * 1024, max_rows=500)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Client:
    host: str
    port: int
    service: Service

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            answer = conn.getresponse()
            raw = answer.read()
        finally:
            conn.close()
        return Answer(answer.status, json.loads(raw) if raw else None, {k.lower(): v for k, v in answer.getheaders()})

    def predict(self, document: Any, path: str = "/predict") -> Answer:
        return self.request("POST", path, json.dumps(document).encode(), {"Content-Type": "application/json"})


@contextmanager
def running(service: Service, limits: Limits = LIMITS) -> Iterator[Client]:
    """The app under uvicorn in a thread, on a free loopback port; stopped on exit."""
    import uvicorn

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(service, limits), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        yield Client("127.0.0.1", sock.getsockname()[1], service)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        assert not thread.is_alive(), "the server did not stop"


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> FileRegistry:
    return registry_with_models(tmp_path_factory.mktemp("registry") / "registry")


@pytest.fixture(scope="module")
def regressor(models: FileRegistry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with running(load_service(models, "diabetes", "production", tmp_path_factory.mktemp("scratch"))) as client:
        yield client


@pytest.fixture(scope="module")
def classifier(models: FileRegistry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with running(load_service(models, "shop", "production", tmp_path_factory.mktemp("scratch"))) as client:
        yield client


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path
