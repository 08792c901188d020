"""The registry of CI platform compilers: the one list the command line and `compile_spec` read."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from mlspec import targets
from mlspec.cli import build_parser
from mlspec.compile import compile_spec
from mlspec.load import load
from tests.support import EXAMPLE_NAMES, EXAMPLES


def _choices(parser: argparse.ArgumentParser, command: str, option: str) -> tuple[str, ...]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    action = next(a for a in sub.choices[command]._actions if option in a.option_strings)
    return tuple(action.choices or ())


def test_the_command_line_offers_the_registered_platforms() -> None:
    assert targets.NAMES == ("github", "gitlab")
    assert _choices(build_parser(), "compile", "--target") == (*targets.NAMES, "all")


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_each_platform_writes_only_the_outputs_it_declares(example: str) -> None:
    spec = load(EXAMPLES / example / "mlspec.yaml").spec
    every = set(compile_spec(spec))
    for platform in targets.PLATFORMS:
        own = set(compile_spec(spec, platforms=[platform.name]))
        assert own <= set(platform.outputs), platform.name
        assert bool(own) == platform.enabled(spec)
        every -= own
    assert every == set()


def test_reading_the_names_imports_no_compiler() -> None:
    code = ("import sys, json, mlspec.targets; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('mlspec.', 'pydantic', 'jinja2')))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == ["mlspec.targets"]
