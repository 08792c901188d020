"""Commands over the model registry: `deploy` (register and promote), `registry ACTION`, `serve`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from mlspec.cli.common import EXIT_OK, load, positive, where_options

if TYPE_CHECKING:
    from mlspec.cli.common import Subparsers


def cmd_deploy(args: argparse.Namespace) -> int:
    from mlspec.deploy import deploy

    done = deploy(load(args.file), args.target)
    for warning in done.warnings:
        print(warning, file=sys.stderr)
    for line in done.lines:
        print(line)
    return EXIT_OK


def cmd_registry(args: argparse.Namespace) -> int:
    from mlspec.registry import command, locate

    registry, model, root = locate(args.file, args.registry, args.model)
    action = args.registry_command
    if action == "list":
        text = command.list_versions(registry, model, as_json=args.json)
    elif action == "show":
        text = command.show(registry, model, args.ref, as_json=args.json, card=args.card)
    elif action == "history":
        text = command.history(registry, model, alias=args.alias, as_json=args.json)
    elif action == "promote":
        text = command.promote(registry, model, args.ref, args.alias, root=root, note=args.note)
    else:
        text = command.rollback(registry, model, args.alias, root=root, to=args.to, note=args.note)
    sys.stdout.write(text)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from mlspec.registry import locate
    from mlspec.serve import Limits, load_service, serve

    registry, model, _ = locate(args.file, args.registry, args.model)
    ref = str(args.version) if args.version is not None else args.alias
    # A serving host without a spec trusts the reviewed allowlist only; with one, its training.trust too.
    trust = load(args.file).spec.training.trust if Path(args.file).is_file() else []
    with tempfile.TemporaryDirectory(prefix="mlspec-serve.") as scratch:
        service = load_service(registry, model, ref, Path(scratch), _rejects(args.file), trust,
                               lambda line: print(line, file=sys.stderr))

        def ready(url: str) -> None:
            info = service.info
            print(f"serving {model!r} version {info['version']} ({info['trained_model']}, gate {info['verdict']})"
                  f" on {url}  (POST /predict, GET /health, GET /schema)", flush=True)

        serve(service, args.host, args.port, Limits(args.max_body_bytes, args.max_rows), ready)
    return EXIT_OK


def _rejects(spec_file: str) -> frozenset[str]:
    """The spec's ``serving`` policy when there is a spec (a serving host may have none: everything counted)."""
    from pathlib import Path

    from mlspec.load import load as load_spec

    return load_spec(spec_file).spec.serving.rejects() if Path(spec_file).is_file() else frozenset()


def add_deploy(sub: Subparsers) -> None:
    p = sub.add_parser("deploy", help="deploy the gated champion to one of the spec's deploy targets")
    p.add_argument("target", metavar="TARGET", help="a key of the spec's deploy section")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.set_defaults(func=cmd_deploy)


def add_registry(sub: Subparsers) -> None:
    reg = sub.add_parser("registry", help="list, show, promote and roll back registered model versions")
    actions = reg.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    reg.set_defaults(func=cmd_registry)
    p = actions.add_parser("list", help="every version, its gate verdict and the aliases naming it")
    where_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p = actions.add_parser("show", help="one version (a number or an alias): digest, verdict, provenance, metrics")
    p.add_argument("ref", metavar="VERSION|ALIAS")
    where_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--card", action="store_true", help="print the version's model card (Markdown)")
    p = actions.add_parser("promote", help="move an alias to a version whose gate passed")
    p.add_argument("ref", metavar="VERSION|ALIAS", help="the version, or an alias naming it (e.g. staging)")
    p.add_argument("alias", metavar="ALIAS", help="the alias to move, e.g. production")
    where_options(p)
    p.add_argument("--note", help="why, for the history")
    p = actions.add_parser("rollback", help="move an alias back to the version it named before")
    p.add_argument("alias", metavar="ALIAS")
    where_options(p)
    p.add_argument("--to", type=positive, metavar="N", help="an earlier version of the alias (default: the last one)")
    p.add_argument("--note", help="why, for the history")
    p = actions.add_parser("history", help="every registration and alias move: who, when, which commit")
    where_options(p)
    p.add_argument("--alias", help="only the moves of this alias")
    p.add_argument("--json", action="store_true", help="print JSON")


def add_serve(sub: Subparsers) -> None:
    p = sub.add_parser("serve", help="serve predictions of a registry version over HTTP")
    where_options(p)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--alias", default="production",
                       help="serve the version this alias names (default: production)")
    which.add_argument("--version", type=positive, metavar="N", help="serve version N")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (default: 8000)")
    p.add_argument("--max-body-bytes", type=positive, default=1 << 20, metavar="N",
                   help="refuse larger request bodies with 413 (default: 1 MiB)")
    p.add_argument("--max-rows", type=positive, default=10_000, metavar="N",
                   help="refuse requests with more rows with 422 (default: 10000)")
    p.set_defaults(func=cmd_serve)
