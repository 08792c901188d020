"""Which directories are mlspec's: a marker file, so that mlspec deletes only inside directories it owns.

mlspec removes things in two directories that a user names: the workspace (``.mlspec/``, or
``MLSPEC_CACHE_DIR``) and the file registry (``registry.path``, or ``MLSPEC_REGISTRY``). Pointed at a
directory of the user's (the project itself, a home directory, a shared volume holding other things), cleanup
there would delete the user's files. So before mlspec writes into one, it claims it:

* a directory that does not exist yet is created and marked (``.mlspec-owned``, naming what it is);
* a marked directory is used if the marker names the same kind (a registry is never taken for a workspace);
* an unmarked directory is adopted (marked now) only if everything in it is mlspec's own layout: empty, or
  what the previous version of mlspec (which wrote no marker) left there; anything else is refused, with the
  path, the setting that named it, and what to do.

Even in an owned directory, cleanup removes only entries with mlspec's own temporary names
(:func:`mlspec.fsutil.clear_temps`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlspec import jsonio
from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_text, is_own_temp

MARKER = ".mlspec-owned"
FORMAT = 1
_SHOWN = 3


class NotOwned(MlspecError):
    """A directory mlspec would write (and clean up) in holds files that are not mlspec's."""


@dataclass(frozen=True)
class Layout:
    """What an unmarked directory of this kind may hold to be adopted as mlspec's own."""

    kind: str
    """``workspace`` or ``registry``: written into the marker."""
    what: str
    """How messages name the directory: "workspace", "file registry"."""
    names: frozenset[str]
    """Top-level entries of the layout (files or directories)."""
    temp_dir: str
    """The subdirectory holding temporary entries: it may hold nothing but mlspec's temporary names."""
    other: Callable[[Path], bool] = lambda entry: False
    """Other top-level entries the layout allows (a registry's model directories)."""

    def foreign(self, root: Path) -> list[str]:
        """The entries of ``root`` (relative names) that are not of this layout, sorted."""
        found: list[str] = []
        for entry in sorted(root.iterdir()):
            name = entry.name
            if name == MARKER or _stale_write(name):
                continue
            if name == self.temp_dir and entry.is_dir() and not entry.is_symlink():
                found += [f"{name}/{e.name}" for e in sorted(entry.iterdir()) if not is_own_temp(e.name, legacy=True)]
            elif name not in self.names and not self.other(entry):
                found.append(name + ("/" if entry.is_dir() else ""))
        return found


def claim(root: Path, layout: Layout, named_by: str, fix: str) -> None:
    """Make sure ``root`` is mlspec's ``layout.kind`` directory, creating or adopting it; else :class:`NotOwned`.

    ``named_by`` says which setting chose the directory ("MLSPEC_CACHE_DIR", "registry.path in mlspec.yaml");
    ``fix`` what to do when it is refused.
    """
    marker = root / MARKER
    if marker.is_file():
        data = jsonio.read_object(marker)
        if data.get("kind") != layout.kind:
            raise NotOwned(f"{marker}: this directory is mlspec's {data.get('kind')!r} directory, not a "
                           f"{layout.what}; {fix}")
        return
    if root.exists() and not root.is_dir():
        raise NotOwned(f"the {layout.what} {root} ({named_by}) is not a directory; point {named_by} at a new or "
                       "empty directory")
    root.mkdir(parents=True, exist_ok=True)
    foreign = layout.foreign(root)
    if foreign:
        shown = ", ".join(foreign[:_SHOWN]) + (f" and {len(foreign) - _SHOWN} more" if len(foreign) > _SHOWN else "")
        raise NotOwned(f"refusing to use {root} as the {layout.what} ({named_by}): it holds files that are not "
                       f"mlspec's ({shown}), and mlspec cleans up inside its {layout.what}; {fix} (mlspec marks the "
                       f"directories it owns with {MARKER})")
    record = {"format": FORMAT, "owner": "mlspec", "kind": layout.kind,
              "note": f"created by mlspec as its {layout.what}; mlspec removes only its own temporary entries here"}
    atomic_write_text(marker, json.dumps(record, indent=2) + "\n")


def _stale_write(name: str) -> bool:
    # fsutil's temp file beside a file it replaces (``.<file>.<random>.tmp``, or its newer own-name form).
    return name.startswith(".") and name.endswith(".tmp") and len(name) <= 120 and "/" not in name
