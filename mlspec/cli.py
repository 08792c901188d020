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


def cmd_gate(args: argparse.Namespace) -> int:
    from mlspec.baseline import ENV_VAR, resolve
    from mlspec.runtime.runner import run
    from mlspec.runtime.verdict import shown_verdict

    loaded = _load(args.file)
    if args.baseline:
        resolve(loaded, args.baseline)  # a bad --baseline fails here, before any stage runs
        os.environ[ENV_VAR] = args.baseline  # the stage and its fingerprint read the request from there
    report = run(loaded, ["gate"], wait=args.wait)
    lines = shown_verdict(report)
    if lines:
        print()
        print("\n".join(lines))
    return EXIT_OK if report.ok else EXIT_USER


def cmd_monitor(args: argparse.Namespace) -> int:
    from mlspec.monitor.command import monitor, open_issue, write_outputs

    loaded = _load(args.file)
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

    result = diff(_load(args.file), args.rev)
    if args.json:
        sys.stdout.write(dumps(result, args.all))
    else:
        print("\n".join(render(result, args.all)))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlspec.report.outputs import write

    for line in write(_load(args.file), [args.format], Path(args.out) if args.out else None):
        print(line)
    return EXIT_OK


def cmd_comment(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlspec.report.publish import comment

    for line in comment(_load(args.file), Path(args.body) if args.body else None):
        print(line)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from mlspec.runtime.status import status

    for line in status(_load(args.file)):
        print(line)
    return EXIT_OK


def cmd_deploy(args: argparse.Namespace) -> int:
    from mlspec.deploy import deploy

    done = deploy(_load(args.file), args.target)
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
    with tempfile.TemporaryDirectory(prefix="mlspec-serve.") as scratch:
        service = load_service(registry, model, ref, Path(scratch))

        def ready(url: str) -> None:
            info = service.info
            print(f"serving {model!r} version {info['version']} ({info['trained_model']}, gate {info['verdict']})"
                  f" on {url}  (POST /predict, GET /health, GET /schema)", flush=True)

        serve(service, args.host, args.port, Limits(args.max_body_bytes, args.max_rows), ready)
    return EXIT_OK


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}")
    return value


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def _where_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file naming the registry (default: mlspec.yaml)")
    p.add_argument("--registry", metavar="DIR",
                   help="a file registry directory, instead of the spec's registry (no spec needed with --model)")
    p.add_argument("--model", metavar="NAME", help="registered model name (default: the spec's project)")


def _registry_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reg = sub.add_parser("registry", help="list, show, promote and roll back registered model versions")
    actions = reg.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    reg.set_defaults(func=cmd_registry)
    p = actions.add_parser("list", help="every version, its gate verdict and the aliases naming it")
    _where_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p = actions.add_parser("show", help="one version (a number or an alias): digest, verdict, provenance, metrics")
    p.add_argument("ref", metavar="VERSION|ALIAS")
    _where_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--card", action="store_true", help="print the version's model card (Markdown)")
    p = actions.add_parser("promote", help="move an alias to a version whose gate passed")
    p.add_argument("ref", metavar="VERSION|ALIAS", help="the version, or an alias naming it (e.g. staging)")
    p.add_argument("alias", metavar="ALIAS", help="the alias to move, e.g. production")
    _where_options(p)
    p.add_argument("--note", help="why, for the history")
    p = actions.add_parser("rollback", help="move an alias back to the version it named before")
    p.add_argument("alias", metavar="ALIAS")
    _where_options(p)
    p.add_argument("--to", type=_positive, metavar="N", help="an earlier version of the alias (default: the last one)")
    p.add_argument("--note", help="why, for the history")
    p = actions.add_parser("history", help="every registration and alias move: who, when, which commit")
    _where_options(p)
    p.add_argument("--alias", help="only the moves of this alias")
    p.add_argument("--json", action="store_true", help="print JSON")


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

    p = sub.add_parser("gate", help="run what the gate needs, then judge the champion against evaluation.gates")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--baseline", metavar="REV|PATH",
                   help="compare with this git revision's mlspec.lock, or an mlspec.lock / metrics.json file "
                        "(default: the pull request's target branch, else ci.default_branch)")
    p.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                   help="if another run holds the workspace, wait up to SECONDS for it (default: fail at once)")
    p.set_defaults(func=cmd_gate)

    p = sub.add_parser("monitor", help="compare the current data with the deployed model's reference; exit 1 on "
                                       "drift")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                   help="if another run holds the workspace, wait up to SECONDS for it (default: fail at once)")
    p.add_argument("--outputs", metavar="FILE",
                   help="append MLSPEC_DRIFT=true|false to FILE ($GITHUB_OUTPUT, a GitLab dotenv report)")
    p.add_argument("--exit-zero-on-drift", action="store_true",
                   help="exit 0 on drift (errors still exit 1), for pipelines where a later job acts on it")
    p.add_argument("--open-issue", action="store_true",
                   help="instead of monitoring: open or update the drift issue from the last report (CI only)")
    p.set_defaults(func=cmd_monitor)

    p = sub.add_parser("diff", help="compare metrics, params and data digests with a git revision")
    p.add_argument("rev", nargs="?", default="HEAD", metavar="REV", help="git revision (default: HEAD)")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--all", action="store_true", help="also list values that did not change")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("report", help="write the report of the run: Markdown, HTML, JUnit XML, GitLab metrics")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--format", choices=("markdown", "html", "junit", "gitlab-metrics", "all"), default="all",
                   help="which report to write (default: all)")
    p.add_argument("--out", metavar="DIR", help="directory to write into (default: the workspace's report/)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("comment", help="post the report as one pull/merge request comment, updated in place")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--body", metavar="FILE", help="post this Markdown file instead of the report of the workspace")
    p.set_defaults(func=cmd_comment)

    p = sub.add_parser("status", help="summarise the workspace: recorded stages, their outputs, last metrics")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("deploy", help="deploy the gated champion to one of the spec's deploy targets")
    p.add_argument("target", metavar="TARGET", help="a key of the spec's deploy section")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.set_defaults(func=cmd_deploy)

    _registry_parser(sub)

    p = sub.add_parser("serve", help="serve predictions of a registry version over HTTP")
    _where_options(p)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--alias", default="production",
                       help="serve the version this alias names (default: production)")
    which.add_argument("--version", type=_positive, metavar="N", help="serve version N")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (default: 8000)")
    p.add_argument("--max-body-bytes", type=_positive, default=1 << 20, metavar="N",
                   help="refuse larger request bodies with 413 (default: 1 MiB)")
    p.add_argument("--max-rows", type=_positive, default=10_000, metavar="N",
                   help="refuse requests with more rows with 422 (default: 10000)")
    p.set_defaults(func=cmd_serve)

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
