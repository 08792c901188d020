"""Commands that show a run to people: `report` (the files) and `comment` (the pull/merge request comment)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from mlspec.cli.common import EXIT_OK, load

if TYPE_CHECKING:
    from mlspec.cli.common import Subparsers


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlspec.report.outputs import write

    for line in write(load(args.file), [args.format], Path(args.out) if args.out else None):
        print(line)
    return EXIT_OK


def cmd_comment(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlspec.report.publish import comment

    for line in comment(load(args.file), Path(args.body) if args.body else None):
        print(line)
    return EXIT_OK


def add_report(sub: Subparsers) -> None:
    p = sub.add_parser("report", help="write the report of the run: Markdown, HTML, JUnit XML, GitLab metrics")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--format", choices=("markdown", "html", "junit", "gitlab-metrics", "all"), default="all",
                   help="which report to write (default: all)")
    p.add_argument("--out", metavar="DIR", help="directory to write into (default: the workspace's report/)")
    p.set_defaults(func=cmd_report)


def add_comment(sub: Subparsers) -> None:
    p = sub.add_parser("comment", help="post the report as one pull/merge request comment, updated in place")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--body", metavar="FILE", help="post this Markdown file instead of the report of the workspace")
    p.set_defaults(func=cmd_comment)
