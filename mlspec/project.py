"""`mlspec init`: start a project from a bundled example (spec, data, suites) or the blank template.

Besides the project's files it writes the local JSON Schema copy and mlspec's block of ``.gitignore``
(:mod:`mlspec.gitignore`), appended once to an existing one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_bytes, atomic_write_text
from mlspec.resources import example_names, resource_dir
from mlspec.suggest import did_you_mean

DEFAULT_EXAMPLE = "breast-cancer"
TEMPLATES = ("blank",)
"""Templates for the user's own data (in ``templates/init/``), besides the bundled examples."""
GITIGNORE = ".gitignore"
# Editors (the YAML language server) read this first-line comment; a local copy works offline.
LOCAL_SCHEMA = ".mlspec/mlspec.schema.json"
_SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=.*$", re.MULTILINE)
_SKIP = {"__pycache__", ".mlspec"}


def init_project(dest: str | os.PathLike[str] = ".", example: str = DEFAULT_EXAMPLE,
                 template: str | None = None) -> list[Path]:
    """Copy ``example`` (or, with ``template``, that template's spec) into ``dest`` and return the files
    written. Never overwrites an existing file; an existing ``.gitignore`` gets mlspec's block appended once."""
    target = Path(dest)
    files = _template_files(template) if template is not None else _example_files(example)
    existing = [target / rel for rel in files if (target / rel).exists()]
    if existing:
        shown = ", ".join(str(p) for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise MlspecError(f"{target}: would overwrite {shown}; choose an empty directory")
    from mlspec.schema import render

    written: list[Path] = []
    spec_text = ""
    for rel, f in files.items():
        out = target / rel
        if rel == "mlspec.yaml":
            spec_text = _SCHEMA_LINE.sub(f"# yaml-language-server: $schema={LOCAL_SCHEMA}", f.read_text("utf-8"), 1)
            atomic_write_text(out, spec_text)
        else:
            atomic_write_bytes(out, f.read_bytes())
        written.append(out)
    schema_path = target / LOCAL_SCHEMA
    atomic_write_text(schema_path, render())
    written.append(schema_path)
    if _write_gitignore(target / GITIGNORE, spec_text):
        written.append(target / GITIGNORE)
    return written


def _example_files(example: str) -> dict[str, Path]:
    names = example_names()
    if example not in names:
        raise MlspecError(f"unknown example {example!r}" + did_you_mean(example, names))
    source = resource_dir("examples") / example
    files = sorted(p for p in source.rglob("*") if p.is_file() and not _SKIP & set(p.relative_to(source).parts))
    return {f.relative_to(source).as_posix(): f for f in files}


def _template_files(template: str) -> dict[str, Path]:
    if template not in TEMPLATES:
        raise MlspecError(f"unknown template {template!r}" + did_you_mean(template, TEMPLATES))
    return {"mlspec.yaml": resource_dir("templates") / "init" / f"{template}.yaml"}


def _write_gitignore(path: Path, spec_text: str) -> bool:
    """Write or extend ``path`` with mlspec's block; False when it has the block already."""
    from mlspec import gitignore
    from mlspec.load import load_text

    try:
        spec = load_text(spec_text, "mlspec.yaml").spec
    except MlspecError:
        spec = None  # a template that is not valid as it stands: the block every project needs
    existing = path.read_text("utf-8") if path.exists() else None
    text = gitignore.merge(existing, gitignore.block(spec))
    if text is None:
        return False
    atomic_write_text(path, text)
    return True
