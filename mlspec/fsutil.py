"""Atomic, durable file writes, and the temporary names that only mlspec creates (so only mlspec deletes).

A reader (or a crash) sees the old file or the new one, never half of one. Files are created 0666 and
directories 0777, less the umask, as any ordinary tool makes them: mlspec's outputs hold no secrets, and a
group that shares a checkout or a CI cache must be able to read them. Every temporary file or directory
mlspec makes carries a name no user file plausibly has, ``<label>.mlspec-<pid>-<16 hex digits>``, unique per
process; cleanup removes only entries of that shape (or of the shape the previous version used, inside
directories mlspec owns), never "anything that looks temporary".
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

FILE_MODE = 0o666
"""Mode of every file mlspec creates, before the umask (``open`` and ``mkdir`` apply it)."""
DIR_MODE = 0o777
OWN_SUFFIX = r"\.mlspec-\d{1,10}-[0-9a-f]{16}"
_OWN_TEMP = re.compile(rf"^[a-z0-9_-]{{1,80}}{OWN_SUFFIX}$")
# What tempfile.mkdtemp(prefix="<label>.") made before: only ever removed inside a directory mlspec owns.
_OLD_TEMP = re.compile(r"^[a-z0-9_-]{1,80}\.[a-z0-9_]{8}$")


def own_name(label: str) -> str:
    """A fresh name for a temporary entry: ``<label>.mlspec-<pid>-<random>``."""
    return f"{label}.mlspec-{os.getpid()}-{secrets.token_hex(8)}"


def is_own_temp(name: str, *, legacy: bool = False) -> bool:
    """Whether ``name`` is one :func:`own_name` makes (``legacy``: or one the previous version made)."""
    return bool(_OWN_TEMP.match(name) or (legacy and _OLD_TEMP.match(name)))


def make_temp_dir(parent: Path, label: str, mode: int = DIR_MODE) -> Path:
    """A new empty directory ``parent/<own_name(label)>``; ``mkdir`` fails rather than reuse one.

    Not ``tempfile.mkdtemp``, whose 0700 would stay on a stage's outputs once the directory is renamed into
    place.
    """
    parent.mkdir(parents=True, exist_ok=True)
    path = parent / own_name(label)
    path.mkdir(mode)
    return path


def clear_temps(directory: Path) -> None:
    """Remove what killed processes left in ``directory``: only entries with mlspec's temporary names.

    Callers hold the lock of the directory's owner (the workspace's run lock, the registry's write lock), so
    no live process is writing into what this removes. A symlink is unlinked, never followed.
    """
    try:
        entries = list(directory.iterdir())
    except FileNotFoundError:
        return
    for entry in entries:
        if is_own_temp(entry.name, legacy=True):
            remove(entry)
    with contextlib.suppress(OSError):
        directory.rmdir()  # only if empty: nothing of anyone else's is ever removed with it


def remove(path: Path) -> None:
    """Remove ``path`` (a file, a symlink or a directory tree mlspec made); gone already is fine."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory, fsync, then rename over it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}{own_name('')}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_writes(path: Path) -> None:
    """Remove the temp files that :func:`atomic_write_bytes` of ``path`` left when its process was killed."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}{OWN_SUFFIX}\.tmp$")
    try:
        entries = list(path.parent.iterdir())
    except FileNotFoundError:
        return
    for entry in entries:
        if pattern.match(entry.name) and entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)


def write_durable(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Write a new file and fsync it (for files assembled in a temp directory that is renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable (POSIX: the directory entry is data of the directory)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def lock_fd(fd: int, wait: float, busy: Callable[[str | None], BaseException], poll: float = 0.05) -> None:
    """Take an exclusive flock on ``fd`` within ``wait`` seconds, then write our pid into the file.

    Only the holder writes, and only after locking, so a waiter reads the holder's pid: ``busy(pid or None)``
    builds the error raised when the wait runs out. Closing the descriptor releases the lock.
    """
    import fcntl
    import time

    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                raise busy(holder if holder.isdigit() else None) from None
            time.sleep(poll)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
