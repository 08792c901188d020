"""The trials a search plans: every point of a grid in a fixed order, or seeded random draws.

A trial is a number (0-based, its place in the plan) and the params it tries. Grid points follow the order
of ``space`` as written, the last key varying fastest (as ``itertools.product`` and scikit-learn's
``ParameterGrid`` do), so a grid's trial numbers never depend on the machine. Random trial ``n`` is drawn
from a generator seeded by ``(training.seed, n)`` alone: raising ``budget`` keeps the first trials as they
were, so their cached results still count. Optuna's points come from its sampler instead (:mod:`.optuna`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlspec.searchcheck import trial_count
from mlspec.spec import Search, SearchRange


@dataclass(frozen=True)
class Planned:
    number: int
    params: dict[str, Any]


def plan(search: Search, seed: int) -> list[Planned]:
    """Every trial of a grid or random ``search``, in trial-number order."""
    if search.method == "grid":
        keys = list(search.space)
        values = [v if isinstance(v, list) else [v] for v in search.space.values()]
        points = itertools.islice(itertools.product(*values), trial_count(search))
        return [Planned(n, dict(zip(keys, p, strict=True))) for n, p in enumerate(points)]
    if search.method == "random":
        return [Planned(n, draw(search.space, seed, n)) for n in range(trial_count(search))]
    raise ValueError(f"{search.method} trials are not planned up front")


def draw(space: Mapping[str, list[Any] | SearchRange], seed: int, number: int) -> dict[str, Any]:
    """Random trial ``number``'s params: each key drawn in the order of ``space``."""
    import numpy as np

    rng = np.random.default_rng([seed, number])
    out: dict[str, Any] = {}
    for key, values in space.items():
        if isinstance(values, list):
            out[key] = values[int(rng.integers(len(values)))]
        elif _is_int(values):
            low, high = int(values.low), int(values.high)
            if values.log:
                out[key] = int(min(high, max(low, round(math.exp(rng.uniform(math.log(low), math.log(high)))))))
            else:
                out[key] = int(rng.integers(low, high + 1))
        elif values.log:
            out[key] = float(math.exp(rng.uniform(math.log(values.low), math.log(values.high))))
        else:
            out[key] = float(rng.uniform(values.low, values.high))
    return out


def _is_int(r: SearchRange) -> bool:
    return isinstance(r.low, int) and isinstance(r.high, int) and not isinstance(r.low, bool)
