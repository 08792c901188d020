"""Fixtures shared by all tests (and by several test directories)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
