"""Registry test helpers (import as ``from tests.registry.kit import ...``): stand-in bundles and actors.

A stand-in bundle is two small files, enough for everything the registry does with a bundle (copy it,
digest it, keep it immutable); tests that load or serve a model use a real one.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from mlspec.registry.base import Actor, Candidate
from mlspec.runtime.hashing import file_digest, manifest, outputs_fingerprint
from mlspec.store import ENDPOINT_VAR, Store, StoreConfig
from mlspec.store.url import parse

CI = Actor("alice", "gitlab", "0123456789abcdef0123456789abcdef01234567", "main",
           "https://gitlab.example.com/group/project/-/jobs/42")
LOCAL = Actor("bob@example.com", "local", "fedcba9876543210fedcba9876543210fedcba98", "feature")


def bundle_dir(root: Path, content: str) -> Path:
    """A stand-in ``train:<model>`` output directory whose digest depends on ``content``."""
    folder = root / f"bundle-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    (folder / "model.skops").write_bytes(f"model {content}".encode())
    (folder / "metadata.json").write_text('{"estimator": "sklearn.linear_model.Ridge"}\n')
    (folder / "_run").mkdir()
    (folder / "_run" / "training.json").write_text("{}\n")  # run facts: never part of the digest
    return folder


def candidate(root: Path, content: str, verdict: str = "pass", trained: str = "ridge",
              metrics: dict[str, Any] | None = None) -> Candidate:
    folder = bundle_dir(root, content)
    digest = outputs_fingerprint(manifest(folder, file_digest) or {})
    provenance = {"model": "m", "trained_model": trained, "estimator": "sklearn.linear_model.Ridge",
                  "bundle_digest": digest, "gate": {"verdict": verdict, "gates": []}, "input": {"features": []}}
    return Candidate(folder, digest, trained, {"verdict": verdict, "model": trained, "model_digest": digest},
                     metrics or {"r2": 0.5}, provenance)


def unique_model() -> str:
    """A model name no other test uses (tests share one MLflow server)."""
    return f"t-{uuid.uuid4().hex[:12]}"


def store_of(url: str) -> Store:
    """The store at ``url``, its endpoint (S3) from ``MLSPEC_STORE_ENDPOINT_URL``, as ``open_store`` would."""
    return Store(StoreConfig(parse(url), os.environ.get(ENDPOINT_VAR) or None, named_by="MLSPEC_STORE"))
