"""The ``.gitignore`` block `mlspec init` writes: what of a project to commit and what not.

Commit the spec, ``mlspec.lock``, the suites, the data (or its DVC pointers) and the generated CI files; they
are what makes a run reproducible and reviewable. Never commit what runs make: the workspace (stage outputs,
reports, run records, the local registry under it), a file registry or store elsewhere in the project,
exports, and what the prepare steps make from their committed inputs. The JSON Schema copy in ``.mlspec/`` is
kept: the spec's first line points editors at it.

The block is marked, so it is appended to an existing ``.gitignore`` once and never rewritten: the user may
edit it, and mlspec deletes nothing it did not create.
"""

from __future__ import annotations

import posixpath

from mlspec.spec import ExportTarget, Spec

BEGIN = "# >>> mlspec"
END = "# <<< mlspec"
WORKSPACE = ".mlspec"
KEEP = ".mlspec/mlspec.schema.json"


def block(spec: Spec | None) -> str:
    """The marked block for ``spec``'s project (None: only what every project has)."""
    lines = [
        f"{BEGIN} (written by `mlspec init`; yours to edit)",
        "# Commit mlspec.yaml, mlspec.lock, suites, data (or DVC pointers) and the generated CI files",
        "# (.github/workflows/mlspec*.yml, .gitlab-ci.yml); not what runs make:",
        f"/{WORKSPACE}/*",
        f"!/{KEEP}",
        ".*.mlspec-lock",
    ]
    lines += [f"/{p}/" for p in _made_paths(spec) if not _under_workspace(p)]
    lines += [f"/{p}" for p in _prepared(spec)]
    lines.append(END)
    return "\n".join(lines) + "\n"


def merge(existing: str | None, new_block: str) -> str | None:
    """The ``.gitignore`` text with the block, or None when ``existing`` has it already."""
    if existing is None:
        return new_block
    if any(line.startswith(BEGIN) for line in existing.splitlines()):
        return None
    separator = "" if not existing or existing.endswith("\n\n") else "\n" if existing.endswith("\n") else "\n\n"
    return existing + separator + new_block


def _made_paths(spec: Spec | None) -> list[str]:
    """Directories inside the project that runs and deploys write: a file registry, a store, exports."""
    if spec is None:
        return []
    found: list[str] = []
    if spec.registry.chosen_backend(spec.store is not None) == "file":
        found.append(spec.registry.path)
    if spec.store is not None and "://" not in spec.store.url:
        found.append(spec.store.url)
    found += [t.path for t in spec.deploy.values() if isinstance(t, ExportTarget)]
    inside = (posixpath.normpath(p.replace("\\", "/")) for p in found)
    return sorted({p for p in inside if not p.startswith(("/", "../")) and p not in (".", "..")})


def _prepared(spec: Spec | None) -> list[str]:
    """What the prepare steps write: made from their committed inputs by every run, as stage outputs are."""
    if spec is None:
        return []
    found = (posixpath.normpath(out.replace("\\", "/")) for step in spec.prepare.values() for out in step.outputs)
    return sorted({p for p in found if not p.startswith(("/", "../")) and p not in (".", "..")})


def _under_workspace(path: str) -> bool:
    return path == WORKSPACE or path.startswith(WORKSPACE + "/")
