"""A search from plan to results: look every trial up in the cache, run the missing ones, pick the best.

Grid and random trials are all known up front (:mod:`.space`); Optuna's are asked for in batches of
``parallel`` and told back in trial-number order (:mod:`.tpe`), so the points it suggests never depend on
which worker finished first, and a point whose result is cached is told without being fitted again. A shard (``share``)
runs only the trials it is given; the others are left for other shards, and for the train job to find.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlspec.runtime.search import executors
from mlspec.runtime.search.cache import TrialCache, trial_fingerprint
from mlspec.runtime.search.space import Planned, plan

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlspec.runtime.search.cv import FoldScore, Scoring
    from mlspec.spec import Search


@dataclass(frozen=True)
class TrialResult:
    number: int
    params: dict[str, Any]
    status: str
    """"ran", "cached" or "failed"."""
    scores: list[float]
    seconds: float
    """Fitting and scoring time summed over the folds (when it ran, for a cached trial)."""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else float("nan")

    @property
    def std(self) -> float:
        return statistics.pstdev(self.scores) if self.scores else float("nan")


@dataclass
class Problem:
    """Everything a search needs besides its spec: the data, how to build and score a trial's pipeline."""

    search: Search
    seed: int
    x: pd.DataFrame
    y: pd.Series
    how: Scoring
    pipeline_for: Callable[[dict[str, Any]], Any]
    """The unfitted Pipeline of a trial's params (raises for params the estimator refuses)."""
    base: Mapping[str, Any]
    """What every trial's fingerprint shares (see :mod:`.cache`)."""
    cache: TrialCache
    greater_is_better: bool
    scheduler: str | None = None
    log: Callable[[str], None] = lambda _: None
    folds: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)


def search(problem: Problem, share: Callable[[int], bool] | None = None) -> list[TrialResult]:
    """The result of every trial (of the ``share`` of trial numbers, when given), in trial-number order."""
    if problem.search.method == "optuna":
        from mlspec.runtime.search.tpe import search as optuna_search

        return optuna_search(problem, lambda batch: evaluate(problem, batch))
    return evaluate(problem, [t for t in plan(problem.search, problem.seed) if share is None or share(t.number)])


def evaluate(problem: Problem, trials: Sequence[Planned]) -> list[TrialResult]:
    """Each of ``trials``' result: from the cache, or run (and then cached unless it failed)."""
    out: dict[int, TrialResult] = {}
    todo: list[tuple[Planned, str, Any]] = []
    for trial in trials:
        fp = trial_fingerprint(problem.base, trial.params)
        hit = problem.cache.get(fp)
        if hit is not None:
            out[trial.number] = TrialResult(trial.number, trial.params, "cached", list(hit["scores"]),
                                            float(hit.get("seconds", 0.0)))
            continue
        try:
            pipeline = problem.pipeline_for(trial.params)
        except Exception as exc:  # a constructor that validates eagerly refuses this point only
            out[trial.number] = TrialResult(trial.number, trial.params, "failed", [], 0.0, _reason(exc))
            continue
        todo.append((trial, fp, pipeline))
    for result in _run(problem, todo):
        out[result.number] = result
    return [out[t.number] for t in trials]


def _run(problem: Problem, todo: Sequence[tuple[Planned, str, Any]]) -> Iterator[TrialResult]:
    if not todo:
        return
    if not problem.folds:
        from mlspec.runtime.search.cv import folds

        problem.folds = folds(problem.y, problem.search.cv, problem.seed, problem.how.task)
    k = len(problem.folds)
    tasks = [(pipeline, train, test) for _, _, pipeline in todo for train, test in problem.folds]
    scores = executors.stream(tasks, problem.x, problem.y, problem.how, problem.search.parallel, problem.scheduler)
    for trial, fp, _ in todo:
        got: list[FoldScore] = [next(scores) for _ in range(k)]
        seconds = round(sum(f.seconds for f in got), 3)
        errors = [f.error for f in got if f.error is not None]
        if errors:
            problem.log(f"trial {trial.number} {_shown(trial.params)} failed: {errors[0]}")
            yield TrialResult(trial.number, trial.params, "failed", [], seconds, errors[0])
            continue
        values = [float(f.score) for f in got if f.score is not None]
        result = TrialResult(trial.number, trial.params, "ran", values, seconds)
        problem.cache.put(fp, {"model": problem.cache.model, "params": trial.params, "metric": problem.how.metric,
                               "scores": values, "mean": result.mean, "std": result.std, "seconds": seconds})
        yield result


def best(results: Sequence[TrialResult], greater_is_better: bool) -> TrialResult | None:
    """The trial with the best mean CV score (the lowest number among equals); None if every trial failed."""
    done = [r for r in results if r.ok]
    if not done:
        return None
    sign = -1.0 if greater_is_better else 1.0
    return min(done, key=lambda r: (sign * r.mean, r.number))


def _shown(params: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in params.items()) + "}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
