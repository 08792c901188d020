"""Optuna's TPE sampler, seeded by ``training.seed``, asked for trials in batches of ``parallel``.

A batch is asked for, evaluated (each point looked up in the trial cache first) and told back in trial-number
order before the next is asked: what the sampler suggests next depends only on the results, never on timing,
so the same spec and cache give the same trials on any machine. A failed trial is told as failed (Optuna
then samples around it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mlspec.runtime.search.space import Planned
from mlspec.spec import SearchRange

if TYPE_CHECKING:
    from mlspec.runtime.search.driver import Problem, TrialResult


def distributions(space: dict[str, Any]) -> dict[str, Any]:
    """The Optuna distribution of each key of ``space``."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for key, values in space.items():
        if isinstance(values, list):
            out[key] = CategoricalDistribution(values)
        elif isinstance(values, SearchRange) and isinstance(values.low, int) and isinstance(values.high, int):
            out[key] = IntDistribution(values.low, values.high, log=values.log)
        else:
            out[key] = FloatDistribution(float(values.low), float(values.high), log=values.log)
    return out


def search(problem: Problem, evaluate: Callable[[Sequence[Planned]], list[TrialResult]]) -> list[TrialResult]:
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize" if problem.greater_is_better else "minimize",
                                sampler=optuna.samplers.TPESampler(seed=problem.seed))
    dists = distributions(dict(problem.search.space))
    budget = problem.search.budget or 1
    results: list[TrialResult] = []
    while len(results) < budget:
        asked = [study.ask(dists) for _ in range(min(problem.search.parallel, budget - len(results)))]
        batch = evaluate([Planned(t.number, dict(t.params)) for t in asked])
        for trial, result in zip(asked, batch, strict=True):
            if result.ok:
                study.tell(trial, result.mean)
            else:
                study.tell(trial, state=TrialState.FAIL)
        results += batch
    return results
