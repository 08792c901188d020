"""``mlspec trials SPEC train:<model> --shard I/N``: one CI matrix job's share of a search.

The stage's upstream (its data stage and the suites on that data) is brought up to date as ``mlspec run``
would bring it (run cache, artifacts), then the trials whose number is ``I-1`` modulo ``N`` and that are not
cached yet run, and their results go into the trial cache: the workspace's ``trials/<model>/`` (which the
job uploads as an artifact for the train job) and the store, when there is one. mlspec.lock is not touched
for the train stage: the train job, finding every trial cached, only refits the best.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from mlspec.errors import MlspecError
from mlspec.graph import stage_id
from mlspec.load import Loaded
from mlspec.runtime.cilog import Log
from mlspec.runtime.context import RunOptions
from mlspec.runtime.search.driver import TrialResult
from mlspec.runtime.workspace import Workspace, display_path
from mlspec.store import open_store


class ShardError(MlspecError):
    """A shard that cannot run: a bad ``--shard``, a model without a search, an upstream stage that failed."""


@dataclass(frozen=True)
class ShardReport:
    model: str
    shard: tuple[int, int]
    results: list[TrialResult]

    @property
    def ran(self) -> int:
        return sum(r.status == "ran" for r in self.results)

    @property
    def cached(self) -> int:
        return sum(r.status == "cached" for r in self.results)

    @property
    def failed(self) -> int:
        return sum(r.status == "failed" for r in self.results)


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` → ``(2, 4)``; :class:`ShardError` for anything but ``I/N`` with ``1 <= I <= N``."""
    index, sep, count = text.partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise ShardError(f"--shard {text!r}: write I/N, e.g. --shard 1/4 for the first of four shards")
    i, n = int(index), int(count)
    if not 1 <= i <= n:
        raise ShardError(f"--shard {text!r}: I must be between 1 and N ({n})")
    return i, n


def trials(loaded: Loaded, stage: str, shard: tuple[int, int] = (1, 1), log: Log | None = None,
           options: RunOptions | None = None) -> ShardReport:
    """Run shard ``shard`` (``(I, N)``, 1-based) of the search of ``stage`` (``train:<model>``)."""
    from mlspec.runtime import runner
    from mlspec.runtime.context import StageError
    from mlspec.runtime.search import stage as search_stage
    from mlspec.runtime.stages import build, context
    from mlspec.runtime.stages import train as train_stage
    from mlspec.suggest import did_you_mean

    log = log or Log()
    options = options if options is not None else RunOptions.from_environ()
    models = loaded.spec.training.models
    kind, _, name = stage.partition(":")
    if kind != "train" or name not in models:
        raise ShardError(f"{stage!r} is not a train stage" + did_you_mean(stage, [stage_id("train", m) for m
                                                                                          in models]))
    model = models[name]
    index, count = shard
    if model.search is None:
        raise ShardError(f"model {name!r} has no search; `mlspec trials` runs the trials of a searched model")
    if model.search.method == "optuna" and count > 1:
        raise ShardError(f"model {name!r} has an optuna search, which cannot be split into shards (each trial "
                         "depends on the results before it); run it with --shard 1/1, or in the train job")
    target = next(s for s in build(loaded.spec) if s.id == stage_id("train", name))
    store = open_store(loaded)
    report = runner.run(loaded, list(target.needs), log=log, options=options, store=store)
    if not report.ok:
        raise ShardError(f"the stages {target.id} needs did not succeed, so no trial ran")
    workspace = Workspace.for_spec(loaded.path)
    scratch = workspace.new_tmp(target.id + "-trials")
    try:
        ctx = context(loaded, target, scratch, {n: workspace.stage_dir(n) for n in target.needs},
                      lambda text: log.line(f"  {text}"), options, workspace.root, store)
        try:
            setup = train_stage.setup(ctx)
            problem = search_stage.problem(ctx, setup)
            log.line(f"trials {target.id}: shard {index}/{count} of a {model.search.method} search")
            results = search_stage.run_problem(problem, setup.where, lambda n: n % count == index - 1)
        except StageError as exc:
            mark = loaded.line_of(*(exc.spec_path or ("training", "models", name)))
            raise ShardError(f"{loaded.path}:{mark.line}:{mark.col}: stage {target.id}: {exc}") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out = ShardReport(name, shard, results)
    for r in results:
        score = f"cv {problem.how.metric} {r.mean:.4f} ± {r.std:.4f}" if r.ok else f"failed: {r.error}"
        log.line(f"  trial {r.number} {r.params}: {score} ({r.status}, {r.seconds:.2f} s)")
    kept = display_path(workspace.root / "trials" / name)
    log.line(f"trials {target.id}: shard {index}/{count}: {len(results)} trials, {out.ran} ran, {out.cached} "
             f"from the cache, {out.failed} failed; results in {kept}")
    return out
