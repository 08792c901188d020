"""`mlspec init`: start a project from a bundled example (spec, data, suites)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from mlspec.errors import MlspecError
from mlspec.fsutil import atomic_write_bytes, atomic_write_text
from mlspec.resources import example_names, resource_dir
from mlspec.suggest import did_you_mean

DEFAULT_EXAMPLE = "breast-cancer"
# Editors (the YAML language server) read this first-line comment; a local copy works offline.
LOCAL_SCHEMA = ".mlspec/mlspec.schema.json"
_SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=.*$", re.MULTILINE)
_SKIP = {"__pycache__", ".mlspec"}


def init_project(dest: str | os.PathLike[str] = ".", example: str = DEFAULT_EXAMPLE) -> list[Path]:
    """Copy ``example`` into ``dest`` and return the files written. Never overwrites an existing file."""
    names = example_names()
    if example not in names:
        raise MlspecError(f"unknown example {example!r}" + did_you_mean(example, names))
    source = resource_dir("examples") / example
    target = Path(dest)
    files = sorted(p for p in source.rglob("*") if p.is_file() and not _SKIP & set(p.relative_to(source).parts))
    existing = [target / f.relative_to(source) for f in files if (target / f.relative_to(source)).exists()]
    if existing:
        shown = ", ".join(str(p) for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise MlspecError(f"{target}: would overwrite {shown}; choose an empty directory")
    from mlspec.schema import render

    written: list[Path] = []
    for f in files:
        out = target / f.relative_to(source)
        if f.name == "mlspec.yaml":
            text = _SCHEMA_LINE.sub(f"# yaml-language-server: $schema={LOCAL_SCHEMA}", f.read_text("utf-8"), 1)
            atomic_write_text(out, text)
        else:
            atomic_write_bytes(out, f.read_bytes())
        written.append(out)
    schema_path = target / LOCAL_SCHEMA
    atomic_write_text(schema_path, render())
    written.append(schema_path)
    return written
