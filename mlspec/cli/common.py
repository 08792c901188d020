"""What the command modules share: exit codes, loading the spec with its warnings, argument types and options.

Imports stay light here and in every command module: the heavy parts of mlspec are imported inside the command
that needs them, so `mlspec validate` and `mlspec compile` load no pandas, scikit-learn or Great Expectations.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from mlspec.load import Loaded

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    """What ``add_subparsers`` returns: each command module adds its commands to it."""

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3
ISSUES_HINT = "please report it to the mlspec maintainers with the traceback above"


def load(path: str, overrides: Sequence[str] = ()) -> Loaded:
    """The spec at ``path`` with the ``--set`` ``overrides`` applied; its warnings go to standard error."""
    from mlspec.load import load as load_spec

    loaded = load_spec(path, overrides)
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if loaded.overrides:
        # Said once, up front: the results that follow are not those of the file alone.
        print(f"note: {path} with --set {' --set '.join(loaded.overrides)} (the file is unchanged)", file=sys.stderr)
    return loaded


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}")
    return value


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def where_options(p: argparse.ArgumentParser) -> None:
    """Where the registry is: the spec's, or a file registry directory named directly."""
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file naming the registry (default: mlspec.yaml)")
    p.add_argument("--registry", metavar="DIR|URL",
                   help="a file registry directory, or a store URL (s3://bucket/prefix, ...) whose registry to use, "
                        "instead of the spec's registry (no spec needed with --model)")
    p.add_argument("--model", metavar="NAME", help="registered model name (default: the spec's project)")


def set_option(p: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE`` (repeatable): change a value of the spec for this command only (README, Overrides)."""
    p.add_argument("--set", action="append", default=[], dest="overrides", metavar="[+]KEY=VALUE",
                   help="change a value of the spec for this command, e.g. training.models.forest.params."
                        "max_depth=12 (VALUE is YAML; repeatable); +KEY=VALUE adds a key the file does not have")
