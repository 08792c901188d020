"""Fixtures shared by all tests (and by several test directories)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mlflowserver import QUIET_MLFLOW, running
from tests.support import EXAMPLE_NAMES, EXAMPLES


@pytest.fixture(params=EXAMPLE_NAMES)
def example(request: pytest.FixtureRequest) -> Path:
    """Each bundled example's mlspec.yaml."""
    return EXAMPLES / str(request.param) / "mlspec.yaml"


@pytest.fixture(scope="session")
def diabetes_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The diabetes example after one full `mlspec run`, gate passed (shared; the deploy and MLflow tests use
    ``project``)."""
    from tests.runtime.gatekit import build_template

    return build_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def project(diabetes_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the run diabetes project as the current directory, outside CI, default registry."""
    from tests.runtime.gatekit import CLEAN, fresh_copy

    for var in (*CLEAN, "MLSPEC_REGISTRY", "CI", "GITLAB_CI", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(var, raising=False)
    root = fresh_copy(diabetes_run, tmp_path)
    monkeypatch.chdir(root)
    return root


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mlflow server`` on 127.0.0.1 with a SQLite store and local artifacts, shared by the session; its URI."""
    with running(tmp_path_factory.mktemp("mlflow")) as uri:
        yield uri


@pytest.fixture
def quiet_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in QUIET_MLFLOW.items():
        monkeypatch.setenv(key, value)
