"""The shared store: what CI runners and laptops must share, kept where a thrown-away runner cannot lose it.

A hosted CI runner's disk is deleted after every job, so stage outputs, data snapshots, the registry and run
records live in a store that outlives it: a bucket or a directory named by ``store.url`` (or
``MLSPEC_STORE``), reached through fsspec and the filesystem packages the clouds maintain (s3fs, gcsfs, adlfs,
sshfs). Without a store, mlspec keeps everything in the workspace as before.

Layout under the store's URL::

    mlspec-store.json                       {"format": 1}: marks the prefix as an mlspec store
    objects/sha256/<2 hex>/<62 hex>         content-addressed blobs, immutable, named by the lock's digests
    runs/<kind>/<name or _>/<64 hex>.json   the run cache: a stage's lock entry, by its fingerprint
    registry/                               the registry, when it lives in the store
    tmp/                                    uploads in progress, on filesystems without atomic uploads

Atomicity, per filesystem (what lets a reader never see half an object):

* object stores (S3, GCS, Azure Blob) make an upload visible only once it is complete, multipart ones
  included, so objects are written in place;
* a directory or an SFTP server shows a file while it is written, so uploads go to ``tmp/`` under mlspec's
  own temporary names and are renamed into place.

The one conditional write (:meth:`Store.create`: create a key only if it does not exist) is what makes the
registry and the run records safe with several writers: S3's ``If-None-Match: *``, GCS's
``ifGenerationMatch=0``, Azure's ``If-None-Match: *``, ``link(2)`` of a complete temporary file for a directory
and, through OpenSSH's ``hardlink@openssh.com``, for an SFTP server (both fail on an existing name); see
:mod:`mlspec.store.backend`.

This package imports no filesystem library at module level: ``mlspec validate`` and ``compile`` stay light.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlspec.errors import MlspecError
from mlspec.store.base import DIGEST_PREFIX, ENDPOINT_VAR, ENV_VAR, MARKER, StoreConfig, StoreError
from mlspec.store.url import StoreUrl, StoreUrlError, parse

__all__ = ["DIGEST_PREFIX", "ENDPOINT_VAR", "ENV_VAR", "MARKER", "Store", "StoreConfig", "StoreError", "config",
           "digest_of_key", "object_key", "open_store"]

if TYPE_CHECKING:
    from mlspec.load import Loaded
    from mlspec.store.backend import Backend

def config(loaded: Loaded, environ: Mapping[str, str] = os.environ) -> StoreConfig | None:
    """The store settings of ``loaded``'s spec and the environment; None when there is no store."""
    settings = loaded.spec.store
    override = environ.get(ENV_VAR, "").strip()
    if not override and settings is None:
        return None
    if override:
        text = override
    else:
        assert settings is not None
        text = settings.url
    try:
        url = parse(text)
    except StoreUrlError as exc:
        raise MlspecError(f"{ENV_VAR}: {exc}") from None  # the spec's own URL was checked by validate
    if url.kind == "file" and not Path(url.prefix).is_absolute():
        # A relative directory is relative to mlspec.yaml, as every path of the spec; MLSPEC_STORE's to the cwd.
        base = Path.cwd() if override else loaded.root
        url = StoreUrl("file", "", str((base / url.prefix).absolute()), text=text)
    endpoint = environ.get(ENDPOINT_VAR, "").strip() or (settings.endpoint_url if settings else None)
    return StoreConfig(
        url, endpoint,
        run_cache=settings.run_cache if settings else True,
        push=settings.push if settings else True,
        named_by=ENV_VAR if override else "store.url",
    )


def open_store(loaded: Loaded, environ: Mapping[str, str] = os.environ) -> Store | None:
    """The store of ``loaded``'s spec (``store.url`` or ``MLSPEC_STORE``), or None when there is none.

    Opening connects to nothing: the first request does, and its failure is a :class:`StoreError`.
    """
    settings = config(loaded, environ)
    return None if settings is None else Store(settings)


def object_key(digest: str) -> str:
    """The key of the blob with ``digest`` (``sha256:<hex>``): ``objects/sha256/ab/cdef...``."""
    if not digest.startswith(DIGEST_PREFIX) or len(digest) != len(DIGEST_PREFIX) + 64:
        raise ValueError(f"not a sha256 digest: {digest!r}")
    hexpart = digest[len(DIGEST_PREFIX):]
    return f"objects/sha256/{hexpart[:2]}/{hexpart[2:]}"


def digest_of_key(key: str) -> str | None:
    """The digest an object key stands for, or None if ``key`` is not an object's."""
    parts = key.split("/")
    if len(parts) != 4 or parts[:2] != ["objects", "sha256"] or len(parts[2]) != 2 or len(parts[3]) != 62:
        return None
    hexpart = parts[2] + parts[3]
    return DIGEST_PREFIX + hexpart if all(c in "0123456789abcdef" for c in hexpart) else None


@dataclass
class Store:
    """One store; every method raises :class:`StoreError` for what the service refuses or cannot answer."""

    settings: StoreConfig
    _backend: Backend | None = field(default=None, repr=False)

    @property
    def location(self) -> str:
        """The store's URL as written (it holds no credentials: the spec's validator refuses them)."""
        return self.settings.url.text

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            from mlspec.store.backend import open_backend

            self._backend = open_backend(self.settings)
        return self._backend

    # --- content-addressed objects -------------------------------------------------------------------------

    def has(self, digest: str) -> bool:
        return self.backend.exists(object_key(digest))

    def missing(self, digests: Iterable[str]) -> list[str]:
        """The digests of ``digests`` the store lacks, in their order (duplicates once): batched lookups."""
        wanted = list(dict.fromkeys(digests))
        present = self.backend.existing([object_key(d) for d in wanted])
        return [d for d in wanted if object_key(d) not in present]

    def put_file(self, path: Path, digest: str, progress: bool = True) -> bool:
        """Upload ``path`` as the object ``digest``; False when the store has it already (nothing sent).

        The caller computed ``digest`` from the file (the lock's digest); the store does not trust it blindly:
        every reader verifies what it downloads (:meth:`get_file`).
        """
        return self.put_many([(path, digest)], progress) == 1

    def get_file(self, digest: str, dest: Path, progress: bool = True) -> None:
        """Download the object ``digest`` to ``dest``: into a temporary name beside it, verified, then renamed.

        An object whose bytes do not match its name (corrupted, or written by someone who could rewrite the
        bucket) is refused and ``dest`` is left as it was.
        """
        self.get_many([(digest, dest)], progress)

    def put_many(self, items: Sequence[tuple[Path, str]], progress: bool = True) -> int:
        """Upload each ``(path, digest)`` the store lacks; the number uploaded.

        One batch of lookups finds what is missing, then several uploads run at once (and a large file's parts
        concurrently); with ``progress``, files from 64 MiB up print a line per tenth on stderr.
        """
        paths = {digest: path for path, digest in items}
        todo = self.missing(paths)
        self.backend.upload_many([(paths[d], object_key(d)) for d in todo], progress)
        return len(todo)

    def get_many(self, items: Sequence[tuple[str, Path]], progress: bool = True) -> None:
        """Download each ``(digest, dest)``, several at once, each verified as :meth:`get_file` says.

        Every object is downloaded to a temporary name beside its ``dest`` and renamed only once its digest
        is checked: a ``dest`` whose object fails the check (or never arrives) is left as it was.
        """
        from concurrent.futures import ThreadPoolExecutor

        from mlspec.fsutil import own_name

        staged: list[tuple[str, Path, Path]] = []
        for digest, dest in items:
            object_key(digest)  # a bad digest fails before anything is fetched
            dest.parent.mkdir(parents=True, exist_ok=True)
            staged.append((digest, dest, dest.parent / own_name("download")))
        try:
            self.backend.download_many([(object_key(d), tmp, dest.name) for d, dest, tmp in staged], progress)
            # sha256 releases the GIL on large buffers: two files hash at once on two cores.
            with ThreadPoolExecutor(2) as pool:
                verdicts = list(pool.map(lambda s: self._verify(s[0], s[2]), staged))
            for (_, dest, tmp), problem in zip(staged, verdicts, strict=True):
                if problem is None:
                    os.replace(tmp, dest)
            problems = [p for p in verdicts if p]
            if problems:
                raise StoreError(problems[0])
        finally:
            for _, _, tmp in staged:
                tmp.unlink(missing_ok=True)

    def _verify(self, digest: str, tmp: Path) -> str | None:
        from mlspec.runtime.hashing import file_digest

        got = file_digest(tmp)
        if got == digest:
            return None
        return (f"store {self.location}: object {object_key(digest)} holds {got}, not {digest}: it was changed or "
                f"corrupted after it was written; delete it there and push it again")

    def clear_tmp(self, age: float) -> int:
        """Remove what writers killed ``age`` seconds ago or more left (see :meth:`Backend.clear_tmp`)."""
        return self.backend.clear_tmp(age)

    # --- small keyed files (markers, run records, registry state) ------------------------------------------

    def read(self, key: str) -> bytes | None:
        """The bytes at ``key``; None when there is no such key."""
        return self.backend.read(key)

    def create(self, key: str, data: bytes) -> bool:
        """Write ``data`` at ``key`` only if ``key`` does not exist, atomically; False when it exists.

        Two writers racing for one key: exactly one gets True. This is the store's only conditional write.
        """
        return self.backend.create(key, data)

    def replace(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key`` whether or not it exists; readers see the old bytes or the new ones."""
        self.backend.replace(key, data)

    def list(self, prefix: str) -> list[str]:
        """Every key below ``prefix`` (``runs/``), sorted; empty when there is none."""
        return self.backend.list(prefix)

    def delete(self, key: str) -> None:
        self.backend.delete(key)

    def ensure_marker(self) -> None:
        """Mark the store as mlspec's on first write (a ``create``, so two first writers agree)."""
        if self.read(MARKER) is None:
            self.create(MARKER, b'{"format": 1}\n')
