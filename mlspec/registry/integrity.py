"""Whether a registry version is still what was registered: a manifest digest, and an optional keyed MAC.

A version's **manifest** is its record (number, bundle digest, gate verdict, who/when) together with the
digest of every one of its files: the bundle (``model.skops``, ``metadata.json``, ``reference.json``), the
gate's ``verdict.json``, metrics, provenance and model card. Its digest is written into the ``register``
event of the registry's append-only history, apart from the files it protects, and every use of the version
(promote, rollback, deploy, serve, ``registry show --card``) recomputes it first and refuses a version whose
files changed, naming the file.

Without a key, this catches accidents and partial tampering: someone who can rewrite the version *and* the
history can make them agree again. What prevents code execution from a crafted model file regardless is the
exact-type allowlist of :mod:`mlspec.runtime.trusted_types`. With ``MLSPEC_SIGNING_KEY`` set (a CI secret
given only to the jobs that register and deploy, and to the serving host), ``register`` also stores an
HMAC-SHA256 of the manifest digest with the version, and every use refuses a version that is unsigned or
signed with another key: writing to the registry is then not enough to get a model served.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

from mlspec.registry.base import RegistryError
from mlspec.runtime.hashing import fingerprint

KEY_VAR = "MLSPEC_SIGNING_KEY"
MIN_KEY_BYTES = 16
ALGORITHM = "hmac-sha256"


def signing_key(environ: Mapping[str, str] = os.environ) -> bytes | None:
    """The key in ``MLSPEC_SIGNING_KEY``, or None when it is unset (or empty: an undefined CI secret)."""
    text = environ.get(KEY_VAR) or ""
    if not text:
        return None
    key = text.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise RegistryError(f"{KEY_VAR} is {len(key)} bytes long; use a random secret of at least "
                            f"{MIN_KEY_BYTES} bytes (e.g. `openssl rand -hex 32`)")
    return key


def manifest_digest(record: Mapping[str, Any]) -> str:
    """The digest of a version's manifest (its record, which lists the digest of every file)."""
    return fingerprint({k: v for k, v in record.items() if k != "signature"})


def sign(key: bytes, digest: str) -> dict[str, str]:
    return {"alg": ALGORITHM, "mac": hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()}


def changed_files(recorded: Mapping[str, str], actual: Mapping[str, str]) -> list[str]:
    """Files added, removed or changed between two ``{path: digest}`` manifests."""
    return sorted(k for k in recorded.keys() | actual.keys() if recorded.get(k) != actual.get(k))


def check(what: str, record_name: str, record: Mapping[str, Any], files: Mapping[str, str], anchored: str | None,
          key: bytes | None) -> None:
    """Refuse ``what`` (e.g. "version 3 of 'shop'") unless its files, record and signature are intact.

    ``record`` is the version's record (``record_name`` says where it is kept, for messages), with ``files``:
    the digests taken at registration; ``files`` the
    digests of its files now, ``anchored`` the manifest digest the history recorded (None for a version
    registered before mlspec recorded one).
    """
    recorded = record.get("files")
    if not isinstance(recorded, dict):
        raise RegistryError(f"{what}: its record lists no file digests; refusing to use it")
    changed = changed_files(recorded, files)
    if changed:
        raise RegistryError(f"{what}: {', '.join(changed)} changed after it was registered (the digests differ "
                            "from the registry's record); refusing to use it. Register the model again "
                            "(`mlspec deploy`) rather than editing a version")
    digest = manifest_digest(record)
    if anchored is not None and not hmac.compare_digest(anchored, digest):
        raise RegistryError(f"{what}: {record_name} changed after it was registered (manifest {digest}, the "
                            f"registry's history recorded {anchored}); refusing to use it")
    if key is None:
        return
    signature = record.get("signature")
    if not isinstance(signature, dict) or "mac" not in signature:
        raise RegistryError(f"{what} is not signed, and {KEY_VAR} is set: only versions registered with the "
                            "signing key are used; register it again from a job that has the key")
    expected = sign(key, digest)["mac"]
    if signature.get("alg") != ALGORITHM or not hmac.compare_digest(str(signature["mac"]), expected):
        raise RegistryError(f"{what}: its signature does not match {KEY_VAR} (signed with another key, or its "
                            "record was altered); refusing to use it")
