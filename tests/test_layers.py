"""The package's layers, as its import statements draw them.

Every module belongs to one layer, and imports only from its own layer or those below:

    leaves → spec → contracts → engines → features → cli

Leaves know nothing of mlspec's concepts (hashing, errors, files, git, JSON, the CI platforms' environments).
The spec layer is the validated mlspec.yaml and what follows from it alone (the stage graph, the stage kinds'
declarations). Contracts are the formats stages and backends agree on (lock, workspace, stage context,
registry base). Engines do the work (the runner, the compilers, registry backends, source adapters).
Features are what a user asks for by name (gates, baselines, reports, monitoring, deployment, serving).

Function-level imports count like module-level ones (an import moved into a function to dodge a cycle is still
a cycle), with one documented allowance: a stage kind's module is read by the spec layer for its declarations,
so its module-level imports stay in that layer, while the bodies of its functions (``run()`` and the hooks the
runner calls) execute at the engine's request and may import up to the features they drive. Imports under
``if TYPE_CHECKING:`` are annotations only and are not counted.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mlspec"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("leaves", (
        "mlspec", "mlspec.errors", "mlspec.fsutil", "mlspec.gitio", "mlspec.jsonio", "mlspec.confine",
        "mlspec.yamlio", "mlspec.suggest", "mlspec.cistrings", "mlspec.cron", "mlspec.resources",
        "mlspec.ownership", "mlspec.numbers", "mlspec.store.url", "mlspec.runtime.hashing", "mlspec.metrics",
        "mlspec.labels", "mlspec.render", "mlspec.sourceurl", "mlspec.cloudauth",
        "mlspec.exportdir", "mlspec.platforms", "mlspec.platforms.*", "mlspec.gx_types", "mlspec.gx_catalogue",
        "mlspec.expr", "mlspec.schematypes",
    )),
    ("spec", (
        "mlspec.spec", "mlspec.load", "mlspec.checks", "mlspec.graph", "mlspec.schema", "mlspec.rowcondition",
        "mlspec.suitefile", "mlspec.expectations", "mlspec.sources", "mlspec.sources.*", "mlspec.preparecheck",
        "mlspec.searchcheck", "mlspec.overrides",
    )),
    # The formats and names that stages, backends and commands agree on. A feature package's __init__ only
    # names things (the report's file names, the drift variable) so the compilers can name them too.
    ("contracts", (
        "mlspec.runtime", "mlspec.runtime.lockfile", "mlspec.runtime.workspace", "mlspec.runtime.context",
        "mlspec.runtime.specview", "mlspec.runtime.snapshot", "mlspec.runtime.bundle",
        "mlspec.runtime.trusted_types", "mlspec.runtime.structure", "mlspec.runtime.features",
        "mlspec.runtime.seen",
        "mlspec.runs.record",  # what the run history keeps and tracking backends receive
        "mlspec.runtime.stages", "mlspec.runtime.stages.*", "mlspec.registry.base", "mlspec.registry.integrity",
        "mlspec.report", "mlspec.monitor",
        "mlspec.transform", "mlspec.transform.*",  # the classes model files hold: a format of the bundle
    )),
    ("engines", (
        "mlspec.runtime.*", "mlspec.targets", "mlspec.targets.*", "mlspec.compile", "mlspec.registry",
        "mlspec.store", "mlspec.store.*",
        "mlspec.sources.storefs",  # the store's filesystems, handed to the url adapter by the data stage
        "mlspec.registry.filestore", "mlspec.registry.mlflowstore", "mlspec.registry.storestore",
        "mlspec.registry.storelog",
        "mlspec.registry.provenance",
        "mlspec.registry.card",
        "mlspec.runs", "mlspec.runs.*", "mlspec.tracking", "mlspec.tracking.*",
    )),
    ("features", (
        "mlspec.gates", "mlspec.baseline", "mlspec.diff", "mlspec.report.*", "mlspec.monitor.*", "mlspec.deploy",
        "mlspec.serve", "mlspec.serve.*", "mlspec.registry.*", "mlspec.runtime.verdict",
        "mlspec.runtime.significance", "mlspec.describe", "mlspec.project", "mlspec.datacheck", "mlspec.gitignore",
    )),
    ("cli", ("mlspec.cli", "mlspec.cli.*", "mlspec.__main__")),
]

KIND_MODULES = "mlspec.runtime.stages.*"
"""Stage kinds: declarations at module level (contracts), bodies that may reach the features they run."""
KIND_BODIES_REACH = "features"


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    in_function: bool


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(root, p): p for p in sorted(root.rglob("*.py"))}


def imports(root: Path) -> list[Import]:
    """Every import of a module of the package, by every module of it (``TYPE_CHECKING`` blocks left out)."""
    known = modules(root)
    found: list[Import] = []
    for name, path in known.items():
        found += _imports_of(name, path.name == "__init__.py", ast.parse(path.read_text("utf-8")).body, False,
                             known, root.name)
    return [i for i in found if i.target in known and i.target != i.source]


def _imports_of(name: str, is_package: bool, nodes: Iterable[ast.AST], in_function: bool, known: Mapping[str, Path],
                top: str) -> list[Import]:
    found: list[Import] = []
    for node in nodes:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            found += _imports_of(name, is_package, node.orelse, in_function, known, top)
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # `from mlspec.x import y` imports the module y when there is one, else a name of mlspec.x.
            base = _absolute(name, is_package, node)
            submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
            targets = submodules + ([base] if len(submodules) < len(node.names) else [])
        found += [Import(name, t, getattr(node, "lineno", 0), in_function) for t in targets
                  if t == top or t.startswith(top + ".")]
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        found += _imports_of(name, is_package, ast.iter_child_nodes(node), inner, known, top)
    return found


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def layer_of(module: str, layers: list[tuple[str, tuple[str, ...]]] = LAYERS) -> int | None:
    """The index of the layer whose most specific pattern matches ``module`` (an exact name beats a glob)."""
    best: tuple[int, int] | None = None  # (specificity, layer)
    for index, (_, patterns) in enumerate(layers):
        for pattern in patterns:
            if pattern == module:
                score = 10_000
            elif fnmatch.fnmatchcase(module, pattern):
                score = len(pattern)
            else:
                continue
            if best is None or score > best[0]:
                best = (score, index)
    return None if best is None else best[1]


def upward(found: list[Import], layers: list[tuple[str, tuple[str, ...]]] = LAYERS,
           kinds: str = KIND_MODULES, kinds_reach: str = KIND_BODIES_REACH) -> list[str]:
    names = [n for n, _ in layers]
    reach = names.index(kinds_reach)
    problems = []
    for imp in found:
        src, dst = layer_of(imp.source, layers), layer_of(imp.target, layers)
        if src is None or dst is None:
            continue  # reported by the test that every module has a layer
        allowed = reach if imp.in_function and fnmatch.fnmatchcase(imp.source, kinds) else src
        if dst > allowed:
            problems.append(f"{imp.source} ({names[src]}) imports {imp.target} ({names[dst]}) at line {imp.line}"
                            + (" inside a function" if imp.in_function else ""))
    return problems


def cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One cycle of ``edges`` as ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def graph(found: list[Import], kinds: str = KIND_MODULES) -> dict[str, set[str]]:
    """Module → modules it imports, at module level or in functions; a kind's bodies calling into features
    are the engine's calls (the allowance above) and are left out, or every kind would close a loop."""
    edges: dict[str, set[str]] = {}
    for imp in found:
        if imp.in_function and fnmatch.fnmatchcase(imp.source, kinds):
            continue
        edges.setdefault(imp.source, set()).add(imp.target)
    return edges


# --- the package ---------------------------------------------------------------------------------------------


def test_every_module_has_a_layer() -> None:
    missing = sorted(m for m in modules(PACKAGE) if layer_of(m) is None)
    assert not missing, f"place these modules in a layer of tests/test_layers.py: {missing}"


def test_no_import_runs_upward() -> None:
    problems = upward(imports(PACKAGE))
    assert not problems, "imports that run upward:\n" + "\n".join(problems)


def test_no_cycles() -> None:
    found = cycle(graph(imports(PACKAGE)))
    assert found is None, "import cycle: " + " -> ".join(found or [])


# --- the checker itself, on small packages that break the rules -------------------------------------------------

TOY_LAYERS = [("low", ("toy", "toy.low")), ("high", ("toy.high", "toy.kinds", "toy.kinds.*"))]


def _toy(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "toy"
    for rel, text in {"__init__.py": "", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")
    return root


def test_checker_finds_an_upward_import(tmp_path: Path) -> None:
    root = _toy(tmp_path, {"low.py": "from toy import high\n", "high.py": "import toy.low\n"})
    assert upward(imports(root), TOY_LAYERS, "toy.kinds.*", "high") == [
        "toy.low (low) imports toy.high (high) at line 1"]


def test_checker_counts_imports_inside_functions(tmp_path: Path) -> None:
    root = _toy(tmp_path, {"low.py": "def f():\n    from toy.high import x\n", "high.py": "x = 1\n"})
    assert upward(imports(root), TOY_LAYERS, "toy.kinds.*", "high") == [
        "toy.low (low) imports toy.high (high) at line 2 inside a function"]


def test_checker_ignores_type_checking_imports(tmp_path: Path) -> None:
    root = _toy(tmp_path, {"low.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import toy.high\n",
                           "high.py": ""})
    assert upward(imports(root), TOY_LAYERS, "toy.kinds.*", "high") == []


def test_checker_finds_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    root = _toy(tmp_path, {"high.py": "import toy.kinds.a\n",
                           "kinds/__init__.py": "", "kinds/a.py": "from toy import high\n"})
    assert cycle(graph(imports(root), "toy.kinds.*")) == ["toy.high", "toy.kinds.a", "toy.high"]
    lazy = _toy(tmp_path / "lazy", {"low.py": "def f():\n    import toy.other\n",
                                    "other.py": "import toy.low\n"})
    assert cycle(graph(imports(lazy), "toy.kinds.*")) == ["toy.low", "toy.other", "toy.low"]


def test_checker_resolves_relative_imports(tmp_path: Path) -> None:
    root = _toy(tmp_path, {"low.py": "from . import high\nfrom .high import x\n", "high.py": "x = 1\n"})
    assert [(i.target, i.line) for i in imports(root)] == [("toy.high", 1), ("toy.high", 2)]


@pytest.mark.parametrize("module, layer", [("toy.kinds.a", 1), ("toy.low", 0), ("toy.nowhere", None)])
def test_layer_of_prefers_the_exact_name(module: str, layer: int | None) -> None:
    assert layer_of(module, TOY_LAYERS) == layer
