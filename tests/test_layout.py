"""Tests mirror the package: ``mlspec/x/y.py`` is tested in ``tests/x/test_y.py`` (or ``tests/x/test_y_*.py``
when one module has several test files; ``mlspec/x/__init__.py`` in ``tests/x/test_init.py``), so that the
tests of a module are found where the module is. Tests that are about no one module are listed below, each
with its reason."""

from __future__ import annotations

from pathlib import Path

from tests.support import REPO

TESTS = REPO / "tests"
PACKAGE = REPO / "mlspec"

CROSS_CUTTING = {
    "e2e": "the generated pipelines run end to end under gitlab-ci-local and act",
    "test_examples.py": "the bundled example projects, through validate, compile and the goldens",
    "test_fuzz_spec.py": "random specs through load, checks and every compiler: none may fail with a bug",
    "test_readme.py": "the README against the command line: every command and option is documented",
    "test_layout.py": "this test: where the tests of each module are",
    "test_layers.py": "the import layers of the whole package",
    "test_distribution.py": "the wheel `make wheel` builds: its distribution name, extras and command",
}
"""Test files or directories (relative to tests/) that mirror no module, and why."""


def _modules() -> set[str]:
    """Every module as a ``/``-path without ``.py`` relative to mlspec/ (``runtime/runner``, ``cli/__init__``)."""
    return {p.relative_to(PACKAGE).with_suffix("").as_posix() for p in PACKAGE.rglob("*.py")}


def mirrored_module(test: Path, modules: set[str]) -> str | None:
    """The module ``test`` (relative to tests/) mirrors, the longest that fits, or None."""
    folder = "" if test.parent == Path(".") else f"{test.parent.as_posix()}/"
    words = test.stem.removeprefix("test_").split("_")
    for end in range(len(words), 0, -1):
        name = "_".join(words[:end])
        module = folder + ("__init__" if name == "init" else name)
        if module in modules:
            return module
    return None


def _cross_cutting(test: Path) -> bool:
    return any(test.as_posix() == entry or test.is_relative_to(entry) for entry in CROSS_CUTTING)


def test_every_test_file_mirrors_a_module_or_says_why_not() -> None:
    modules = _modules()
    tests = [p.relative_to(TESTS) for p in TESTS.rglob("test_*.py")]
    astray = sorted(t.as_posix() for t in tests if not _cross_cutting(t) and mirrored_module(t, modules) is None)
    assert astray == [], (
        "move these to tests/<package path>/test_<module>[_<topic>].py, or list them in CROSS_CUTTING with a reason"
    )


def test_the_cross_cutting_list_names_only_what_exists() -> None:
    missing = sorted(entry for entry in CROSS_CUTTING if not (TESTS / entry).exists())
    assert missing == []


def test_mirroring_reads_topics_and_packages() -> None:
    modules = {"runtime/runner", "runtime/stages/__init__", "compile", "gx_catalogue"}
    assert mirrored_module(Path("runtime/test_runner_crash.py"), modules) == "runtime/runner"
    assert mirrored_module(Path("runtime/stages/test_init.py"), modules) == "runtime/stages/__init__"
    assert mirrored_module(Path("test_compile_hostile.py"), modules) == "compile"
    assert mirrored_module(Path("test_gx_catalogue.py"), modules) == "gx_catalogue"
    assert mirrored_module(Path("registry/test_deploy.py"), modules) is None
