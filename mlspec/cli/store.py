"""Commands over the shared store: `push`, `pull` (stage outputs and run records) and `gc`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from mlspec.cli.common import EXIT_OK, EXIT_USER, load

if TYPE_CHECKING:
    from mlspec.cli.common import Subparsers
    from mlspec.store.transfer import Moved


def _show(moved: Moved, location: str) -> int:
    for line in moved.lines:
        print(line)
    for problem in moved.missing:
        print(f"error: {problem}", file=sys.stderr)
    print(moved.summary_text(location))
    return EXIT_OK if moved.ok else EXIT_USER


def cmd_push(args: argparse.Namespace) -> int:
    from mlspec.store import open_store
    from mlspec.store.transfer import push, require

    loaded = load(args.file)
    store = require(open_store(loaded))
    return _show(push(loaded, store, args.stages), store.location)


def cmd_pull(args: argparse.Namespace) -> int:
    from mlspec.store import open_store
    from mlspec.store.transfer import pull, require

    loaded = load(args.file)
    store = require(open_store(loaded))
    return _show(pull(loaded, store, args.stages, recorded=not args.current), store.location)


def cmd_gc(args: argparse.Namespace) -> int:
    from mlspec.store import open_store
    from mlspec.store.gc import collect, render
    from mlspec.store.transfer import require

    loaded = load(args.file)
    store = require(open_store(loaded))
    for line in render(collect(loaded, store, delete=args.delete), store.location, args.delete):
        print(line)
    return EXIT_OK


def add_push(sub: Subparsers) -> None:
    p = sub.add_parser("push", help="send stages' outputs and run records to the store")
    p.add_argument("stages", nargs="*", metavar="STAGE",
                   help="stage ids (train:forest) or kinds (train); default: every stage with recorded outputs")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.set_defaults(func=cmd_push)


def add_pull(sub: Subparsers) -> None:
    p = sub.add_parser("pull", help="fetch exactly what stages need from the store: their outputs and upstream's")
    p.add_argument("stages", nargs="*", metavar="STAGE",
                   help="stage ids (train:forest) or kinds (train), with everything upstream of them; default: "
                        "every stage of the pipeline")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--current", action="store_true",
                   help="the outputs of the stages as this checkout would run them now (the run cache), instead of "
                        "what mlspec.lock recorded")
    p.set_defaults(func=cmd_pull)


def add_gc(sub: Subparsers) -> None:
    p = sub.add_parser("gc", help="list (and with --delete, delete) what no committed lock or registry needs")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--delete", action="store_true", help="delete what it lists (default: only list it)")
    p.set_defaults(func=cmd_gc)
