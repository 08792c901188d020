"""The `mlspec` command: parse arguments, call the Python API, map outcomes to exit codes.

Exit codes: 0 ok, 1 a user error or a failed check, 2 bad usage, 3 a bug in mlspec, 130 interrupted.
No logic lives here; each command is a few lines over :mod:`mlspec`'s API, in the module of its group:
:mod:`~mlspec.cli.spec` (init, validate, compile, schema), :mod:`~mlspec.cli.pipeline` (run, plan, gate,
monitor, diff, status), :mod:`~mlspec.cli.report` (report, comment), :mod:`~mlspec.cli.store` (push, pull,
gc), :mod:`~mlspec.cli.search` (trials), :mod:`~mlspec.cli.runs` (runs) and :mod:`~mlspec.cli.registry` (deploy,
registry, serve).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from mlspec import __version__
from mlspec.cli import pipeline, registry, report, runs, search, spec, store
from mlspec.cli.common import EXIT_BUG, EXIT_OK, EXIT_USAGE, EXIT_USER, ISSUES_HINT

__all__ = ["EXIT_BUG", "EXIT_OK", "EXIT_USAGE", "EXIT_USER", "build_parser", "main", "run_command"]

COMMANDS = (
    spec.add_init, spec.add_validate, pipeline.add_run, pipeline.add_plan, pipeline.add_gate, pipeline.add_monitor,
    pipeline.add_diff, search.add_trials, runs.add_runs, report.add_report, report.add_comment,
    pipeline.add_status, store.add_push, store.add_pull, store.add_gc, registry.add_deploy, registry.add_registry,
    registry.add_serve, spec.add_compile, spec.add_schema,
)
"""Each adds one command, in the order `mlspec --help` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlspec",
        description="Validate, compile and run the ML pipeline described by mlspec.yaml.",
    )
    parser.add_argument("--version", action="version", version=f"mlspec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # pydantic looks for plugins by scanning every installed distribution's metadata the first time a model
    # is built (tens of ms in a full environment); mlspec's own models need none. Set the variable to
    # override.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on bad usage
    func: Callable[[argparse.Namespace], int] = args.func
    return run_command(func, args)


def run_command(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from mlspec.errors import MlspecError, SpecError

    try:
        return func(args)
    except SpecError as exc:
        print(exc.render(context=True), file=sys.stderr)
        return exc.exit_code
    except MlspecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception:
        traceback.print_exc()
        print(f"mlspec {__version__}: internal error; {ISSUES_HINT}", file=sys.stderr)
        return EXIT_BUG
