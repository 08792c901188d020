"""Checks of the ``prepare`` section that need the whole spec or the project directory.

Where a step may read and write (inside the project, never mlspec's own files), which steps and sources its
outputs feed (one writer per path, no step reading its own output, no cycle), and which missing data files
are no concern because a step writes them. The stage graph draws the same edges (:func:`mlspec.graph.producers`).
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from mlspec.graph import find_cycle, overlaps, producers, stage_id
from mlspec.spec import Spec

OWN = ("mlspec.lock", ".mlspec")
"""Paths beside the spec that are mlspec's: a step writing them would fight the runner."""


def outside(root: Path, rel: str) -> str | None:
    """Why project path ``rel`` may not be read or written by a step (it resolves outside the project), or None.
    Symlinks are followed, so a link planted in the repository cannot point a step's outputs elsewhere."""
    base = root.resolve()
    target = (base / rel).resolve(strict=False)
    if os.path.isabs(rel) or not target.is_relative_to(base) or target == base:
        return (f"{rel!r} resolves outside the project (to {target}); a prepare step reads and writes files "
                "inside the directory holding mlspec.yaml")
    return None


def problems(spec: Spec, root: Path, spec_name: str) -> list[tuple[tuple[str | int, ...], str]]:
    """Every problem of ``spec.prepare`` as (spec path, message)."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    writers: dict[str, str] = {}
    for name, step in spec.prepare.items():
        for field in ("inputs", "outputs"):
            for i, rel in enumerate(getattr(step, field)):
                problem = outside(root, rel)
                if problem:
                    out.append((("prepare", name, field, i), problem))
        for i, rel in enumerate(step.outputs):
            mine = next((own for own in (spec_name, *OWN) if overlaps(rel, own)), None)
            if mine is not None:
                out.append((("prepare", name, "outputs", i), f"{rel!r} would overwrite {mine}, which is mlspec's; "
                            "write the step's outputs elsewhere (data/train.csv)"))
            other = next((w for w, by in writers.items() if overlaps(rel, w) and by != name), None)
            if other is not None:
                out.append((("prepare", name, "outputs", i), f"{rel!r} is written by prepare step "
                            f"{writers[other]!r} too ({other!r}); give each path one step"))
            writers.setdefault(posixpath.normpath(rel), name)
        for i, rel in enumerate(step.inputs):
            if any(overlaps(rel, o) for o in step.outputs):
                out.append((("prepare", name, "inputs", i), f"{rel!r} is an output of this step too; a step "
                            "cannot read what it writes (write to another path, or split it into two steps)"))
    edges = {stage_id("prepare", name): producers(spec, step.inputs, besides=name)
             for name, step in spec.prepare.items()}
    cycle = find_cycle(edges)
    if cycle:
        first = cycle[0].split(":", 1)[1]
        out.append((("prepare", first, "inputs"), "prepare steps read each other's outputs in a cycle: "
                    + " -> ".join(cycle) + "; break it by making one of them read raw files only"))
    return out


def missing_inputs(spec: Spec, root: Path) -> list[tuple[tuple[str | int, ...], str]]:
    """Inputs that neither exist nor are written by another step: warnings, since CI may fetch them first."""
    return [(("prepare", name, "inputs", i), f"{rel!r} does not exist (yet), and no prepare step writes it")
            for name, step in spec.prepare.items() for i, rel in enumerate(step.inputs)
            if not outside(root, rel) and not (root / rel).exists() and not written(spec, rel)]


def written(spec: Spec, path: str) -> bool:
    """Whether a prepare step writes project path ``path`` (a data source's file need not exist yet)."""
    return any(overlaps(out, path) for step in spec.prepare.values() for out in step.outputs)
