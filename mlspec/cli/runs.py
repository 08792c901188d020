"""`mlspec runs`: the run history. `runs [list]`, `runs show RUN`, `runs compare RUN RUN ...`, `runs sync`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from mlspec.cli.common import EXIT_OK, load, positive

if TYPE_CHECKING:
    from mlspec.cli.common import Subparsers
    from mlspec.load import Loaded
    from mlspec.runs.history import History

RUN_HELP = "a run id or a unique prefix of one, `latest`, or `latest~N` (N runs before the latest)"


def _history(args: argparse.Namespace) -> tuple[Loaded, History]:
    """The spec and its history, with the store's parts imported first unless --local."""
    from mlspec.runs import open_history
    from mlspec.store import open_store

    loaded = load(args.file)
    store = None if args.local else open_store(loaded)
    history, imported = open_history(loaded, store)
    if imported is not None:
        for problem in imported.skipped:
            print(f"warning: skipped {problem}", file=sys.stderr)
        if imported.added:
            print(f"imported {imported.added} part{'' if imported.added == 1 else 's'} of runs from the store "
                  f"{store.location if store else ''}", file=sys.stderr)
    return loaded, history


def _metric(loaded: Loaded) -> str | None:
    evaluation = loaded.spec.evaluation
    if evaluation is None:
        return None
    if evaluation.champion is not None and evaluation.champion.metric:
        return evaluation.champion.metric
    return evaluation.metrics[0] if evaluation.metrics else None


def cmd_list(args: argparse.Namespace) -> int:
    from mlspec.runs.query import Filters, find, parse_where
    from mlspec.runs.views import runs_json, table

    where = tuple(parse_where(w) for w in args.where)  # a malformed --where fails before any read
    loaded, history = _history(args)
    filters = Filters(args.branch, args.model, where)
    runs = find(history, filters, args.limit)
    if args.json:
        sys.stdout.write(runs_json(runs))
    else:
        print("\n".join(table(runs, _metric(loaded), filtered=bool(args.branch or args.model or where))))
    return EXIT_OK


def _resolved(history: History, refs: list[str]) -> list[str]:
    from mlspec.runs.query import resolve

    ids = history.run_ids()
    return [resolve(ref, ids) for ref in refs]


def cmd_show(args: argparse.Namespace) -> int:
    from mlspec.runs.views import dumps, show

    _, history = _history(args)
    run = history.runs(_resolved(history, [args.run]))[0]
    if args.json:
        sys.stdout.write(dumps(run.to_json()))
    else:
        print("\n".join(show(run)))
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from mlspec.errors import MlspecError
    from mlspec.fsutil import atomic_write_text
    from mlspec.runs.compare import compare, render
    from mlspec.runs.views import dumps

    if len(args.runs) < 2:
        raise MlspecError("mlspec runs compare needs two runs or more, e.g. `mlspec runs compare latest~1 latest`")
    _, history = _history(args)
    ids = _resolved(history, args.runs)
    comparison = compare(history.runs(ids))
    if args.html:
        from mlspec.runs import html

        atomic_write_text(args.html, html.render(comparison, args.param))
        print(f"wrote {args.html}", file=sys.stderr)
    if args.json:
        sys.stdout.write(dumps(comparison.to_json()))
    else:
        print("\n".join(render(comparison)))
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    from mlspec.runs import sync
    from mlspec.runtime.cilog import Log
    from mlspec.store import open_store

    loaded = load(args.file)
    done = sync(loaded, open_store(loaded), Log())
    print(f"mlspec runs sync: imported {done.imported} part(s) from the store, mirrored {done.mirrored} to it, "
          f"sent {done.tracked} to the tracking backend")
    return EXIT_OK


def _common(p: argparse.ArgumentParser, local: bool = True, verb: bool = False) -> None:
    """Options that `mlspec runs` and each verb both take. On a verb their default is SUPPRESS: argparse lets
    a subcommand's defaults overwrite what the parent parsed, which would drop `mlspec runs -f X show ...`'s
    -f; the parent's defaults stand in for them."""
    p.add_argument("-f", "--file", default=_default("mlspec.yaml", verb), help="spec file (default: mlspec.yaml)")
    if local:
        p.add_argument("--local", action="store_true", default=_default(False, verb),
                       help="read only the workspace's history (default: first import the store's new parts)")


def _json(p: argparse.ArgumentParser, what: str, verb: bool = False) -> None:
    p.add_argument("--json", action="store_true", default=_default(False, verb), help=f"print {what} as JSON")


def _default(value: object, verb: bool) -> object:
    return argparse.SUPPRESS if verb else value


def add_runs(sub: Subparsers) -> None:
    p = sub.add_parser("runs", help="the run history: list, show and compare recorded runs, sync them")
    _common(p)
    _list_options(p)
    p.set_defaults(func=cmd_list)
    verbs = p.add_subparsers(dest="verb", metavar="VERB")

    ls = verbs.add_parser("list", help="the recorded runs, newest first (the default)")
    _common(ls, verb=True)
    _list_options(ls, verb=True)
    ls.set_defaults(func=cmd_list)

    show = verbs.add_parser("show", help="one run in full: params, metrics, data, stages")
    _common(show, verb=True)
    _json(show, "the run's record", verb=True)
    show.add_argument("run", metavar="RUN", help=RUN_HELP)
    show.set_defaults(func=cmd_show)

    cmp = verbs.add_parser("compare", help="runs side by side: params that differ, metric deltas against the "
                                           "first run, data that changed, stages, verdicts")
    _common(cmp, verb=True)
    _json(cmp, "the comparison", verb=True)
    cmp.add_argument("runs", nargs="+", metavar="RUN", help=RUN_HELP + "; two or more")
    cmp.add_argument("--html", metavar="FILE", help="also write a self-contained HTML page with plots to FILE")
    cmp.add_argument("--param", action="append", default=[], metavar="MODEL.PARAM",
                     help="plot its model's metrics against this param, e.g. forest.max_depth (repeatable; "
                          "default: the params that differ)")
    cmp.set_defaults(func=cmd_compare)

    sync = verbs.add_parser("sync", help="import the store's runs, mirror the local ones it lacks, and send what "
                                         "the tracking backend has not taken yet")
    _common(sync, local=False, verb=True)
    sync.set_defaults(func=cmd_sync)


def _list_options(p: argparse.ArgumentParser, verb: bool = False) -> None:
    p.add_argument("--branch", default=_default(None, verb), metavar="NAME", help="only runs on this branch")
    p.add_argument("--model", default=_default(None, verb), metavar="NAME",
                   help="only runs that trained or evaluated this model")
    p.add_argument("--where", action="append", default=_default([], verb), metavar="COND",
                   help="only runs meeting [MODEL.]METRIC OP NUMBER, e.g. 'roc_auc>=0.9' (the champion's metric) "
                        "or 'forest.f1>0.8'; repeatable")
    p.add_argument("--limit", type=positive, default=_default(20, verb), metavar="N",
                   help="at most N runs (default: 20)")
    _json(p, "the runs", verb)
