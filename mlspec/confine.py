"""Files a spec names stay inside its project, and are regular files.

A data source path or a ``suite_file`` is resolved against the project root (the directory of mlspec.yaml)
with every symlink followed, then must lie under that root: otherwise ``path: /proc/self/environ``, a
``../..`` path or a symlink planted in the repository would copy a file of the CI runner (its environment,
its credentials) into ``profile.json`` and the artifacts the pipeline uploads. A data source may opt out
with ``outside_project: true`` (a shared data directory); even then only a regular file is read, never a
device, a FIFO, or a file of the kernel's pseudo file systems (``/proc`` files claim to be regular).

The loader checks this when the spec is validated; the runtime checks it again when it opens the file
(:func:`open_confined`), since the file may have been swapped for a symlink in between.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

OPT_IN = "outside_project"
# Kernel views whose files stat as regular but hold process state, not data.
_PSEUDO = (Path("/proc"), Path("/sys"), Path("/dev"))


class Refused(Exception):
    """``message`` says why the file may not be read and what to do; the caller adds where."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def resolve(root: Path, rel: str, *, outside_ok: bool = False, opt_in: bool = True) -> Path:
    """``rel`` against ``root`` with symlinks followed; raise :class:`Refused` when it may not be read.

    ``opt_in`` says whether the file's spec entry can take ``outside_project: true`` (data sources can,
    suite files cannot), so the message offers only a fix that exists. A missing file is not refused here.
    """
    base = root.resolve(strict=False)
    target = (base / rel).resolve(strict=False)
    if not outside_ok and not target.is_relative_to(base):
        fix = f" or set `{OPT_IN}: true` on this source" if opt_in else ""
        raise Refused(f"{rel!r} resolves outside the project (to {target}); move the file into the project{fix}")
    if any(target.is_relative_to(p) for p in _PSEUDO):
        raise Refused(f"{rel!r} resolves to {target}, a system file, not data; mlspec reads only regular files")
    try:
        mode = target.stat().st_mode
    except OSError:
        return target
    _regular(rel, target, mode)
    return target


def _regular(rel: str, target: Path, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise Refused(f"{rel!r} is a directory, expected a file")
    if not stat.S_ISREG(mode):
        raise Refused(f"{rel!r} resolves to {target}, which is not a regular file (a device, FIFO or socket); "
                      "mlspec reads only regular files")


def open_confined(root: Path, rel: str, *, outside_ok: bool = False, opt_in: bool = True) -> BinaryIO:
    """Open ``rel`` for reading after :func:`resolve`, and make sure the file opened is the one checked.

    The resolved path has no symlinks left, but a directory on it could be swapped for one between the check
    and the open: the opened file's identity (device, inode) must equal that of the checked path, and the
    final component is opened without following a link. ``O_NONBLOCK`` keeps a FIFO swapped in from
    blocking the open; it is refused by the file-type check right after.
    """
    target = resolve(root, rel, outside_ok=outside_ok, opt_in=opt_in)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(target, flags)
    try:
        opened = os.fstat(fd)
        _regular(rel, target, opened.st_mode)
        checked = target.stat()
        if (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino):
            raise Refused(f"{rel!r} changed while it was being opened; run again")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
