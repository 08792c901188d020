"""Fixtures of the registry tests: each backend behind one fixture (MLflow's server: tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec.registry import FileRegistry, Registry
from mlspec.registry.storestore import StoreRegistry
from tests.registry.kit import store_of
from tests.store.conftest import StoreServer, azurite, new_bucket, s3_server

__all__ = ["azurite", "s3_server"]  # the store tests' servers, as fixtures of these tests too


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
