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
from typing import TYPE_CHECKING

from mlspec import __version__

if TYPE_CHECKING:
    from mlspec.load import Loaded

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3
ISSUES_HINT = "please report it to the mlspec maintainers with the traceback above"


def cmd_init(args: argparse.Namespace) -> int:
    from mlspec.project import init_project

    written = init_project(args.dir, args.example)
    print(f"created {args.example} project in {args.dir} ({len(written)} files)")
    spec = os.path.join(args.dir, "mlspec.yaml")
    print(f"next: mlspec validate -f {spec}")
    return EXIT_OK


def _load(path: str) -> Loaded:
    from mlspec.load import load

    loaded = load(path)
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return loaded


def cmd_validate(args: argparse.Namespace) -> int:
    from mlspec.describe import render_summary

    loaded = _load(args.file)
    if not args.quiet:
        print(f"{args.file}: valid")
        print(render_summary(loaded.spec))
    return EXIT_OK


def cmd_compile(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlspec.compile import TARGETS, compile_spec, repo_relative, stale, write

    loaded = _load(args.file)
    out_dir = Path(args.out)
    targets = TARGETS if args.target == "all" else (args.target,)
    files = compile_spec(loaded.spec, repo_relative(Path(args.file), out_dir), targets)
    if args.check:
        diffs = stale(files, out_dir)
        for diff in diffs:
            sys.stdout.write(diff)
        if diffs:
            print(f"mlspec compile --check: {len(diffs)} of {len(files)} generated files are stale; "
                  "run `mlspec compile` and commit the result", file=sys.stderr)
            return EXIT_USER
        print(f"mlspec compile --check: {len(files)} generated files are up to date")
        return EXIT_OK
    written = write(files, out_dir)
    for rel in files:
        state = "wrote" if out_dir / rel in written else "unchanged"
        print(f"{state} {out_dir / rel}")
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


def cmd_run(args: argparse.Namespace) -> int:
    from mlspec.runtime.runner import run

    report = run(_load(args.file), args.stages, force=args.force, wait=args.wait)
    return EXIT_OK if report.ok else EXIT_USER


def cmd_plan(args: argparse.Namespace) -> int:
    from mlspec.runtime.runner import plan, render_plan

    for line in render_plan(plan(_load(args.file), args.stages, force=args.force)):
        print(line)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from mlspec.runtime.status import status

    for line in status(_load(args.file)):
        print(line)
    return EXIT_OK


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}")
    return value


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

    stages_help = "stage ids (train:forest) or kinds (train); default: every stage that can run"
    p = sub.add_parser("run", help="run the pipeline's stages, skipping those whose inputs did not change")
    p.add_argument("stages", nargs="*", metavar="STAGE", help=stages_help)
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--force", action="store_true", help="rerun the named stages (all, if none) even if up to date")
    p.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                   help="if another run holds the workspace, wait up to SECONDS for it (default: fail at once)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("plan", help="show which stages `mlspec run` would run and why, without running them")
    p.add_argument("stages", nargs="*", metavar="STAGE", help=stages_help)
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--force", action="store_true", help="plan as `mlspec run --force` would run")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("status", help="summarise the workspace: recorded stages, their outputs, last metrics")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("compile", help="generate the GitHub Actions and GitLab CI pipelines from the spec")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--target", choices=("github", "gitlab", "all"), default="all",
                   help="which CI platform to generate for (default: all)")
    p.add_argument("--out", default=".", metavar="DIR",
                   help="repository root to write .github/ and .gitlab-ci.yml into (default: .)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; print a diff and exit 1 if the generated files are stale")
    p.set_defaults(func=cmd_compile)

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
