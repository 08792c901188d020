"""`mlspec trials`: run one CI matrix job's share of a model's hyperparameter search."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from mlspec.cli.common import EXIT_OK, load

if TYPE_CHECKING:
    from mlspec.cli.common import Subparsers


def cmd_trials(args: argparse.Namespace) -> int:
    from mlspec.runtime.search.shard import parse_shard, trials

    shard = parse_shard(args.shard)
    trials(load(args.file), args.stage, shard)
    return EXIT_OK


def add_trials(sub: Subparsers) -> None:
    p = sub.add_parser("trials", help="run a share of a model's search trials and keep their results for its train "
                                      "stage (a CI matrix job); records nothing in mlspec.lock")
    p.add_argument("stage", metavar="STAGE", help="the train stage of a searched model, e.g. train:forest")
    p.add_argument("-f", "--file", default="mlspec.yaml", help="spec file (default: mlspec.yaml)")
    p.add_argument("--shard", default="1/1", metavar="I/N",
                   help="run the trials whose number is I-1 modulo N (1-based; default 1/1: every trial)")
    p.set_defaults(func=cmd_trials)
