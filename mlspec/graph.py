"""The stage graph of a spec: which stages exist and what each one needs.

One graph serves ``mlspec run`` (execution order), ``mlspec plan`` and the CI compilers (job ``needs``), so
local runs and CI runs agree on the order by construction.
"""

from __future__ import annotations

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

    @property
    def scheduled(self) -> bool:
        """Monitoring runs on its schedule, not as part of the training pipeline."""
        return self.kind == "monitor"


def stage_id(kind: str, name: str | None = None) -> str:
    return f"{kind}:{name}" if name else kind


def build(spec: Spec) -> list[Stage]:
    """All stages of ``spec`` in a deterministic topological order."""
    stages: list[Stage] = []
    suites_of: dict[str, list[str]] = {}
    for suite_name, suite in spec.validation.items():
        suites_of.setdefault(suite.data, []).append(stage_id("validate", suite_name))

    def data_needs(source: str) -> tuple[str, ...]:
        # Training and evaluation wait for the data they read and for every suite that checks it.
        return (stage_id("data", source), *suites_of.get(source, []))

    for source in spec.data.sources:
        stages.append(Stage(stage_id("data", source), "data", source, ()))
    for suite_name, suite in spec.validation.items():
        stages.append(Stage(stage_id("validate", suite_name), "validate", suite_name, (stage_id("data", suite.data),)))
    for model_name, model in spec.training.models.items():
        stages.append(Stage(stage_id("train", model_name), "train", model_name, data_needs(model.data)))
    evaluate_needs = (*data_needs(spec.evaluation.data), *(stage_id("train", m) for m in spec.training.models))
    stages.append(Stage("evaluate", "evaluate", None, _unique(evaluate_needs)))
    stages.append(Stage("gate", "gate", None, ("evaluate",)))
    for target_name, target in spec.deploy.items():
        needs = ("gate", *(stage_id("deploy", a) for a in target.after))
        stages.append(Stage(stage_id("deploy", target_name), "deploy", target_name, needs))
    if spec.monitoring is not None:
        mon = spec.monitoring
        sources = [mon.current] + ([mon.reference] if mon.reference else [])
        stages.append(Stage("monitor", "monitor", None, _unique(stage_id("data", s) for s in sources)))
    return toposort(stages)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
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
