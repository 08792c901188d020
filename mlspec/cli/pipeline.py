"""Commands that run stages or read what they recorded: `run`, `plan`, `gate`, `monitor`, `diff`, `status`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from mlspec.cli.common import EXIT_OK, EXIT_USER, load, seconds, set_option

if TYPE_CHECKING:
    from mlspec.cli.common import Subparsers

STAGES_HELP = "stage ids (train:forest) or kinds (train); default: every stage that can run"
WAIT_HELP = "if another run holds the workspace, wait up to SECONDS for it (default: fail at once)"


def cmd_run(args: argparse.Namespace) -> int:
    from mlspec.runtime.runner import run

    report = run(load(args.file, args.overrides), args.stages, force=args.force, wait=args.wait)
    return EXIT_OK if report.ok else EXIT_USER


def cmd_plan(args: argparse.Namespace) -> int:
    from mlspec.runtime.runner import plan, render_plan

    for line in render_plan(plan(load(args.file, args.overrides), args.stages, force=args.force)):
        print(line)
    return EXIT_OK


def cmd_gate(args: argparse.Namespace) -> int:
    from mlspec.baseline import resolve
    from mlspec.runtime.context import RunOptions
    from mlspec.runtime.runner import run
    from mlspec.runtime.verdict import shown_verdict

    loaded = load(args.file, args.overrides)
    if args.baseline:
        resolve(loaded, args.baseline)  # a bad --baseline fails here, before any stage runs
    # --baseline, else MLSPEC_BASELINE: the gate stage and its fingerprint both get it from the run's options.
    report = run(loaded, ["gate"], wait=args.wait, options=RunOptions.from_environ(baseline=args.baseline))
    lines = shown_verdict(report)
    if lines:
        print()
        print("\n".join(lines))
    return EXIT_OK if report.ok else EXIT_USER


def cmd_monitor(args: argparse.Namespace) -> int:
    from mlspec.monitor.command import monitor, open_issue, write_outputs

    loaded = load(args.file)
    if args.open_issue:
        print("\n".join(open_issue(loaded)))
        return EXIT_OK
    result = monitor(loaded, wait=args.wait)
    if result.lines:
        print()
        print("\n".join(result.lines))
    if result.drift is None:
        return EXIT_USER
    if args.outputs:
        write_outputs(args.outputs, result.drift)
    return EXIT_OK if not result.drift or args.exit_zero_on_drift else EXIT_USER


def cmd_diff(args: argparse.Namespace) -> int:
    from mlspec.diff import diff, dumps, render

    result = diff(load(args.file), args.rev)
    if args.json:
        sys.stdout.write(dumps(result, args.all))
    else:
        print("\n".join(render(result, args.all)))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from mlspec.runtime.status import status

    for line in status(load(args.file)):
        print(line)
    return EXIT_OK


def add_run(sub: Subparsers) -> None:
    p = sub.add_parser("run", help="run the pipeline's stages, skipping those whose inputs did not change")
    p.add_argument("stages", nargs="*", metavar="STAGE", help=STAGES_HELP)
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--force", action="store_true", help="rerun the named stages (all, if none) even if up to date")
    p.add_argument("--wait", type=seconds, default=0.0, metavar="SECONDS", help=WAIT_HELP)
    set_option(p)
    p.set_defaults(func=cmd_run)


def add_plan(sub: Subparsers) -> None:
    p = sub.add_parser("plan", help="show which stages `mlspec run` would run and why, without running them")
    p.add_argument("stages", nargs="*", metavar="STAGE", help=STAGES_HELP)
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--force", action="store_true", help="plan as `mlspec run --force` would run")
    set_option(p)
    p.set_defaults(func=cmd_plan)


def add_gate(sub: Subparsers) -> None:
    p = sub.add_parser("gate", help="run what the gate needs, then judge the champion against evaluation.gates")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--baseline", metavar="REV|PATH|registry:ALIAS",
                   help="compare with this git revision's mlspec.lock, an mlspec.lock / metrics.json file, or "
                        "the registry version ALIAS names (default: evaluation.baseline)")
    p.add_argument("--wait", type=seconds, default=0.0, metavar="SECONDS", help=WAIT_HELP)
    set_option(p)
    p.set_defaults(func=cmd_gate)


def add_monitor(sub: Subparsers) -> None:
    p = sub.add_parser("monitor", help="compare the current data with the deployed model's reference; exit 1 on "
                                       "drift")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--wait", type=seconds, default=0.0, metavar="SECONDS", help=WAIT_HELP)
    p.add_argument("--outputs", metavar="FILE",
                   help="append MLSPEC_DRIFT=true|false to FILE ($GITHUB_OUTPUT, a GitLab dotenv report)")
    p.add_argument("--exit-zero-on-drift", action="store_true",
                   help="exit 0 on drift (errors still exit 1), for pipelines where a later job acts on it")
    p.add_argument("--open-issue", action="store_true",
                   help="instead of monitoring: open or update the drift issue from the last report (CI only)")
    p.set_defaults(func=cmd_monitor)


def add_diff(sub: Subparsers) -> None:
    p = sub.add_parser("diff", help="compare metrics, params and data digests with a git revision")
    p.add_argument("rev", nargs="?", default="HEAD", metavar="REV", help="git revision (default: HEAD)")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--all", action="store_true", help="also list values that did not change")
    p.set_defaults(func=cmd_diff)


def add_status(sub: Subparsers) -> None:
    p = sub.add_parser("status", help="summarise the workspace: recorded stages, their outputs, last metrics")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.set_defaults(func=cmd_status)
