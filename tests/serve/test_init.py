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
from mlspec.registry.base import Candidate
from mlspec.registry.integrity import KEY_VAR
from mlspec.runtime.hashing import file_digest, manifest, outputs_fingerprint
from mlspec.serve import load_service
from tests.runtime import crafted
from tests.serve.models import BY, register, train_diabetes
from tests.store.conftest import StoreServer, new_bucket, s3_server

__all__ = ["s3_server"]  # moto's S3 server, a fixture of these tests too
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


def test_the_specs_serving_section_makes_serve_reject_unseen_categories(models: FileRegistry,
                                                                        tmp_path: Path) -> None:
    (tmp_path / "mlspec.yaml").write_text(
        "version: 1\nproject: shop\ntask: binary\n"
        "data:\n  target: label\n  sources:\n    train: {path: train.csv}\n    holdout: {path: holdout.csv}\n"
        "training:\n  models:\n    m: {estimator: sklearn.linear_model.LogisticRegression, data: train}\n"
        "evaluation: {data: holdout, metrics: [accuracy]}\n"
        "serving: {unseen_categories: reject}\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlspec", "serve", "--registry", str(models.root), "--port", "0"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(_first_line(proc, 60).split("http://127.0.0.1:")[1].split()[0])
        row = {"size": 5.0, "color": "purple", "grade": 2, "fresh": True}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/predict", json.dumps({"rows": [row]}), {"Content-Type": "application/json"})
        answer = conn.getresponse()
        body = json.loads(answer.read())
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert answer.status == 422
    assert body["error"]["details"] == [{"row": 0, "column": "color", "value": "purple",
                                         "error": "'purple' was never seen in training (seen: 'blue', 'green', "
                                                  "'red')"}]


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
    with pytest.raises(RegistryError) as err:
        load_service(copy, "diabetes", "production", tmp_path)
    assert str(err.value) == (
        f"version 1 of 'diabetes' ({copy.root / 'diabetes/versions/1'}): bundle/model.skops changed after it was "
        "registered (the digests differ from the registry's record); refusing to use it. Register the model again "
        "(`mlspec deploy`) rather than editing a version")


def _register_crafted(root: Path, tmp_path: Path, marker: Path, key: bytes | None = None) -> None:
    """A version whose model file runs code when built, registered as if its gate had passed."""
    folder = crafted.write_bundle(tmp_path / "crafted", marker, "numpy.X")
    digest = outputs_fingerprint(manifest(folder, file_digest) or {})
    prov = {"model": "evil", "trained_model": "m", "estimator": "numpy.X", "input": {"features": []}}
    registry = FileRegistry(root, key=key)
    version, _ = registry.register("evil", Candidate(folder, digest, "m", {"verdict": "pass"}, {}, prov), BY)
    registry.promote("evil", "production", version.number, BY)


def test_serve_refuses_a_crafted_model_file_and_runs_none_of_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    _register_crafted(tmp_path / "registry", tmp_path, marker)
    done = run_mlspec("serve", "--registry", str(tmp_path / "registry"), "--model", "evil", "--port", "0",
                      cwd=tmp_path)
    model_file = tmp_path / "registry/evil/versions/1/bundle/model.skops"
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"error: {model_file}: refusing to load a model file that holds types outside mlspec's reviewed allowlist "
        f"(mlspec.runtime.trusted_types) and training.trust: {crafted.RUNSTRING}. If this model is yours and you "
        "trust the code of these types, list them in training.trust of mlspec.yaml; otherwise the file was altered "
        "or made by other means: retrain it (`mlspec run`) from a spec you trust.\n")
    assert not marker.exists()


def test_serve_with_a_signing_key_refuses_an_unsigned_version(models: FileRegistry, tmp_path: Path) -> None:
    env = {KEY_VAR: "a-signing-key-of-the-deploy-jobs"}
    done = run_mlspec("serve", "--registry", str(models.root), "--model", "diabetes", "--port", "0", cwd=tmp_path,
                      env=env)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"error: version 1 of 'diabetes' ({models.root / 'diabetes/versions/1'}) is not signed, and {KEY_VAR} is "
        "set: only versions registered with the signing key are used; register it again from a job that has the "
        "key\n")


def test_serve_with_the_signing_key_serves_a_signed_version(models: FileRegistry, tmp_path: Path) -> None:
    key = "a-signing-key-of-the-deploy-jobs"
    signed = FileRegistry(tmp_path / "signed", key=key.encode())
    register(signed, "diabetes", train_diabetes(tmp_path / "bundle"))
    assert load_service(signed, "diabetes", "production", tmp_path).info["version"] == 1
    other = FileRegistry(signed.root, key=b"another-key-0123456789")
    with pytest.raises(RegistryError, match="its signature does not match MLSPEC_SIGNING_KEY"):
        load_service(other, "diabetes", "production", tmp_path)


def test_serve_a_version_from_the_registry_in_a_store(s3_server: StoreServer, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A serving host with no spec: the version is downloaded from the bucket into scratch, checked, served."""
    from mlspec.registry.storestore import StoreRegistry
    from mlspec.store import object_key
    from tests.registry.kit import store_of

    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    url = new_bucket(s3_server)
    registry = StoreRegistry(store_of(url))
    register(registry, "diabetes", train_diabetes(tmp_path / "bundle"))  # type: ignore[arg-type]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlspec", "serve", "--registry", url, "--model", "diabetes", "--port", "0"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = _first_line(proc, 120)
        assert line.startswith("serving 'diabetes' version 1 (m, gate pass) on http://127.0.0.1:")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0
    (event,) = registry.history("diabetes")[:1]
    record = json.loads(registry.store.read(f"registry/diabetes/versions/{event.manifest.removeprefix('sha256:')}"
                                            ".json") or b"")
    registry.store.replace(object_key(record["files"]["bundle/model.skops"]), b"not the registered model")
    done = run_mlspec("serve", "--registry", url, "--model", "diabetes", "--port", "0", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (f"error: version 1 of 'diabetes' ({url}/registry): bundle/model.skops changed after it "
                           "was registered (the digests differ from the registry's record); refusing to use it. "
                           "Register the model again (`mlspec deploy`) rather than editing a version\n")
