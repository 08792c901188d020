"""The stage graph's types and algorithms: a stage, its id, a stable topological order, cycles.

Which stages a spec yields is each stage kind's declaration; :func:`mlspec.runtime.stages.build` collects
them. One graph serves ``mlspec run`` (execution order), ``mlspec plan`` and the CI compilers (job ``needs``),
so local runs and CI runs agree on the order by construction.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mlspec.spec import Spec, StageKind


@dataclass(frozen=True)
class Stage:
    id: str
    """Unique id, `kind` or `kind:name`, e.g. `train:forest`."""
    kind: StageKind
    name: str | None
    needs: tuple[str, ...]
    scheduled: bool = False
    """Whether it runs on its schedule (monitoring), not as part of the training pipeline."""


def stage_id(kind: str, name: str | None = None) -> str:
    return f"{kind}:{name}" if name else kind


def unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def toposort(stages: list[Stage]) -> list[Stage]:
    """Kahn's algorithm, taking ready stages in their declared order so the result is stable."""
    by_id = {s.id: s for s in stages}
    cycle = find_cycle({s.id: list(s.needs) for s in stages})
    if cycle:
        raise ValueError("stages form a cycle: " + " -> ".join(cycle))
    done: set[str] = set()
    ordered: list[Stage] = []
    pending = list(stages)
    while pending:
        ready = [s for s in pending if all(n in done or n not in by_id for n in s.needs)]
        for s in ready:
            ordered.append(s)
            done.add(s.id)
        pending = [s for s in pending if s.id not in done]
    return ordered


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle in a dependency mapping as ``[a, b, ..., a]``, or None. Unknown nodes are ignored."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in edges:
                continue
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def downstream(stages: list[Stage], roots: Iterable[str]) -> set[str]:
    """Ids of ``roots`` and every stage that (transitively) needs one of them."""
    result = set(roots)
    for s in stages:  # stages are topologically ordered, so one pass suffices
        if any(n in result for n in s.needs):
            result.add(s.id)
    return result


# --- prepare steps: whose outputs a path is --------------------------------------------------------------------


def overlaps(a: str, b: str) -> bool:
    """Whether two project paths (relative to the spec, ``/``-separated) name the same file, or one lies in the
    other (a directory output holds the file a source reads)."""
    a, b = posixpath.normpath(a), posixpath.normpath(b)
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/") or "." in (a, b)


def producers(spec: Spec, paths: Iterable[str], besides: str | None = None) -> tuple[str, ...]:
    """Ids of the prepare stages whose outputs ``paths`` read, in the spec's order (``besides``: a step
    reading its own output is reported by the checks, not made its own need)."""
    wanted = list(paths)
    return tuple(stage_id("prepare", name) for name, step in spec.prepare.items()
                 if name != besides and any(overlaps(out, p) for out in step.outputs for p in wanted))
