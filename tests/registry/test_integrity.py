"""A version changed after registration is never promoted, rolled back to or served; with a signing key,
neither is an unsigned version or one signed with another key.

Each test runs against the file registry and a real MLflow server; tampering goes through the same doors an
attacker with write access has: the version's files (file registry), the run's artifacts and the version's
tags (MLflow).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from mlspec.registry import FileRegistry, Registry, RegistryError
from mlspec.registry.integrity import KEY_VAR, signing_key
from mlspec.registry.storestore import StoreRegistry
from mlspec.store import object_key
from tests.registry.kit import CI, candidate, unique_model

KEY = b"0123456789abcdef-test-key"
OTHER_KEY = b"fedcba9876543210-other-key"
FILES = ["bundle/model.skops", "bundle/metadata.json", "verdict.json"]


def _keyed(registry: Registry, key: bytes | None) -> Registry:
    """The same registry, opened with ``key`` (as a job with MLSPEC_SIGNING_KEY set would open it)."""
    if isinstance(registry, FileRegistry):
        return FileRegistry(registry.root, key=key)
    if isinstance(registry, StoreRegistry):
        return StoreRegistry(registry.store, key=key)
    from mlspec.registry.mlflowstore import MlflowRegistry

    assert isinstance(registry, MlflowRegistry)
    return MlflowRegistry(registry.tracking_uri, key=key)


def _overwrite(registry: Registry, model: str, number: int, rel: str, data: bytes) -> None:
    if isinstance(registry, FileRegistry):
        path = registry.root / model / "versions" / str(number) / rel
        path.chmod(0o644)
        path.write_bytes(data)
        return
    if isinstance(registry, StoreRegistry):  # the object in the bucket, as anyone who can write there could
        registry.store.replace(object_key(_record(registry, model, number)["files"][rel]), data)
        return
    from mlspec.registry.mlflowstore import ARTIFACTS, MlflowRegistry

    assert isinstance(registry, MlflowRegistry)
    run_id = registry.client.get_model_version(model, str(number)).run_id
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / Path(rel).name
        local.write_bytes(data)
        registry.client.log_artifact(run_id, str(local), f"{ARTIFACTS}/{Path(rel).parent}".rstrip("/."))


def _pass_the_failed_gate(registry: Registry, model: str, number: int) -> None:
    """Rewrite the version's own record of its gate verdict from fail to pass."""
    if isinstance(registry, FileRegistry):
        path = registry.root / model / "versions" / str(number) / "version.json"
        record = json.loads(path.read_text())
        path.chmod(0o644)
        path.write_text(json.dumps({**record, "verdict": "pass"}))
        return
    if isinstance(registry, StoreRegistry):
        record = _record(registry, model, number)
        registry.store.replace(_record_key(registry, model, number), json.dumps({**record, "verdict": "pass"}).encode())
        return
    registry.client.set_model_version_tag(model, str(number), "mlspec.verdict", "pass")  # type: ignore[attr-defined]


def _record_key(registry: StoreRegistry, model: str, number: int) -> str:
    manifest = next(e.manifest for e in registry.history(model) if e.kind == "register" and e.version == number)
    assert manifest is not None
    return f"registry/{model}/versions/{manifest.removeprefix('sha256:')}.json"


def _record(registry: StoreRegistry, model: str, number: int) -> dict[str, Any]:
    data = registry.store.read(_record_key(registry, model, number))
    assert data is not None
    record: dict[str, Any] = json.loads(data)
    return record


def _shared(registry: Registry, model: str, rel: str) -> bool:
    """Whether versions 1 and 2 hold ``rel`` as one object (content-addressed: the store registry only)."""
    return isinstance(registry, StoreRegistry) and len({_record(registry, model, n)["files"][rel] for n in (1, 2)}) == 1


def _where(registry: Registry, model: str, number: int) -> str:
    if isinstance(registry, FileRegistry):
        return f"version {number} of {model!r} ({registry.root / model / 'versions' / str(number)})"
    if isinstance(registry, StoreRegistry):
        return f"version {number} of {model!r} ({registry.location})"
    return f"version {number} of {model!r} (MLflow {registry.location})"


@pytest.mark.parametrize("key", [None, KEY], ids=["unsigned", "signed"])
@pytest.mark.parametrize("rel", FILES)
def test_a_changed_file_is_refused(registry: Registry, tmp_path: Path, rel: str, key: bytes | None) -> None:
    registry = _keyed(registry, key)
    model = unique_model()
    registry.register(model, candidate(tmp_path, "a"), CI)
    registry.register(model, candidate(tmp_path, "b"), CI)
    registry.promote(model, "production", 1, CI)
    registry.promote(model, "production", 2, CI)
    _overwrite(registry, model, 1, rel, b'{"verdict": "pass"}\n')
    registry = _keyed(registry, key)  # used by a later job (the store registry trusts what it uploaded itself)
    message = (f"{_where(registry, model, 1)}: {rel} changed after it was registered (the digests differ from the "
               "registry's record); refusing to use it. Register the model again (`mlspec deploy`) rather than "
               "editing a version")
    for attempt in (lambda: registry.promote(model, "staging", 1, CI),
                    lambda: registry.rollback(model, "production", CI),
                    lambda: registry.files(model, 1, tmp_path / "scratch")):
        with pytest.raises(RegistryError) as err:
            attempt()
        assert str(err.value) == message
    assert registry.aliases(model) == {"production": 2}  # nothing moved
    if _shared(registry, model, rel):  # one object in both versions: changing it changed both
        with pytest.raises(RegistryError, match=f"version 2 of {model!r} .*: {rel} changed after"):
            registry.files(model, 2, tmp_path / "scratch")
    else:
        registry.promote(model, "staging", 2, CI)  # the untouched version is still usable


@pytest.mark.parametrize("key", [None, KEY], ids=["unsigned", "signed"])
def test_a_failed_gate_rewritten_as_passed_is_refused(registry: Registry, tmp_path: Path, key: bytes | None) -> None:
    registry = _keyed(registry, key)
    model = unique_model()
    registry.register(model, candidate(tmp_path, "a", verdict="fail"), CI)
    _pass_the_failed_gate(registry, model, 1)
    registry = _keyed(registry, key)  # read by a later job (the store registry keeps records it read intact)
    assert registry.get(model, 1).verdict == "pass"  # the record now claims it passed
    with pytest.raises(RegistryError) as err:
        registry.promote(model, "production", 1, CI)
    record = ("version.json" if isinstance(registry, FileRegistry) else _record_key(registry, model, 1)
              if isinstance(registry, StoreRegistry) else "its mlspec tags")
    assert str(err.value).startswith(f"{_where(registry, model, 1)}: {record} changed after it was registered "
                                     "(manifest sha256:")
    assert registry.aliases(model) == {}


def test_with_a_key_only_versions_signed_with_it_are_used(registry: Registry, tmp_path: Path) -> None:
    model = unique_model()
    registry.register(model, candidate(tmp_path, "unsigned"), CI)
    _keyed(registry, OTHER_KEY).register(model, candidate(tmp_path, "other"), CI)
    signed = _keyed(registry, KEY)
    signed.register(model, candidate(tmp_path, "signed"), CI)
    for number, message in (
        (1, f"{_where(registry, model, 1)} is not signed, and {KEY_VAR} is set: only versions registered with the "
            "signing key are used; register it again from a job that has the key"),
        (2, f"{_where(registry, model, 2)}: its signature does not match {KEY_VAR} (signed with another key, or its "
            "record was altered); refusing to use it"),
    ):
        with pytest.raises(RegistryError) as err:
            signed.promote(model, "production", number, CI)
        assert str(err.value) == message
        with pytest.raises(RegistryError):
            signed.files(model, number, tmp_path / "scratch")
    assert signed.promote(model, "production", 3, CI) is not None
    # Without the key, every intact version is usable: the digests still catch changed files.
    assert registry.promote(model, "staging", 1, CI) is not None


def test_the_key_comes_from_the_environment() -> None:
    assert signing_key({}) is None
    assert signing_key({KEY_VAR: ""}) is None  # an undefined CI secret
    assert signing_key({KEY_VAR: KEY.decode()}) == KEY
    with pytest.raises(RegistryError) as err:
        signing_key({KEY_VAR: "short"})
    assert str(err.value) == (f"{KEY_VAR} is 5 bytes long; use a random secret of at least 16 bytes (e.g. "
                              "`openssl rand -hex 32`)")


def test_verify_reports_a_changed_version(tmp_path: Path) -> None:
    registry = FileRegistry(tmp_path / "registry")
    registry.register("m", candidate(tmp_path, "a"), CI)
    assert registry.verify("m") == []
    _overwrite(registry, "m", 1, "verdict.json", b"{}\n")
    assert registry.verify("m") == [
        f"{_where(registry, 'm', 1)}: verdict.json changed after it was registered (the digests differ from the "
        "registry's record); refusing to use it. Register the model again (`mlspec deploy`) rather than editing a "
        "version"]
