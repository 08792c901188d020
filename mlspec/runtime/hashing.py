"""The one notion of "changed": sha256 fingerprints of values and files.

* :func:`fingerprint` hashes any JSON value in canonical form (sorted keys, no whitespace, UTF-8), so two
  equal values always get the same ``sha256:<hex>`` whatever their key order.
* :func:`file_digest` streams a file through sha256 in large chunks into one reused buffer: hashlib releases
  the GIL and uses the CPU's SHA extensions through OpenSSL, so this keeps up with ``sha256sum``.
* :class:`StatCache` remembers ``(size, mtime_ns, ctime_ns, inode, device) -> digest`` in the workspace, so a
  no-op run stats big files instead of reading them. ``ctime`` is in the key because tools that restore an
  old mtime (``cp -p``, ``touch -d``, rsync) cannot restore ctime.
* :func:`manifest` digests a directory file by file (a stage's outputs, a registered bundle), and
  :func:`outputs_fingerprint` makes one digest of that.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from mlspec import jsonio
from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_text

PREFIX = "sha256:"
CHUNK = 1 << 20
# Filesystems that store coarse timestamps (FAT: 2 s) can give a file modified twice within one tick the same
# mtime. A digest is only cached once the file's mtime is this much older than the hashing ("racily clean",
# as git calls it); a fresh file is simply hashed again next time.
RACY_SECONDS = 2.0
CACHE_VERSION = 1


def canonical_json(value: Any) -> bytes:
    """The bytes that :func:`fingerprint` hashes: sorted keys, no whitespace, UTF-8."""
    return json.dumps(to_json(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fingerprint(value: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``value``."""
    return PREFIX + hashlib.sha256(canonical_json(value)).hexdigest()


def to_json(value: Any) -> Any:
    """``value`` as plain JSON data.

    Stage metrics are often numpy scalars; they are converted through ``item()``/``tolist()`` so that this
    module never imports numpy. JSON has no NaN or infinity, so those become the strings "nan", "inf", "-inf".
    """
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    for method in ("item", "tolist"):
        convert = getattr(value, method, None)
        if callable(convert):
            return to_json(convert())
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def file_digest(path: str | os.PathLike[str]) -> str:
    """``sha256:<hex>`` of a file's bytes, read in 1 MiB chunks."""
    with open(path, "rb", buffering=0) as fh:
        return stream_digest(fh)


def stream_digest(handle: BinaryIO) -> str:
    """``sha256:<hex>`` of what is left to read from an open binary file, read in 1 MiB chunks: for a file that
    was opened once, checked, and is then hashed and parsed from the same descriptor."""
    h = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while n := handle.readinto(buf):  # type: ignore[attr-defined]
        h.update(view[:n])
    return PREFIX + h.hexdigest()


RUN_DIR = "_run"
"""The part of a stage's output directory that holds facts of one run (times, ids): kept, never digested."""


def manifest(directory: Path, digest: Callable[[Path], str | None]) -> dict[str, str] | None:
    """File (``/``-separated, relative to ``directory``) → digest; None if the directory does not exist."""
    if not directory.is_dir():
        return None
    out: dict[str, str] = {}
    for path in sorted(directory.rglob("*")):
        if path.relative_to(directory).parts[0] == RUN_DIR:
            continue  # facts of one run (times, ids): kept beside the outputs, never compared
        value = digest(path) if path.is_file() else None
        if value is not None:
            out[path.relative_to(directory).as_posix()] = value
    return out


def outputs_fingerprint(outputs: Mapping[str, str]) -> str:
    """What downstream stages see of a stage: one digest over its output files."""
    return fingerprint(dict(outputs))


def stat_key(st: os.stat_result) -> list[int]:
    """What changes when a file is written to or replaced: the stat cache's key, and how a reader notices that a
    file changed under it."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


class StatCache:
    """File digests keyed by stat data, persisted as JSON in the workspace.

    Readers (``mlspec plan``, ``mlspec status``) use it without saving; only a run, which holds the run
    lock, calls :meth:`save`. A corrupt or foreign cache file is ignored: it only ever costs re-hashing.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.hashed_bytes = 0
        """Bytes read for hashing since this cache was opened (the no-op run reads none)."""
        self._entries: dict[str, list[Any]] = {}
        self._dirty = False
        if path is not None:
            found = _read_entries(path)
            self._entries = found or {}
            # A corrupt or foreign file is rewritten at the next save even if nothing new gets cached.
            self._dirty = found is None and path.exists()

    def digest(self, path: Path) -> str | None:
        """The file's digest, or None if it is missing or not a regular file."""
        name = str(path.absolute())
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise MlspecError(f"{path}: cannot read: {exc.strerror}") from None
        if not stat.S_ISREG(st.st_mode):
            return None
        key = stat_key(st)
        cached = self._entries.get(name)
        if cached is not None and cached[:-1] == key:
            return str(cached[-1])
        started = time.time()
        try:
            digest = file_digest(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise MlspecError(f"{path}: cannot read: {exc.strerror}") from None
        self.hashed_bytes += st.st_size
        after = path.stat()
        if stat_key(after) == key and st.st_mtime_ns / 1e9 < started - RACY_SECONDS:
            self._entries[name] = [*key, digest]
            self._dirty = True
        elif name in self._entries:
            del self._entries[name]
            self._dirty = True
        return digest

    def save(self) -> None:
        """Write the cache atomically if it changed, dropping entries of files that no longer exist."""
        if self.path is None:
            return
        gone = [name for name in self._entries if not os.path.exists(name)]
        for name in gone:
            del self._entries[name]
        if not (self._dirty or gone):
            return
        data = {"version": CACHE_VERSION, "entries": self._entries}
        atomic_write_text(self.path, json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n")
        self._dirty = False


def _read_entries(path: Path) -> dict[str, list[Any]] | None:
    """The cache's entries; None if there is no usable cache file."""
    try:
        data = jsonio.read(path, max_int_digits=jsonio.INT64_DIGITS)
    except (OSError, jsonio.JsonError):  # missing, or broken in any way jsonio knows (too deep, huge numbers)
        return None
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return None
    entries = data.get("entries")
    if not isinstance(entries, dict):
        return None
    return {
        k: v for k, v in entries.items() if isinstance(v, list) and len(v) == 6 and isinstance(v[-1], str)
    }
