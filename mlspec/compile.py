"""`mlspec compile`: a spec in, CI files out.

:func:`compile_spec` is a pure function (spec → ``{path: text}``, same input, same bytes); :func:`write` and
:func:`stale` are the only parts that touch the file system.
"""

from __future__ import annotations

import difflib
import os
import posixpath
from collections.abc import Iterable, Mapping
from pathlib import Path

from mlspec import __version__
from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_text
from mlspec.render import render
from mlspec.spec import Spec
from mlspec.targets import NAMES
from mlspec.targets import PLATFORMS as REGISTRY
from mlspec.targets.common import Context


def compile_spec(
    spec: Spec, spec_path: str = "mlspec.yaml", platforms: Iterable[str] = NAMES, version: str = __version__
) -> dict[str, str]:
    """Generated files by path (relative to the repository root, ``/``-separated), in path order.

    ``spec_path`` is where the spec sits in the repository; the jobs pass it to ``mlspec -f``. ``platforms``
    are the CI platforms to compile for (``mlspec compile --target``; by default every one of
    :data:`mlspec.targets.NAMES`), of those the spec enables.
    """
    ctx = Context(spec, spec_path, version)
    views: dict[str, dict[str, object]] = {}
    wanted = set(platforms)
    for platform in REGISTRY:
        if platform.name in wanted and platform.enabled(spec):
            views.update(platform.files(ctx))
    out: dict[str, str] = {}
    for path, view in sorted(views.items()):
        view = dict(view)
        template = str(view.pop("template"))
        out[path] = render(template, view)
    return out


def repo_relative(spec_file: Path, out_dir: Path) -> str:
    """The spec's path relative to the repository root ``out_dir``, as the generated jobs must name it."""
    try:
        rel = spec_file.resolve().relative_to(out_dir.resolve())
    except ValueError:
        raise MlspecError(
            f"{spec_file} is not inside {out_dir}; run `mlspec compile` with --out set to the repository root "
            "that holds the spec"
        ) from None
    return rel.as_posix()


def root_warning(out_dir: Path) -> str | None:
    """A warning when ``out_dir`` lies inside a git work tree but is not its top: GitHub reads workflows and
    GitLab its pipeline file only at the top, so files written below it would be silently ignored."""
    from mlspec import gitio

    try:
        below = gitio.prefix(out_dir)
    except gitio.GitError:
        return None  # not a repository (yet): nothing to say where its root will be
    if not below:
        return None
    up = posixpath.normpath(posixpath.join(str(out_dir), *([".."] * below.rstrip("/").count("/")), ".."))
    return (f"{out_dir} is not the top of its git repository: GitHub and GitLab read CI files only from the "
            f"top; run `mlspec compile --out {up}` (the jobs then name the spec by its path from there)")


def write(files: Mapping[str, str], out_dir: Path) -> list[Path]:
    """Write the files that changed (atomically); return those written."""
    written = []
    for rel, text in files.items():
        path = out_dir / rel
        if path.exists() and path.read_text("utf-8") == text:
            continue
        atomic_write_text(path, text)
        written.append(path)
    return written


def stale(files: Mapping[str, str], out_dir: Path) -> list[str]:
    """Unified diffs between the files on disk and what the spec produces; empty when all are current."""
    diffs = []
    for rel, text in files.items():
        path = out_dir / rel
        try:
            current = path.read_text("utf-8")
        except FileNotFoundError:
            current = None
        if current == text:
            continue
        before = [] if current is None else current.splitlines(keepends=True)
        diff = difflib.unified_diff(before, text.splitlines(keepends=True),
                                    fromfile=f"a/{rel}" if current is not None else os.devnull, tofile=f"b/{rel}")
        diffs.append("".join(diff))
    return diffs
