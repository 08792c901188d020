"""Checks of a model's ``search`` that need no heavy import: the space fits the method, the metric the task.

Each problem is ``(path, message, at_key)``, the path relative to the spec's root, for :mod:`mlspec.checks` to
turn into located findings. Whether each space key is a param of the estimator needs the estimator imported:
``mlspec validate --data`` checks that (:mod:`mlspec.datacheck`), and the train stage again.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Mapping
from typing import Any

from mlspec.metrics import METRICS, metrics_for
from mlspec.spec import Search, SearchRange, Spec
from mlspec.suggest import did_you_mean

Path = tuple[str | int, ...]
Problem = tuple[Path, str, bool]


def check_search(spec: Spec, search: Search, params: Mapping[str, Any], at: Path) -> list[Problem]:
    out: list[Problem] = []
    for key, values in search.space.items():
        where = (*at, "space", key)
        if key in params:
            out.append((where, f"{key!r} is searched and also fixed in params; remove it from one of them", True))
        if isinstance(values, SearchRange):
            out += _range(search, values, where)
        else:
            out += [((*where, i), f"{v!r} is not a plain value (a string, number, true/false or null); a search "
                     "tries scalar values only", False) for i, v in enumerate(values) if not _scalar(v)]
    if search.method != "grid" and search.budget is None:
        out.append(((*at, "method"), f"a {search.method} search needs a budget: how many trials to run "
                    "(e.g. budget: 20)", False))
    if search.method == "optuna" and search.shards > 1:
        out.append(((*at, "shards"), "an optuna search cannot be split into shards: each trial depends on the "
                    "results before it; use shards: 1 (and parallel for trials at once), or method: random", False))
    elif search.method != "optuna":
        out += _shards(search, at)
    if search.method == "optuna" and importlib.util.find_spec("optuna") is None:
        out.append(((*at, "method"), "optuna is not installed here; `pip install 'mlspec-ci[search]'` (and list "
                    "it in ci.requirements for CI)", False))
    out += _metric(spec, search, at)
    return out


def grid_size(space: Mapping[str, Any]) -> int:
    """How many points the grid of ``space`` has (ranges count as one: checks refuse them in a grid)."""
    return math.prod(len(v) if isinstance(v, list) else 1 for v in space.values())


def trial_count(search: Search) -> int:
    """How many trials ``search`` runs: its budget, capped by the grid's size for a grid."""
    if search.method == "grid":
        size = grid_size(search.space)
        return size if search.budget is None else min(size, search.budget)
    assert search.budget is not None  # checks require one for random and optuna
    return search.budget


def _range(search: Search, r: SearchRange, where: Path) -> list[Problem]:
    if search.method == "grid":
        return [(where, "a grid search tries listed values, not a range {low, high}; list the values "
                 "(e.g. [0.1, 1, 10]) or use method: random or optuna", False)]
    if r.low >= r.high:
        return [((*where, "low"), f"low ({r.low}) must be below high ({r.high})", False)]
    if r.log and r.low <= 0:
        return [((*where, "low"), f"a log range needs low > 0, not {r.low}; log spaces values by their ratio",
                 False)]
    return []


def _shards(search: Search, at: Path) -> list[Problem]:
    if search.method != "grid" and search.budget is None:
        return []  # reported above
    trials = trial_count(search)
    if search.shards > trials:
        return [((*at, "shards"), f"{search.shards} shards for {trials} trials would leave shards with nothing to "
                 f"run; use at most shards: {trials}", False)]
    return []


def _metric(spec: Spec, search: Search, at: Path) -> list[Problem]:
    name = search.metric
    if name is None:
        return []
    usable = metrics_for(spec.task)
    where = (*at, "metric")
    if name not in METRICS:
        return [(where, f"unknown metric {name!r}" + (did_you_mean(name, usable) or
                 f"; metrics for {spec.task}: {', '.join(usable)}"), False)]
    if spec.task not in METRICS[name].tasks:
        return [(where, f"metric {name!r} does not apply to task {spec.task!r}; use one of: " + ", ".join(usable),
                 False)]
    return []


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
