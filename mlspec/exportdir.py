"""Replace a directory whole, safely under concurrent writers and crashes: how ``kind: export`` deploys write.

Beside the destination ``<dir>/<name>``, and nowhere else, mlspec creates:

    .<name>.mlspec-lock                        flock'ed by the one writer at a time; holds its pid
    .<name>.mlspec-<pid>-<random>.tmp/         one writer's staging area, marked by .mlspec-staging inside:
        new/                                   the new export, every file fsync'ed
        old/                                   the previous export, once moved aside

A write holds the lock throughout, assembles ``new/``, renames the destination to ``old/``, renames ``new/``
to the destination, fsyncs the parent and only then removes its staging area. POSIX cannot rename a directory
over a non-empty one, so readers can find the destination absent, but only between those two renames. A writer
killed between them leaves the previous export in its staging area: the next writer, under the lock, puts it
back before doing anything else. Cleanup removes only staging areas: a name of that exact shape (with this
process-unique part) and the marker inside; a user's ``.<name>.backup.tmp`` is never touched.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mlspec import jsonio
from mlspec.errors import MlspecError
from mlspec.fsutil import DIR_MODE, FILE_MODE, OWN_SUFFIX, fsync_dir, lock_fd, own_name, remove, write_durable

STAGING_MARKER = ".mlspec-staging"
NEW, OLD = "new", "old"
WAIT_SECONDS = 300.0
POLL_SECONDS = 0.05


class ExportBusy(MlspecError):
    """Another writer held the destination's lock for longer than the wait."""


def lock_path(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.mlspec-lock"


def replace(dest: Path, fill: Callable[[Path], None], check: Callable[[Path], None],
            wait: float = WAIT_SECONDS) -> list[str]:
    """Make ``dest`` a new directory that ``fill`` writes (with :func:`write_durable`), replacing it whole.

    ``check(dest)`` runs under the lock and raises if ``dest`` must not be replaced. Returns notes for the
    log (what was repaired).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _locked(dest, wait):
        notes = repair(dest)
        check(dest)
        staging = dest.parent / f".{dest.name}{own_name('')}.tmp"
        staging.mkdir(0o700)
        try:
            marker = {"format": 1, "owner": "mlspec", "for": dest.name, "pid": os.getpid()}
            write_durable(staging / STAGING_MARKER, json.dumps(marker).encode())
            new = staging / NEW
            new.mkdir(DIR_MODE)  # not mkdtemp's 0700: the service account that reads the export must see it
            fill(new)
            fsync_dir(new)
            fsync_dir(staging)
            _swap(dest, new, staging / OLD)
        finally:
            if os.path.lexists(dest) or not (staging / OLD).exists():
                remove(staging)  # else the previous export is only there: the next writer puts it back
    return notes


def repair(dest: Path) -> list[str]:
    """Under the lock: put back an export a killed writer left aside, and remove staging areas."""
    notes: list[str] = []
    for staging in _stagings(dest):
        old = staging / OLD
        if not os.path.lexists(dest) and old.is_dir():
            os.replace(old, dest)
            fsync_dir(dest.parent)
            notes.append(f"restored the previous export in {dest}, which a killed deploy had moved aside")
        remove(staging)
    return notes


def _swap(dest: Path, new: Path, aside: Path) -> None:
    moved = False
    if os.path.lexists(dest):
        os.replace(dest, aside)
        moved = True
    try:
        os.replace(new, dest)  # from here on readers see the new export
    except BaseException:
        if moved:
            os.replace(aside, dest)
        raise
    finally:
        fsync_dir(dest.parent)


def _stagings(dest: Path) -> list[Path]:
    pattern = re.compile(rf"^\.{re.escape(dest.name)}{OWN_SUFFIX}\.tmp$")
    found = []
    for entry in dest.parent.iterdir():
        if not pattern.match(entry.name) or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            marker = jsonio.read_object(entry / STAGING_MARKER)
        except (FileNotFoundError, MlspecError):
            continue  # not mlspec's after all (or it died before writing its marker: then it is empty)
        if marker.get("owner") == "mlspec" and marker.get("for") == dest.name:
            found.append(entry)
    return sorted(found)


@contextmanager
def _locked(dest: Path, wait: float) -> Iterator[None]:
    path = lock_path(dest)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        raise MlspecError(f"cannot export to {dest}: {exc.strerror} ({path}); make its parent a writable "
                          "directory") from None
    try:
        lock_fd(fd, wait, lambda pid: ExportBusy(f"{dest} is still being exported by another deploy"
                                                 f"{f' (pid {pid})' if pid else ''} after {wait:g} s"), POLL_SECONDS)
        yield
    finally:
        os.close(fd)
