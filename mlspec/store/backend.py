"""One store's filesystem: fsspec and the cloud's own filesystem package, with what each guarantees.

The operations :class:`mlspec.store.Store` needs, on top of an fsspec filesystem, and the places where
filesystems differ:

* **Atomic uploads.** S3, GCS and Azure Blob show an object only once its upload completes (a multipart
  upload or uncommitted blocks are invisible until the final commit), so uploads go straight to their key. A
  directory (``file``) and SFTP show a file while it is written, so uploads go to ``tmp/<mlspec temporary
  name>`` and are renamed into place (rename is atomic on one POSIX filesystem). What a killed writer leaves
  in ``tmp/`` carries mlspec's temporary names only and is removed by :meth:`Backend.clear_tmp` (the next
  writer calls it for leftovers a day old; ``mlspec gc`` may pass its own age).
* **Create if absent** (:meth:`Backend.create`): S3 ``PutObject`` with ``If-None-Match: *`` (s3fs
  ``mode="create"``); Azure ``upload_blob(overwrite=False)`` (``If-None-Match: *``); GCS: gcsfs's
  ``pipe_file(..., mode="create")`` sends ``ifGenerationMatch=0`` with the upload (``simple_upload`` and
  ``initiate_upload`` in gcsfs/core.py add it whenever ``mode == "create"``) and turns the service's 412 into
  ``FileExistsError`` (gcsfs/retry.py ``validate_response``), so exactly one of several racing creators wins;
  gcsfs calls the mode experimental because its own tests cannot run it (no emulator implements the
  precondition), and neither can ours. A directory: ``link(2)`` of a complete temporary file, which fails on an
  existing name. SFTP: OpenSSH's ``hardlink@openssh.com`` (the server's ``link(2)``), see
  :mod:`mlspec.store.sftp`.
* **Batches.** :meth:`existing` lists each object directory once (not one request per object);
  :meth:`upload_many` and :meth:`download_many` keep :data:`~mlspec.store.filesystems.CONCURRENCY` transfers in
  flight; a large file's parts go concurrently inside s3fs and adlfs (``max_concurrency``).
* **Errors.** Each library raises its own exceptions for a service that is down, refuses credentials or has
  no such bucket; they become one :class:`~mlspec.store.StoreError` naming the store and what to set.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from functools import partial
from pathlib import Path
from typing import Any

from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_bytes, is_own_temp, own_name
from mlspec.store import filesystems, progress
from mlspec.store.base import StoreConfig, StoreError
from mlspec.store.filesystems import CONCURRENCY, PACKAGES

TMP = "tmp"
TMP_AGE = 24 * 3600.0
"""Seconds after which a writer removes what a killed writer left in ``tmp/``: a live upload keeps writing."""
_LIST_FROM = 16
"""From this many keys on, :meth:`Backend.existing` lists directories instead of looking up each key."""
_PAGE = 1000
"""Keys per page of a flat listing (S3's ListObjectsV2, GCS, Azure all return up to 1,000 or more)."""
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
        self._container_checked = False
        self._last_listing: set[str] = set()
        self._tmp_cleared = False

    def path(self, key: str) -> str:
        return f"{self.root}/{key}" if self.root else key

    # --- reads -----------------------------------------------------------------------------------------------

    def exists(self, key: str) -> bool:
        return key in self.existing([key])

    def existing(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` exist, in as few requests as the store's size allows, several at once.

        A few keys: a lookup each. Many: one listing of each directory they are in (at most 256 for objects)
        or, on an object store whose listing is flat and paginated, one listing of everything below their
        common prefix when that is fewer pages, estimated from the first directory's size as DVC does: a push
        to a small store costs a request or two, to a large one at most one per directory.
        """
        if len(keys) < _LIST_FROM:
            hits: set[str] = set()

            def one(key: str) -> None:
                if self._exists_one(key):
                    hits.add(key)

            self._parallel([(f"look up {key}", partial(one, key)) for key in keys])
            return hits
        by_dir: dict[str, set[str]] = {}
        for key in keys:
            parent, _, name = key.rpartition("/")
            by_dir.setdefault(parent, set()).add(name)
        dirs = sorted(by_dir)
        found: set[str] = set()

        def look(parent: str) -> None:
            with self.errors(f"list {parent}/"):
                names = self._names_in(parent)
            found.update(f"{parent}/{name}" if parent else name for name in by_dir[parent] & names)

        look(dirs[0])
        rest = dirs[1:]
        if rest and not self.renames:
            # Content addresses spread evenly over the 256 object directories: each holds about as many.
            pages = len(self._last_listing) * 256 // _PAGE + 1
            if pages < len(rest):
                present = set(self.list(_common_dir(rest)))
                return found | {key for key in keys if key in present}
        self._parallel([(f"list {parent}/", partial(look, parent)) for parent in rest])
        return found

    def _exists_one(self, key: str) -> bool:
        if self.kind == "file":
            return os.path.exists(self.path(key))
        if self.fs.exists(self.path(key)):
            return True
        self._check_container(f"look up {key}")
        return False

    def _names_in(self, parent: str) -> set[str]:
        where = self.path(parent) if parent else self.root
        if self.kind == "file":
            try:
                return set(os.listdir(where))
            except (FileNotFoundError, NotADirectoryError):
                return set()
        self.fs.invalidate_cache(where)
        try:
            entries = self.fs.ls(where, detail=False)
        except FileNotFoundError:
            self._check_container(f"list {parent}/")
            entries = []
        names = {str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in entries}
        self._last_listing = names
        return names

    def read(self, key: str) -> bytes | None:
        with self.errors(f"read {key}"):
            try:
                return bytes(self.fs.cat_file(self.path(key)))
            except FileNotFoundError:
                self._check_container(f"read {key}")
                return None

    def download_many(self, items: Sequence[tuple[str, Path, str]], show: bool = True) -> None:
        """Download each ``(key, local path, name for progress lines)``, several at once; the caller verifies
        and renames."""
        self._parallel([(f"download {key}", partial(self._download, key, dest, name, show))
                        for key, dest, name in items])

    def _download(self, key: str, dest: Path, name: str, show: bool) -> None:
        # The size is known once the transfer starts (fsspec's set_size); small files stay silent then.
        done = progress.callback("download", name, progress.LARGE, show)
        try:
            if self.kind == "file":
                _copy(Path(self.path(key)), dest, done)
            else:
                self.fs.get_file(self.path(key), str(dest), **_callback(done))
        except FileNotFoundError:
            self._check_container(f"download {key}")
            raise StoreError(f"store {self.settings.url.text} has no {key}; push it from where it was made "
                             "(`mlspec push`), or rerun the stage that makes it") from None

    def list(self, prefix: str) -> list[str]:
        base = self.path(prefix.rstrip("/"))
        with self.errors(f"list {prefix}"):
            try:
                found = self.fs.find(base)
            except FileNotFoundError:
                found = []
            if not found:  # adlfs lists a missing container as empty
                self._check_container(f"list {prefix}")
        root = self.root + "/" if self.root else ""
        keys = [str(p)[len(root):] if str(p).startswith(root) else str(p) for p in found]
        return sorted(k for k in keys if not k.startswith(f"{TMP}/"))

    # --- writes ----------------------------------------------------------------------------------------------

    def upload_many(self, items: Sequence[tuple[Path, str]], show: bool = True) -> None:
        """Upload each ``(local path, key)``, several at once; each appears at its key whole or not at all."""
        if not items:
            return
        if self.renames:  # object stores have no directories to make
            self._clear_old_tmp()
            parents = sorted({key.rpartition("/")[0] for _, key in items} | {TMP})
            self._parallel([(f"create {parent}/", partial(self.fs.makedirs, self.path(parent), exist_ok=True))
                            for parent in parents if parent])
        self._parallel([(f"upload {key}", partial(self._upload, local, key, show)) for local, key in items])

    def _upload(self, local: Path, key: str, show: bool) -> None:
        done = progress.callback("upload", local.name, local.stat().st_size, show)
        if self.kind == "az":
            # adlfs reports a block upload's bytes per block, not in total; the SDK's own hook counts them all.
            self.fs.put_file(str(local), self.path(key), **({} if done is None else {"progress_hook": done.hook}))
            return
        if not self.renames:
            self.fs.put_file(str(local), self.path(key), **_callback(done))
            return
        staged = self.path(f"{TMP}/{own_name('object')}")
        try:
            if self.kind == "file":
                _copy(local, Path(staged), done)
                _fsync(staged)
                os.replace(staged, self.path(key))
            else:
                from mlspec.store import sftp

                self.fs.put_file(str(local), staged, **_callback(done))
                sftp.rename_over(self.fs, staged, self.path(key))  # the same bytes, if a racing push got there
        finally:
            self._discard(staged)

    def replace(self, key: str, data: bytes) -> None:
        with self.errors(f"write {key}"):
            if self.kind == "file":
                atomic_write_bytes(Path(self.path(key)), data)
            elif self.kind == "sftp":
                from mlspec.store import sftp

                staged = self._stage(data, "write", key)
                try:
                    sftp.rename_over(self.fs, staged, self.path(key))
                finally:
                    self._discard(staged)
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
            tmp = Path(self.path(TMP))
            tmp.mkdir(parents=True, exist_ok=True)
            temp = tmp / own_name("create")
            try:
                temp.write_bytes(data)
                _fsync(str(temp))
                os.link(temp, final)  # fails with FileExistsError on an existing name, even a racing one
            finally:
                temp.unlink(missing_ok=True)
        elif self.kind == "sftp":
            from mlspec.store import sftp

            staged = self._stage(data, "create", key)
            try:
                sftp.link_new(self.fs, staged, self.path(key))
            finally:
                self._discard(staged)
        elif self.kind == "az":
            self.fs.pipe_file(self.path(key), data, overwrite=False)
        else:  # s3, gs
            self.fs.pipe_file(self.path(key), data, mode="create")

    def _stage(self, data: bytes, label: str, key: str) -> str:
        """``data`` written completely under a temporary name in ``tmp/`` (SFTP), beside ``key``'s directory."""
        staged = self.path(f"{TMP}/{own_name(label)}")
        self.fs.makedirs(self.path(TMP), exist_ok=True)
        parent = key.rpartition("/")[0]
        if parent:
            self.fs.makedirs(self.path(parent), exist_ok=True)
        self.fs.pipe_file(staged, data)
        return staged

    def _discard(self, staged: str) -> None:
        with contextlib.suppress(FileNotFoundError, OSError):
            if self.kind == "file":
                os.unlink(staged)
            else:
                self.fs.rm_file(staged)

    def delete(self, key: str) -> None:
        with self.errors(f"delete {key}"), contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.path(key))

    # --- what killed writers left ----------------------------------------------------------------------------

    def clear_tmp(self, age: float = TMP_AGE) -> int:
        """Remove what writers killed at least ``age`` seconds ago left behind; how many entries went.

        ``file`` and ``sftp``: entries of ``tmp/`` with mlspec's temporary names, unchanged for ``age``
        seconds (a live upload keeps changing its file); nothing else there is touched. S3: the store's
        incomplete multipart uploads started ``age`` seconds ago or more (invisible, but billed). Azure drops
        uncommitted blocks itself after a week, and GCS resumable sessions expire after one.
        """
        with self.errors("clear tmp/"):
            if self.renames:
                return self._clear_tmp_dir(age)
            if self.kind == "s3":
                return self._abort_multipart(age)
        return 0

    def _clear_tmp_dir(self, age: float) -> int:
        try:
            entries = self.fs.ls(self.path(TMP), detail=True)
        except FileNotFoundError:
            return 0
        cutoff = time.time() - age
        removed = 0
        for entry in entries:
            name = str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
            if entry.get("type") != "file" or not is_own_temp(name):
                continue
            if _mtime(entry) <= cutoff:
                self._discard(self.path(f"{TMP}/{name}"))
                removed += 1
        return removed

    def _abort_multipart(self, age: float) -> int:
        from datetime import UTC, datetime, timedelta

        cutoff = datetime.now(UTC) - timedelta(seconds=age)
        bucket, _, prefix = self.root.partition("/")
        answer = self.fs.call_s3("list_multipart_uploads", Bucket=bucket, Prefix=f"{prefix}/" if prefix else "")
        removed = 0
        for upload in answer.get("Uploads", []):
            if upload["Initiated"] <= cutoff:
                self.fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=upload["Key"],
                                UploadId=upload["UploadId"])
                removed += 1
        return removed

    def _clear_old_tmp(self) -> None:
        if not self._tmp_cleared:
            self._tmp_cleared = True
            self.clear_tmp(TMP_AGE)

    # --- errors and concurrency ------------------------------------------------------------------------------

    def _check_container(self, what: str) -> None:
        """A "not found" answer may mean the whole bucket is missing: say so, once per store, if it is."""
        if self._container_checked or self.kind in ("file", "sftp"):
            return
        bucket = self.settings.url.bucket
        if self.kind == "s3":
            try:
                self.fs.call_s3("head_bucket", Bucket=bucket)
            except FileNotFoundError:
                raise StoreError(filesystems.missing_container(self.settings, what)) from None
        elif not self.fs.exists(bucket):
            raise StoreError(filesystems.missing_container(self.settings, what))
        self._container_checked = True

    @contextlib.contextmanager
    def errors(self, what: str) -> Iterator[None]:
        """Turn what the filesystem library raises into a :class:`StoreError` that says what to set."""
        try:
            yield
        except (MlspecError, FileExistsError, *_BUGS):
            raise
        except FileNotFoundError:
            self._check_container(what)  # the bucket, rather than the key, may be what is missing
            raise
        except Exception as exc:
            if "notfound" in type(exc).__name__.lower() or "not exist" in str(exc):
                self._check_container(what)
            raise StoreError(filesystems.describe(self.settings, what, exc)) from None

    def _parallel(self, jobs: Sequence[tuple[str, Callable[[], None]]]) -> None:
        """Run ``(what, job)`` pairs, a bounded number at once; the first failure cancels the rest, as a
        :class:`StoreError`. (fsspec's sync calls are thread-safe: they hand their coroutine to the
        filesystem's own event loop, which overlaps the requests.)"""
        if len(jobs) <= 1:
            for what, job in jobs:
                with self.errors(what):
                    job()
            return
        futures: dict[Future[None], str] = {}
        with ThreadPoolExecutor(min(CONCURRENCY[self.kind], len(jobs))) as pool:
            for what, job in jobs:
                futures[pool.submit(job)] = what
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in done if f.exception() is not None]
            for future in pending:
                future.cancel()
        if failed:
            first = failed[0]
            with self.errors(futures[first]):
                first.result()


def open_backend(settings: StoreConfig) -> Backend:
    """The filesystem of ``settings``' URL; :class:`StoreError` when its package is missing or it refuses."""
    url = settings.url
    try:
        fs = filesystems.open_filesystem(settings)
    except ImportError:
        raise StoreError(f"store {url.text} (from {settings.named_by}): the Python package "
                         f"{PACKAGES[url.kind]!r} is not installed; `pip install 'mlspec-ci[store]'` installs "
                         "the filesystems mlspec supports") from None
    except (MlspecError, *_BUGS):
        raise
    except Exception as exc:  # sshfs connects here; adlfs and gcsfs read their credentials here
        raise StoreError(filesystems.describe(settings, "connect", exc)) from None
    return Backend(settings, fs, url.root)


def _common_dir(dirs: Sequence[str]) -> str:
    """The deepest directory holding every one of ``dirs``: ``objects/sha256`` for object directories."""
    parts = [d.split("/") for d in dirs]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "/".join(common)


def _callback(callback: Any) -> dict[str, Any]:
    """fsspec's progress callback argument, only when there is one (some filesystems reject ``None``)."""
    return {} if callback is None else {"callback": callback}


def _copy(src: Path, dest: Path, callback: Any) -> None:
    """Copy a file: by the kernel's fast path, or in pieces that report progress when there is a callback."""
    if callback is None:
        shutil.copyfile(src, dest)
        return
    callback.set_size(src.stat().st_size)
    with open(src, "rb") as source, open(dest, "wb") as target:
        while piece := source.read(8 * 2**20):
            target.write(piece)
            callback.relative_update(len(piece))


def _fsync(path: str) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _mtime(entry: dict[str, Any]) -> float:
    value = entry.get("mtime", entry.get("modified", 0))
    return value.timestamp() if hasattr(value, "timestamp") else float(value or 0)
