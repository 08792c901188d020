"""The `mlspec` command: parse arguments, call the Python API, map outcomes to exit codes.

Exit codes: 0 ok, 1 a user error or a failed check, 2 bad usage, 3 a bug in mlspec, 130 interrupted.
No logic lives here; each command is a few lines over :mod:`mlspec`'s API.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from mlspec import __version__

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3
ISSUES_HINT = "please report it to the mlspec maintainers with the traceback above"


def cmd_init(args: argparse.Namespace) -> int:
    from mlspec.project import init_project

    written = init_project(args.dir, args.example)
    print(f"created {args.example} project in {args.dir} ({len(written)} files)")
    spec = os.path.join(args.dir, "mlspec.yaml")
    print(f"next: mlspec validate -f {spec}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from mlspec.describe import render_summary
    from mlspec.load import load

    loaded = load(args.file)
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not args.quiet:
        print(f"{args.file}: valid")
        print(render_summary(loaded.spec))
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from mlspec.schema import render

    text = render()
    if args.output:
        from mlspec.fsutil import atomic_write_text

        atomic_write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlspec",
        description="Validate, compile and run the ML pipeline described by mlspec.yaml.",
    )
    parser.add_argument("--version", action="version", version=f"mlspec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("init", help="create a working project (spec and data) from a bundled example")
    p.add_argument("dir", nargs="?", default=".", help="directory to create the project in (default: .)")
    p.add_argument("--example", default="breast-cancer", metavar="NAME",
                   help="breast-cancer (binary), wine (multiclass) or diabetes (regression)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("validate", help="check mlspec.yaml and report every problem with its line and column")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when the spec is valid")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of mlspec.yaml")
    p.add_argument("-o", "--output", help="write it to this file instead of standard output")
    p.set_defaults(func=cmd_schema)
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


if __name__ == "__main__":
    sys.exit(main())
