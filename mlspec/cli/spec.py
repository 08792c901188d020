"""Commands about the spec itself: `init`, `validate`, `compile`, `schema`. None of them runs a stage."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from mlspec.cli.common import EXIT_OK, EXIT_USER, load, set_option
from mlspec.targets import NAMES as PLATFORM_NAMES

if TYPE_CHECKING:
    from mlspec.cli.common import Subparsers
    from mlspec.load import Loaded


def cmd_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlspec.project import GITIGNORE, init_project

    ignore = os.path.join(args.dir, GITIGNORE)
    had_ignore = os.path.exists(ignore)
    written = init_project(args.dir, args.example, args.template)
    what = f"{args.template} template" if args.template else f"{args.example} project"
    print(f"created {what} in {args.dir} ({len(written)} files)")
    if not had_ignore:
        print(f"wrote {ignore}: what to commit and what not (README, \"What to commit\")")
    elif Path(ignore) in written:
        print(f"appended mlspec's block to {ignore}")
    else:
        print(f"kept {ignore}: it has mlspec's block already")
    spec = os.path.join(args.dir, "mlspec.yaml")
    if args.template:
        print(f"next: fill in the places marked FILL IN in {spec}, then mlspec validate -f {spec}")
    else:
        print(f"next: mlspec validate -f {spec}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    loaded = load(args.file, args.overrides)
    if args.data:
        check_data(loaded)
    if not args.quiet:
        # Only the summary needs the stage graph (and so the stage kinds): `-q`, as the pre-commit hook runs
        # it, does not pay for importing them.
        from mlspec.describe import render_summary

        print(f"{args.file}: valid")
        print(render_summary(loaded.spec))
    return EXIT_OK


def check_data(loaded: Loaded) -> None:
    """``--data``: the estimators and the data files, checked as the pipeline will meet them (heavy imports)."""
    from mlspec.datacheck import check_data as check
    from mlspec.errors import SpecError
    from mlspec.load import locate
    from mlspec.runtime.workspace import Workspace

    report = check(loaded.spec, loaded.root, Workspace.for_spec(loaded.path).stages_dir)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if report.findings:
        raise SpecError(locate(loaded, report.findings), loaded.doc.text)
    checked = ", ".join(report.checked) or "none"
    print(f"{loaded.path}: data checked ({len(loaded.spec.training.models)} estimators; sources read: {checked})",
          file=sys.stderr)


def cmd_compile(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlspec.compile import compile_spec, repo_relative, root_warning, stale, write

    loaded = load(args.file)
    out_dir = Path(args.out)
    platforms = PLATFORM_NAMES if args.target == "all" else (args.target,)
    files = compile_spec(loaded.spec, repo_relative(Path(args.file), out_dir), platforms)
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
    warning = root_warning(out_dir)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
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


def add_init(sub: Subparsers) -> None:
    p = sub.add_parser("init", help="create a project (spec and data) from a bundled example, or a blank spec for "
                                    "your own data; and its .gitignore")
    p.add_argument("dir", nargs="?", default=".", help="directory to create the project in (default: .)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--example", default="breast-cancer", metavar="NAME",
                       help="breast-cancer (binary), wine (multiclass) or diabetes (regression)")
    which.add_argument("--template", metavar="NAME",
                       help="blank: a minimal commented mlspec.yaml for your own data, no example data")
    p.set_defaults(func=cmd_init)


def add_validate(sub: Subparsers) -> None:
    p = sub.add_parser("validate", help="check mlspec.yaml and report every problem with its line and column")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when the spec is valid")
    p.add_argument("--data", action="store_true",
                   help="also import the estimators and read the data headers and labels (what training will meet)")
    set_option(p)
    p.set_defaults(func=cmd_validate)


def add_compile(sub: Subparsers) -> None:
    p = sub.add_parser("compile", help="generate the GitHub Actions and GitLab CI pipelines from the spec")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--target", choices=(*PLATFORM_NAMES, "all"), default="all",
                   help="which CI platform to generate for (default: all)")
    p.add_argument("--out", default=".", metavar="DIR",
                   help="repository root to write .github/ and .gitlab-ci.yml into (default: .)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; print a diff and exit 1 if the generated files are stale")
    p.set_defaults(func=cmd_compile)


def add_schema(sub: Subparsers) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of mlspec.yaml")
    p.add_argument("-o", "--output", help="write it to this file instead of standard output")
    p.set_defaults(func=cmd_schema)
