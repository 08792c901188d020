"""Property-based fuzz of `validate` and `compile` over the bundled examples (bounded: runs in seconds).

Each example's spec is mutated (a leaf replaced by a value of another shape, a key dropped, a key added) and
written back as YAML. Whatever the mutation, loading either succeeds or raises a user error (MlspecError: exit
1, located), compiling a loaded spec never raises anything else, and every compiled file parses as YAML.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlspec.compile import compile_spec
from mlspec.errors import MlspecError
from mlspec.load import load_text
from mlspec.resources import resource_dir
from tests.support import run_mlspec

EXAMPLES = resource_dir("examples")
NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "mlspec.yaml").is_file())

HOSTILE_TEXT = st.sampled_from([
    "", " ", "main\n  x: y", "${{ github.token }}", "$[[ inputs.x ]]", "${HOME}", "'", '"', '\\"', ": ", " #",
    "\u2028", "\x00", "\x1b[31m", "a" * 5000, "../../etc/passwd", "/proc/self/environ", "*", "v*", "release/*",
    "@data.__class__", "`a`", "1e999", "-1", "true", "null",
])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), HOSTILE_TEXT, st.text(max_size=30),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=8), SCALARS, max_size=2))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``node`` (containers and leaves), so a mutation can hit any level."""
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _mutate(doc: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    if not path:
        return value if action == "replace" else doc
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "drop":
        del parent[last]
    elif isinstance(parent, dict):
        parent[f"{last}_extra"] = value
    else:
        parent.append(value)
    return doc


@st.composite
def mutated_specs(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(NAMES))
    doc = yaml.safe_load((EXAMPLES / name / "mlspec.yaml").read_text("utf-8"))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths[1:] or paths))
        doc = _mutate(doc, path, draw(st.sampled_from(["replace", "drop", "add"])), draw(VALUES))
    return name, yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A copy of each example, so checks that look at files (suite files, data paths) see real ones."""
    root = tmp_path_factory.mktemp("fuzz")
    return {name: Path(shutil.copytree(EXAMPLES / name, root / name)) for name in NAMES}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mutated_specs())
def test_validate_and_compile_never_fail_with_a_bug(case: tuple[str, str], projects: dict[str, Path]) -> None:
    name, text = case
    try:
        loaded = load_text(text, "mlspec.yaml", base=projects[name] / "mlspec.yaml")
    except MlspecError as err:
        assert str(err).strip(), "a user error must say what is wrong"
        return
    files = compile_spec(loaded.spec)
    assert files
    for path, content in files.items():
        assert isinstance(yaml.safe_load(content), dict), path


@pytest.mark.parametrize("name", NAMES)
def test_the_command_line_exits_1_not_3_on_a_mutated_spec(name: str, tmp_path: Path) -> None:
    project = Path(shutil.copytree(EXAMPLES / name, tmp_path / name))
    spec = project / "mlspec.yaml"
    text = spec.read_text("utf-8")
    spec.write_text(re.sub(r"\n  seed: [0-9]+\n", "\n  seed: true\n", text, count=1), "utf-8")
    for command in (["validate", "-f", str(spec)], ["compile", "-f", str(spec), "--out", str(project)]):
        result = run_mlspec(*command)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert "mlspec.yaml:" in result.stdout + result.stderr
