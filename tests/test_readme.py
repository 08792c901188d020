"""The README's command reference against the real parser (as sqlite-utils checks its docs): every command and
subcommand has a row in the Commands table and help text, every option is named in its command's rows or in the
section's note on shared options, and no row names a command that does not exist."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlspec.cli import build_parser

README = Path(__file__).resolve().parent.parent / "README.md"


def _section() -> str:
    text = README.read_text("utf-8")
    return text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]


def _rows() -> list[tuple[str, str]]:
    """(synopsis, whole row) of each row of the table: the synopsis is its first cell's code span."""
    rows = []
    for line in _section().splitlines():
        found = re.match(r"\| `(mlspec[^`]*)`", line)
        if found:
            rows.append((found.group(1), line))
    return rows


def _prose() -> str:
    return "\n".join(line for line in _section().splitlines() if not line.startswith("|"))


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser] | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """Each command and subcommand: its path (("registry", "promote")), its parser, its one-line help."""
    sub = _subparsers(parser)
    if sub is None:
        return
    helps = {a.dest: a.help or "" for a in sub._choices_actions}
    for name, child in sub.choices.items():
        yield (*path, name), child, helps[name]
        yield from _commands(child, (*path, name))


COMMANDS = list(_commands(build_parser()))
IDS = [" ".join(path) for path, _, _ in COMMANDS]


def _named(option: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def _rows_of(path: tuple[str, ...]) -> list[tuple[str, str]]:
    """The rows whose synopsis starts with ``mlspec`` and the command; a subcommand must be a word of it."""
    mine = [(s, r) for s, r in _rows() if re.match(rf"mlspec {re.escape(path[0])}(?![\w-])", s)]
    if len(path) > 1:
        mine = [(s, r) for s, r in mine if re.search(rf"(?<![\w-]){re.escape(path[-1])}(?![\w-])", s)]
    return mine


@pytest.mark.parametrize(("path", "parser", "help_text"), COMMANDS, ids=IDS)
def test_every_command_has_a_row_and_help(path: tuple[str, ...], parser: argparse.ArgumentParser,
                                          help_text: str) -> None:
    assert help_text.strip(), f"`mlspec {' '.join(path)}` has no help text"
    assert _rows_of(path), f"README.md: no row in the Commands table for `mlspec {' '.join(path)}`"


@pytest.mark.parametrize(("path", "parser", "help_text"), COMMANDS, ids=IDS)
def test_every_option_is_documented(path: tuple[str, ...], parser: argparse.ArgumentParser, help_text: str) -> None:
    if _subparsers(parser) is not None:
        return  # a group (`registry`): its actions carry the options
    text = " ".join(r for _, r in _rows_of(path)) + "\n" + _prose()
    missing = [a.option_strings[-1] for a in parser._actions
               if a.option_strings and "--help" not in a.option_strings
               and not any(_named(o, text) for o in a.option_strings)]
    assert not missing, f"README.md: `mlspec {' '.join(path)}` options not in the Commands section: {missing}"


def test_top_level_options_are_documented() -> None:
    synopses = " ".join(s for s, _ in _rows())
    for action in build_parser()._actions:
        if action.option_strings and "--help" not in action.option_strings:
            assert any(_named(o, synopses) for o in action.option_strings), action.option_strings


def test_every_row_names_a_real_command() -> None:
    known = {" ".join(path) for path, _, _ in COMMANDS}
    for synopsis, _ in _rows():
        words = synopsis.split()[1:]
        if words[0].startswith("-"):
            continue  # a top-level option (`mlspec --version`), checked above
        assert words[0] in known, f"README.md documents `mlspec {words[0]}`, which is no command"
