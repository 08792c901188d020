"""The upload-artifact test stand-in: copy the files an artifact would hold into $MLSPEC_E2E_ARTIFACTS/<name>/.

What goes in follows actions/upload-artifact v4+ (its ``search.ts`` and ``@actions/glob``), because a path
that would not round-trip on GitHub must not round-trip here either:

* ``path`` is one file, directory or glob per line; a line starting with ``!`` excludes what it matches;
* a directory means every file below it; only files are stored, empty directories are not;
* files are stored relative to the least common ancestor of the search paths (the part of each pattern before
  its first glob character), or beside nothing but themselves when the only pattern names a single file;
* without ``include-hidden-files``, a file or directory whose name starts with a dot is skipped, the search
  paths themselves included;
* no files: a warning, an error or nothing, as ``if-no-files-found`` says;
* a name already uploaded in this run is an error unless ``overwrite``.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
from pathlib import Path

# Characters the real action rejects in artifact names.
_BAD_NAME_CHARS = set('":<>|*?\r\n\\/')
_GLOB_CHARS = set("*?[")


def main() -> int:
    name = os.environ["INPUT_NAME"]
    if not name or _BAD_NAME_CHARS & set(name):
        return _error(f"artifact name {name!r} is not valid: it must not contain any of {sorted(_BAD_NAME_CHARS)}")
    hidden = os.environ.get("INPUT_INCLUDE_HIDDEN_FILES", "false") == "true"
    lines = [line.strip() for line in os.environ["INPUT_PATH"].splitlines() if line.strip()]
    include = [_absolute(line) for line in lines if not line.startswith("!")]
    exclude = [_absolute(line[1:].strip()) for line in lines if line.startswith("!")]

    search_paths = _outermost([_search_path(p) for p in include])
    files = sorted({f for p in include for f in _files(p, hidden)} - {f for p in exclude for f in _files(p, True)})
    if not files:
        return _no_files(os.environ.get("INPUT_IF_NO_FILES_FOUND", "warn"), lines)
    if len(search_paths) > 1:
        root = Path(os.path.commonpath(search_paths))
    elif len(files) == 1 and files[0] == search_paths[0]:
        root = files[0].parent  # a single file uploaded by its own name: no directories are kept
    else:
        root = search_paths[0]

    target = Path(os.environ["MLSPEC_E2E_ARTIFACTS"]) / name
    if target.exists():
        if os.environ.get("INPUT_OVERWRITE", "false") != "true":
            return _error(f"an artifact named {name!r} was already uploaded in this run; two jobs (or two matrix "
                          "legs) uploading one name fail on GitHub too")
        shutil.rmtree(target)
    for file in files:
        dest = target / file.relative_to(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, dest)
    print(f"e2e test stand-in for actions/upload-artifact: artifact {name!r} holds {len(files)} files "
          f"relative to {_shown(root)}")
    return 0


def _absolute(pattern: str) -> str:
    pattern = os.path.expanduser(pattern)
    return pattern if os.path.isabs(pattern) else os.path.join(os.environ.get("GITHUB_WORKSPACE", "."), pattern)


def _search_path(pattern: str) -> Path:
    """The part of a pattern before the first segment holding a glob character."""
    parts = Path(pattern).parts
    for i, part in enumerate(parts):
        if _GLOB_CHARS & set(part):
            return Path(*parts[:i])
    return Path(pattern)


def _outermost(paths: list[Path]) -> list[Path]:
    """Search paths without those inside another one, as @actions/glob reports them."""
    unique = list(dict.fromkeys(paths))
    return [p for p in unique if not any(q != p and p.is_relative_to(q) for q in unique)]


def _files(pattern: str, hidden: bool) -> list[Path]:
    found: list[Path] = []
    for match in glob.glob(pattern, recursive=True, include_hidden=True):
        path = Path(match)
        if not hidden and _is_hidden(path, _search_path(pattern)):
            continue
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                if not hidden:
                    dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                    filenames = [f for f in filenames if not f.startswith(".")]
                found.extend(Path(dirpath) / f for f in filenames)
    return found


def _is_hidden(path: Path, search_path: Path) -> bool:
    # The search path's own name counts; the directories above it (the workspace's parents) do not.
    start = len(search_path.parts) - 1
    return any(part.startswith(".") and part not in (".", "..") for part in path.parts[start:])


def _no_files(mode: str, lines: list[str]) -> int:
    message = f"no files were found with the provided path: {' '.join(lines)}; no artifact will be uploaded"
    if mode == "error":
        return _error(message)
    if mode == "warn":
        print(f"::warning::{message}")
    else:
        print(message)
    return 0


def _shown(path: Path) -> str:
    workspace = Path(os.environ.get("GITHUB_WORKSPACE", "."))
    return str(path.relative_to(workspace)) if path.is_relative_to(workspace) else str(path)


def _error(message: str) -> int:
    print(f"::error::{message}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
