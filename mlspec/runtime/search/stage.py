"""The search inside a ``train:<model>`` stage: from the stage's context to the best trial.

:func:`problem` turns the train stage's setup into a :class:`~.driver.Problem` (also used by ``mlspec
trials``, :mod:`.shard`), :func:`run` runs it and writes ``trials.json``. The CV rows are the training
source's rows only: the evaluation rows the gate judges are another data source, which this stage never reads.

``trials.json`` in the outputs holds what the trials found (number, params, fold scores, mean and std, or the
failure): the same spec, data and libraries give the same bytes, so the stage's outputs do not churn. Whether
a trial ran or came from the cache, and how long it took, are facts of one run: ``_run/trials.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlspec.checks import search_metric
from mlspec.metrics import METRICS
from mlspec.runtime.context import StageError
from mlspec.runtime.search.cache import TrialCache
from mlspec.runtime.search.cv import Scoring
from mlspec.runtime.search.driver import Problem, TrialResult, best, search
from mlspec.runtime.search.executors import ClusterError
from mlspec.suggest import did_you_mean

if TYPE_CHECKING:
    from pathlib import Path

    from mlspec.runtime.context import StageContext
    from mlspec.runtime.stages.train import Setup
    from mlspec.spec import Search

TRIALS_FILE = "trials.json"


@dataclass(frozen=True)
class Searched:
    best: TrialResult
    summary: dict[str, Any]
    """The bundle's ``metadata["search"]``: method, trials, best_trial, metric, cv_score, cv."""
    metrics: dict[str, Any]
    """For mlspec.lock: ``trials`` and ``cv_<metric>``."""


def problem(ctx: StageContext, s: Setup, cache_root: Path | None = None) -> Problem:
    """The search of the model ``s`` is about, scored on its training rows."""
    from mlspec.runtime import boosting, bundle
    from mlspec.runtime.stages import train

    spec = ctx.spec
    search_spec = s.model.search
    assert search_spec is not None
    for path, message in unknown_params(s.cls, search_spec, s.where):
        raise StageError(message, path)
    metric = search_metric(spec, search_spec)
    seed = spec.training.seed

    def pipeline_for(params: dict[str, Any]) -> Any:
        trial_model = s.model.model_copy(update={"params": {**s.model.params, **params}})
        estimator, _ = train.build_estimator(s.cls, trial_model, seed, s.where)
        wrapped = boosting.wrap(estimator, s.model.estimator, spec.task)
        return train.make_pipeline(s.features, s.model.preprocessing, wrapped, s.derive)

    profile = bundle.read_profile(ctx.upstream(f"data:{s.model.data}"))
    base = {
        "estimator": s.model.estimator, "params": s.params, "preprocessing": s.model.preprocessing.model_dump(),
        "fit": s.model.fit, "threshold": s.model.threshold,
        "early_stopping": None if s.model.early_stopping is None else s.model.early_stopping.model_dump(),
        "derived": {n: d.model_dump(exclude_defaults=True) for n, d in spec.data.derived.items()},
        "features": {"numeric": list(s.features.numeric), "categorical": list(s.features.categorical),
                     "datetime": list(s.features.datetime), "target": s.features.label},
        "task": spec.task, "positive_class": spec.data.positive_class, "data": profile.get("digest"),
        "rows": len(s.frame), "cv": search_spec.cv, "seed": seed, "metric": metric,
        "versions": train.versions(s.model.estimator),
    }
    root = cache_root if cache_root is not None else ctx.workspace_root
    cache = TrialCache.of(root if root is not None else ctx.out_dir.parent, s.name, ctx.store)
    how = Scoring(s.model, spec.task, seed, metric, spec.data.positive_class, s.where)
    return Problem(search_spec, seed, s.frame[s.features.columns], s.y, how, pipeline_for, base, cache,
                   METRICS[metric].greater_is_better, ctx.options.dask_scheduler, ctx.log)


def unknown_params(cls: type, search: Search, where: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    """Each key of ``search.space`` that is not a param of the estimator class ``cls``, with its message."""
    from mlspec.runtime.stages import train

    names, open_ended = train._param_names(cls)
    if open_ended:  # **kwargs: any name may be legitimate
        return []
    return [((*where, "search", "space", key), f"unknown parameter {key!r} of {cls.__name__}"
             + did_you_mean(key, names)) for key in search.space if key not in names]


def run(ctx: StageContext, s: Setup) -> Searched:
    """Run the search of the model ``s`` is about; the best trial, for the stage to refit."""
    p = problem(ctx, s)
    assert p.search is s.model.search and s.model.search is not None
    where_run = ("on the Dask cluster at " + p.scheduler) if p.scheduler else (
        f"{p.search.parallel} at a time" if p.search.parallel > 1 else "one at a time")
    ctx.log(f"search: {p.search.method} over {', '.join(p.search.space)}, {p.search.cv}-fold CV on the "
            f"{len(p.x)} training rows by {p.how.metric}, {where_run}")
    results = run_problem(p, s.where)
    chosen = best(results, p.greater_is_better)
    counts = {k: sum(r.status == k for r in results) for k in ("ran", "cached", "failed")}
    ctx.log(f"search: {len(results)} trials: {counts['ran']} ran, {counts['cached']} from the cache, "
            f"{counts['failed']} failed")
    write(ctx, p, results, chosen)
    if chosen is None:
        first = results[0]
        raise StageError(f"every one of the {len(results)} trials of model {s.name!r} failed; trial "
                         f"{first.number} {first.params}: {first.error}", (*s.where, "search"))
    ctx.log(f"search: best trial {chosen.number} {chosen.params}: cv {p.how.metric} "
            f"{chosen.mean:.4f} ± {chosen.std:.4f}")
    summary = {"method": p.search.method, "trials": len(results), "best_trial": chosen.number,
               "metric": p.how.metric, "cv_score": chosen.mean, "cv": p.search.cv}
    return Searched(chosen, summary, {"trials": len(results), f"cv_{p.how.metric}": chosen.mean})


def run_problem(p: Problem, where: tuple[str | int, ...], share: Any = None) -> list[TrialResult]:
    """:func:`~.driver.search`, with a cluster that does not answer as a located stage error."""
    try:
        return search(p, share)
    except ClusterError as exc:
        raise StageError(str(exc), (*where, "search")) from None


def write(ctx: StageContext, p: Problem, results: list[TrialResult], chosen: TrialResult | None) -> None:
    found = {"method": p.search.method, "metric": p.how.metric, "greater_is_better": p.greater_is_better,
             "cv": p.search.cv, "rows": len(p.x), "best_trial": None if chosen is None else chosen.number,
             "trials": [_found(r) for r in results]}
    facts = {"trials": [{"number": r.number, "status": r.status, "seconds": r.seconds} for r in results]}
    (ctx.out_dir / TRIALS_FILE).write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    (ctx.run_dir / TRIALS_FILE).write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")


def _found(r: TrialResult) -> Mapping[str, Any]:
    if not r.ok:
        return {"number": r.number, "params": r.params, "failed": r.error}
    return {"number": r.number, "params": r.params, "cv_mean": r.mean, "cv_std": r.std, "scores": r.scores}
