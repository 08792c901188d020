"""Which registry a spec uses: the file registry by default, the store's when the spec has a store, and the
one ``--registry`` names; the CI warning only for a file registry in the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec.load import Loaded, load_text
from mlspec.registry import FileRegistry, RegistryError, backend, named_registry, open_registry, registry_warning
from mlspec.registry.storestore import StoreRegistry
from tests.support import EXAMPLES

SPEC = (EXAMPLES / "diabetes" / "mlspec.yaml").read_text()
CI = {"CI": "true", "GITLAB_CI": "true"}


def _loaded(tmp_path: Path, extra: str = "") -> Loaded:
    return load_text(SPEC + extra, str(tmp_path / "mlspec.yaml"), tmp_path / "mlspec.yaml")


@pytest.mark.parametrize(("extra", "chosen"), [
    ("", "file"),
    ("store: {url: s3://bucket/ml}\n", "store"),
    ("store: {url: s3://bucket/ml}\nregistry: {backend: file}\n", "file"),  # written: as written
    ("store: {url: s3://bucket/ml}\nregistry: {path: elsewhere}\n", "store"),  # a path alone chooses nothing
    ("registry: {backend: store}\n", "store"),
    ("store: {url: s3://bucket/ml}\nregistry: {backend: mlflow}\n", "mlflow"),
])
def test_the_backend_a_spec_uses(tmp_path: Path, extra: str, chosen: str) -> None:
    loaded = _loaded(tmp_path, extra)
    assert backend(loaded) == chosen
    assert loaded.spec.registry.model_dump()["backend"] in ("file", "mlflow", "store")


def test_the_spec_dump_is_unchanged_without_a_backend(tmp_path: Path) -> None:
    # The dump is the spec's fingerprint in provenance and stage records: a store does not change it.
    assert _loaded(tmp_path).spec.registry.model_dump() == {"backend": "file", "path": ".mlspec/registry"}
    assert _loaded(tmp_path, "store: {url: s3://bucket/ml}\n").spec.registry.model_dump() == {
        "backend": "file", "path": ".mlspec/registry"}


def test_open_registry(tmp_path: Path) -> None:
    default = open_registry(_loaded(tmp_path), {})
    assert isinstance(default, FileRegistry) and default.root == tmp_path / ".mlspec/registry"
    stored = open_registry(_loaded(tmp_path, "store: {url: shared}\n"), {})
    assert isinstance(stored, StoreRegistry)
    assert stored.location == "shared/registry"
    assert stored.store.settings.url.prefix == str(tmp_path / "shared")
    env = open_registry(_loaded(tmp_path, "registry: {backend: store}\n"), {"MLSPEC_STORE": "s3://bucket/ml"})
    assert isinstance(env, StoreRegistry) and env.location == "s3://bucket/ml/registry"
    keyed = open_registry(_loaded(tmp_path, "store: {url: shared}\n"), {"MLSPEC_SIGNING_KEY": "k" * 16})
    assert isinstance(keyed, StoreRegistry) and keyed.key == b"k" * 16


def test_a_store_backend_needs_a_store(tmp_path: Path) -> None:
    with pytest.raises(RegistryError) as caught:
        open_registry(_loaded(tmp_path, "registry: {backend: store}\n"), {})
    assert str(caught.value) == ("registry.backend is store, but there is no store: add a store section to the spec "
                                 "(store.url) or set MLSPEC_STORE")


def test_only_a_file_registry_in_the_checkout_is_warned_about(tmp_path: Path) -> None:
    warning = registry_warning(_loaded(tmp_path), CI)
    assert warning is not None and warning.startswith("warning: the file registry ")
    assert registry_warning(_loaded(tmp_path), {}) is None  # not in CI
    assert registry_warning(_loaded(tmp_path, "store: {url: shared}\n"), CI) is None  # inside, but a store's
    assert registry_warning(_loaded(tmp_path, "store: {url: s3://bucket/ml}\n"), CI) is None


def test_the_registry_a_command_line_names(tmp_path: Path) -> None:
    directory = named_registry(str(tmp_path / "reg"), {})
    assert isinstance(directory, FileRegistry) and directory.root == tmp_path / "reg"
    stored = named_registry("s3://bucket/ml", {"MLSPEC_STORE_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert isinstance(stored, StoreRegistry)
    assert (stored.location, stored.store.settings.endpoint_url, stored.store.settings.named_by) == (
        "s3://bucket/ml/registry", "http://127.0.0.1:9", "--registry")
    with pytest.raises(RegistryError) as caught:
        named_registry("ftp://host/path", {})
    assert str(caught.value) == ("--registry: 'ftp://host/path': unknown store scheme 'ftp'; use one of az://, gs://, "
                                 "s3://, sftp://, file:// or a directory")
