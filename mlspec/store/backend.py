"""One store's filesystem: fsspec and the cloud's own filesystem package, with what each guarantees.

The operations :class:`mlspec.store.Store` needs, on top of an fsspec filesystem, and the places where
filesystems differ:

* **Atomic uploads.** S3, GCS and Azure Blob show an object only once its upload completes, so uploads go
  straight to their key. A directory (``file``) and SFTP show a file while it is written, so uploads go to
  ``tmp/<mlspec temporary name>`` and are renamed into place (rename is atomic on one POSIX filesystem).
* **Create if absent** (:meth:`Backend.create`): S3 ``PutObject`` with ``If-None-Match: *`` (s3fs
  ``mode="create"``), Azure ``upload_blob(overwrite=False)`` (``If-None-Match: *``, adlfs ``overwrite=False``),
  GCS ``ifGenerationMatch=0`` (gcsfs ``mode="create"``), a directory by ``link(2)`` of a complete temporary file
  (fails on an existing name), SFTP by the protocol's plain rename, which never replaces an existing file.
* **Errors.** Each library raises its own exceptions for a service that is down or refuses credentials; they
  become one :class:`~mlspec.store.StoreError` naming the store and the variables that configure it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_bytes, own_name
from mlspec.store.base import ENDPOINT_VAR, ENV_VAR, StoreConfig, StoreError

PACKAGES = {"s3": "s3fs", "gs": "gcsfs", "az": "adlfs", "sftp": "sshfs"}
"""Filesystem kind → the PyPI package that implements it (the ``store`` extra installs them)."""
CREDENTIALS = {
    "s3": "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or a role: OIDC in CI)",
    "gs": "GOOGLE_APPLICATION_CREDENTIALS (or a workload identity: OIDC in CI)",
    "az": "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY",
    "sftp": "an SSH key or agent for the user in the URL",
    "file": "a directory this user can write",
}
# s3fs retries a refused connection for a long time by default; a store that is down should say so quickly.
_S3_CONFIG = {"connect_timeout": 10, "read_timeout": 60, "retries": {"max_attempts": 3, "mode": "standard"}}
# Bugs in mlspec or a library, never "the store is down".
_BUGS = (TypeError, AttributeError, NameError, AssertionError, ImportError)


class Backend:
    """A filesystem rooted at the store's prefix; keys are ``/``-separated and relative to it."""

    def __init__(self, settings: StoreConfig, fs: Any, root: str) -> None:
        self.settings = settings
        self.fs = fs
        self.root = root.rstrip("/")
        self.kind = settings.url.kind
        self.renames = self.kind in ("file", "sftp")
        """Whether uploads need a temporary name and a rename to be atomic."""

    def path(self, key: str) -> str:
        return f"{self.root}/{key}" if self.root else key

    # --- reads -----------------------------------------------------------------------------------------------

    def exists(self, key: str) -> bool:
        with self.errors(f"look up {key}"):
            return bool(self.fs.exists(self.path(key)))

    def read(self, key: str) -> bytes | None:
        with self.errors(f"read {key}"):
            try:
                return bytes(self.fs.cat_file(self.path(key)))
            except FileNotFoundError:
                return None

    def download(self, key: str, dest: Path, callback: Any = None) -> None:
        with self.errors(f"download {key}"):
            try:
                self.fs.get_file(self.path(key), str(dest), **_callback(callback))
            except FileNotFoundError:
                raise StoreError(f"store {self.settings.url.text} has no {key}; push it from where it was made "
                                 "(`mlspec push`), or rerun the stage that makes it") from None

    def list(self, prefix: str) -> list[str]:
        base = self.path(prefix.rstrip("/"))
        with self.errors(f"list {prefix}"):
            try:
                found = self.fs.find(base)
            except FileNotFoundError:
                return []
        root = self.root + "/" if self.root else ""
        keys = [str(p)[len(root):] if str(p).startswith(root) else str(p) for p in found]
        return sorted(k for k in keys if not k.startswith("tmp/"))

    # --- writes ----------------------------------------------------------------------------------------------

    def upload(self, local: Path, key: str, callback: Any = None) -> None:
        with self.errors(f"upload {key}"):
            if self.kind == "file":
                # Same machine: copy into tmp/ beside the destination, then rename.
                import shutil

                final = Path(self.path(key))
                final.parent.mkdir(parents=True, exist_ok=True)
                tmp = self._tmp_dir() / own_name("object")
                try:
                    shutil.copyfile(local, tmp)
                    os.replace(tmp, final)
                finally:
                    tmp.unlink(missing_ok=True)
                return
            if self.renames:
                staged = self.path(f"tmp/{own_name('object')}")
                self.fs.makedirs(self.path("tmp"), exist_ok=True)
                self.fs.makedirs(self.path(key).rsplit("/", 1)[0], exist_ok=True)
                try:
                    self.fs.put_file(str(local), staged, **_callback(callback))
                    self.fs.mv(staged, self.path(key))
                finally:
                    with contextlib.suppress(FileNotFoundError, OSError):
                        self.fs.rm_file(staged)
                return
            self.fs.put_file(str(local), self.path(key), **_callback(callback))

    def replace(self, key: str, data: bytes) -> None:
        with self.errors(f"write {key}"):
            if self.kind == "file":
                final = Path(self.path(key))
                final.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(final, data)
            elif self.renames:
                tmp = self.path(f"tmp/{own_name('write')}")
                self.fs.makedirs(self.path("tmp"), exist_ok=True)
                self.fs.makedirs(self.path(key).rsplit("/", 1)[0], exist_ok=True)
                self.fs.pipe_file(tmp, data)
                self.fs.mv(tmp, self.path(key))
            else:
                self.fs.pipe_file(self.path(key), data)

    def create(self, key: str, data: bytes) -> bool:
        with self.errors(f"create {key}"):
            try:
                self._create(key, data)
            except FileExistsError:
                return False
            return True

    def _create(self, key: str, data: bytes) -> None:
        if self.kind == "file":
            final = Path(self.path(key))
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._tmp_dir() / own_name("create")
            try:
                tmp.write_bytes(data)
                with open(tmp, "rb+") as handle:
                    os.fsync(handle.fileno())
                os.link(tmp, final)  # fails with FileExistsError on an existing name, even a racing one
            finally:
                tmp.unlink(missing_ok=True)
        elif self.kind == "sftp":
            staged = self.path(f"tmp/{own_name('create')}")
            self.fs.makedirs(self.path("tmp"), exist_ok=True)
            self.fs.makedirs(self.path(key).rsplit("/", 1)[0], exist_ok=True)
            self.fs.pipe_file(staged, data)
            try:
                _sftp_rename_no_replace(self.fs, staged, self.path(key))
            finally:
                with contextlib.suppress(FileNotFoundError, OSError):
                    self.fs.rm_file(staged)
        elif self.kind == "az":
            self.fs.pipe_file(self.path(key), data, overwrite=False)
        else:  # s3, gs
            self.fs.pipe_file(self.path(key), data, mode="create")

    def delete(self, key: str) -> None:
        with self.errors(f"delete {key}"), contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.path(key))

    def _tmp_dir(self) -> Path:
        tmp = Path(self.path("tmp"))
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp

    # --- errors ----------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def errors(self, what: str) -> Iterator[None]:
        """Turn what the filesystem library raises into a :class:`StoreError` that says what to set."""
        try:
            yield
        except (MlspecError, FileExistsError, *_BUGS):
            raise
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise StoreError(self.describe(what, exc)) from None

    def describe(self, what: str, exc: BaseException) -> str:
        url = self.settings.url
        detail = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, PermissionError) or _looks_like_auth(detail):
            fix = f"set {CREDENTIALS[url.kind]} for it"
        else:
            fix = f"check that it is reachable and that {self.settings.named_by} is right"
            if url.kind == "s3":
                fix += f" (an S3-compatible service also needs store.endpoint_url or {ENDPOINT_VAR})"
        return f"store {url.text} (from {self.settings.named_by}): cannot {what}: {detail[:300]}; {fix}"


def open_backend(settings: StoreConfig) -> Backend:
    """The filesystem of ``settings``' URL; :class:`StoreError` when its package is missing."""
    url = settings.url
    if url.kind == "file":
        from fsspec.implementations.local import LocalFileSystem

        return Backend(settings, LocalFileSystem(), url.prefix)
    package = PACKAGES[url.kind]
    try:
        fs = _filesystem(settings)
    except ImportError:
        raise StoreError(f"store {url.text}: the Python package {package!r} is not installed; "
                         f"`pip install 'mlspec-ci[store]'` installs the filesystems mlspec supports") from None
    except (ValueError, OSError) as exc:
        raise StoreError(f"store {url.text} (from {settings.named_by}): {exc}; set {CREDENTIALS[url.kind]}, "
                         f"or point {ENV_VAR} at another store") from None
    return Backend(settings, fs, url.root)


def _filesystem(settings: StoreConfig) -> Any:
    url = settings.url
    if url.kind == "s3":
        import s3fs

        client: dict[str, Any] = {}
        if settings.endpoint_url:
            client["endpoint_url"] = settings.endpoint_url
        return s3fs.S3FileSystem(client_kwargs=client, config_kwargs=_S3_CONFIG, skip_instance_cache=True)
    if url.kind == "gs":
        import gcsfs

        return gcsfs.GCSFileSystem(skip_instance_cache=True)
    if url.kind == "az":
        import adlfs

        return adlfs.AzureBlobFileSystem(skip_instance_cache=True, **_azure_options())
    import sshfs

    options: dict[str, Any] = {"host": url.bucket, "skip_instance_cache": True}
    if url.port:
        options["port"] = url.port
    if url.user:
        options["username"] = url.user
    return sshfs.SSHFileSystem(**options)


def _azure_options() -> dict[str, Any]:
    # adlfs reads the account name from the environment, but not every variable the Azure SDKs know.
    env = os.environ
    if env.get("AZURE_STORAGE_CONNECTION_STRING"):
        return {"connection_string": env["AZURE_STORAGE_CONNECTION_STRING"]}
    options: dict[str, Any] = {}
    if env.get("AZURE_STORAGE_ACCOUNT_NAME"):
        options["account_name"] = env["AZURE_STORAGE_ACCOUNT_NAME"]
    if env.get("AZURE_STORAGE_ACCOUNT_KEY"):
        options["account_key"] = env["AZURE_STORAGE_ACCOUNT_KEY"]
    if not options.get("account_key"):
        options["anon"] = False  # the default credential chain (managed identity, OIDC federation, az login)
    return options


def _sftp_rename_no_replace(fs: Any, src: str, dst: str) -> None:
    """SFTP's rename (protocol version 3, SSH_FXP_RENAME) fails when the target exists, unlike OpenSSH's
    posix-rename extension; sshfs's ``mv`` may use either, so the plain request is sent here."""
    import asyncssh
    from fsspec.asyn import sync

    async def rename() -> None:
        channel = await fs._pool.get()
        try:
            await channel.rename(src, dst)
        except asyncssh.SFTPFailure as exc:
            if await channel.exists(dst):
                raise FileExistsError(dst) from exc
            raise
        finally:
            await fs._pool.release(channel)

    sync(fs.loop, rename)


def _looks_like_auth(detail: str) -> bool:
    lowered = detail.lower()
    return any(word in lowered for word in ("access denied", "accessdenied", "forbidden", "invalidaccesskeyid",
                                            "signaturedoesnotmatch", "authorization", "credential", "403"))


def _callback(callback: Any) -> dict[str, Any]:
    """fsspec's progress callback argument, only when there is one (some filesystems reject ``None``)."""
    return {} if callback is None else {"callback": callback}
